# kosapo_migrations(<target> NAMESPACE <c++ namespace> FUNCTION <name> DIR <dir>)
#
# Embeds a folder of versioned SQL migrations (NNNN_name.sql) into a static
# library exposing `const std::vector<kosapo::pg::Migration>& <ns>::<name>()`,
# so a service binary carries its own schema and needs no files at run time.
# The file list is globbed at configure time; CONFIGURE_DEPENDS re-globs when a
# migration is added.
function(kosapo_migrations target)
  cmake_parse_arguments(ARG "" "NAMESPACE;FUNCTION;DIR" "" ${ARGN})
  file(GLOB files CONFIGURE_DEPENDS "${ARG_DIR}/*.sql")
  list(SORT files)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${target}.cc")
  add_custom_command(
    OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND}
      "-DOUT=${out}" "-DNAMESPACE=${ARG_NAMESPACE}" "-DFUNCTION=${ARG_FUNCTION}"
      "-DFILES=${files}"
      -P "${PROJECT_SOURCE_DIR}/cmake/EmbedMigrations.cmake"
    DEPENDS ${files} "${PROJECT_SOURCE_DIR}/cmake/EmbedMigrations.cmake"
    COMMENT "embedding migrations for ${target}"
    VERBATIM)
  add_library(${target} STATIC "${out}")
  target_link_libraries(${target} PUBLIC kosapo_pg)
endfunction()
