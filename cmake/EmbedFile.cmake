# Script mode: writes OUT, a C++ file defining
# `absl::string_view NAMESPACE::FUNCTION()` that returns the bytes of FILE.
# Called by kosapo_embed_file() in KosapoMigrations.cmake.
file(READ "${FILE}" content)
if(content MATCHES "\\)kosapo_data\"")
  message(FATAL_ERROR "${FILE} contains the raw-string delimiter")
endif()
file(WRITE "${OUT}.tmp" "// Generated from ${FILE} by cmake/EmbedFile.cmake.
#include \"absl/strings/string_view.h\"

namespace ${NAMESPACE} {

absl::string_view ${FUNCTION}() {
  static constexpr char kData[] = R\"kosapo_data(${content})kosapo_data\";
  return absl::string_view(kData, sizeof(kData) - 1);
}

}  // namespace ${NAMESPACE}
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
