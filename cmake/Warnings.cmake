# Warnings are errors for the project's own code; third-party headers come
# in as system headers and are not judged.
add_library(dzong_warnings INTERFACE)
target_compile_options(dzong_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror
  -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  -Wnull-dereference -Wimplicit-fallthrough -Wformat=2)
