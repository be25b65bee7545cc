# Script mode helper for conform_embed(): writes IN as a C byte array to OUT.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" hexlen)
math(EXPR len "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE ${OUT} "/* Generated from ${IN}; do not edit. */\n#include <stddef.h>\n")
file(APPEND ${OUT} "const unsigned char ${SYMBOL}[] = {\n${bytes}0x00};\n")
file(APPEND ${OUT} "const size_t ${SYMBOL}_len = ${len};\n")
