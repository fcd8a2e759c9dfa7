# Use ccache when the machine has it: rebuilds after a branch switch cost seconds.
find_program(DZONG_CCACHE ccache)
if(DZONG_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${DZONG_CCACHE})
endif()
