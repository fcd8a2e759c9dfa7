# dzong_embed(<target> <symbol> <files...>): compiles files (migrations, seed
# data, the API description) into the binary, so that `dzong` runs from any
# directory with nothing beside it. The generated source defines
#   std::span<const dzong::EmbeddedFile> <symbol>();
# with the files in the order given.
function(dzong_embed target symbol)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${symbol}_embedded.cpp")
  set(body "#include \"base/embedded.h\"\nnamespace dzong {\nnamespace {\n")
  set(table "")
  set(i 0)
  foreach(file IN LISTS ARGN)
    get_filename_component(abs "${file}" ABSOLUTE)
    get_filename_component(name "${file}" NAME)
    file(READ "${abs}" content)
    string(APPEND body "constexpr char k${symbol}${i}[] = R\"dzong_embed(${content})dzong_embed\";\n")
    string(APPEND table "  {\"${name}\", {k${symbol}${i}, sizeof(k${symbol}${i}) - 1}},\n")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${abs}")
    math(EXPR i "${i} + 1")
  endforeach()
  string(APPEND body "constexpr EmbeddedFile kTable[] = {\n${table}};\n}  // namespace\n")
  string(APPEND body "std::span<const EmbeddedFile> ${symbol}() { return kTable; }\n}  // namespace dzong\n")
  file(GENERATE OUTPUT "${out}" CONTENT "${body}")
  target_sources(${target} PRIVATE "${out}")
endfunction()
