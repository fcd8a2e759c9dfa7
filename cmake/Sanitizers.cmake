# Debug builds run with AddressSanitizer and UndefinedBehaviorSanitizer.
option(DZONG_SANITIZE "Build with ASan and UBSan" OFF)
if(CMAKE_BUILD_TYPE STREQUAL "Debug")
  set(DZONG_SANITIZE ON)
endif()
if(DZONG_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
