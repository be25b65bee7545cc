# conform_embed(TARGET_VAR SYMBOL FILE): generates a C file that holds FILE's
# bytes as `const unsigned char SYMBOL[]` and `const size_t SYMBOL_len`, and
# appends its path to TARGET_VAR. The array is NUL-terminated (not counted in
# _len) so that text files can be used as C strings.
function(conform_embed out_var symbol file)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/embed_${symbol}.c)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DIN=${file} -DOUT=${out} -DSYMBOL=${symbol}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_file.cmake
    DEPENDS ${file} ${PROJECT_SOURCE_DIR}/cmake/embed_file.cmake
    COMMENT "Embedding ${file}")
  set(${out_var} ${${out_var}} ${out} PARENT_SCOPE)
endfunction()
