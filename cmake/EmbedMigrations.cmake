# Script mode: writes OUT, a C++ file holding every file of FILES as a
# kosapo::pg::Migration. Called by kosapo_migrations().
set(body "")
foreach(file IN LISTS FILES)
  get_filename_component(name "${file}" NAME)
  if(NOT name MATCHES "^([0-9]+)_([a-z0-9_]+)\\.sql$")
    message(FATAL_ERROR "migration file name must be NNNN_snake_name.sql: ${name}")
  endif()
  math(EXPR version "${CMAKE_MATCH_1}")
  file(READ "${file}" sql)
  if(sql MATCHES "\\)kosapo_sql\"")
    message(FATAL_ERROR "${name} contains the raw-string delimiter")
  endif()
  string(APPEND body "      {${version}, \"${name}\", R\"kosapo_sql(${sql})kosapo_sql\"},\n")
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from migrations/*.sql by cmake/EmbedMigrations.cmake.
#include <vector>

#include \"common/pg/migrations.h\"

namespace ${NAMESPACE} {

const std::vector<kosapo::pg::Migration>& ${FUNCTION}() {
  static const auto* const kMigrations = new std::vector<kosapo::pg::Migration>{
${body}  };
  return *kMigrations;
}

}  // namespace ${NAMESPACE}
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
