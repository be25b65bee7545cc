# Picky warnings, all fatal (STYLE.md, habit 13).
add_compile_options(
  -Wall -Wextra -Werror
  -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wcast-qual
  -Wpointer-arith -Wvla -Wundef -Wnull-dereference
  -Wno-missing-field-initializers  # a partly initialised table row is zero-filled, by design
  -D_GNU_SOURCE
)
