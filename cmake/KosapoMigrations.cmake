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

# kosapo_embed_file(<target> NAMESPACE <c++ ns> FUNCTION <name> FILE <path>)
#
# Embeds a data file (e.g. the default screening template) in a static
# library as `absl::string_view <ns>::<name>()`: data stays data, and the
# binary needs no files at run time.
function(kosapo_embed_file target)
  cmake_parse_arguments(ARG "" "NAMESPACE;FUNCTION;FILE" "" ${ARGN})
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${target}.cc")
  add_custom_command(
    OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND}
      "-DOUT=${out}" "-DNAMESPACE=${ARG_NAMESPACE}" "-DFUNCTION=${ARG_FUNCTION}"
      "-DFILE=${ARG_FILE}"
      -P "${PROJECT_SOURCE_DIR}/cmake/EmbedFile.cmake"
    DEPENDS "${ARG_FILE}" "${PROJECT_SOURCE_DIR}/cmake/EmbedFile.cmake"
    COMMENT "embedding ${ARG_FILE}"
    VERBATIM)
  add_library(${target} STATIC "${out}")
  target_link_libraries(${target} PUBLIC absl::strings)
endfunction()
