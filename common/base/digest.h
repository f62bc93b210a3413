// Content fingerprints.
#ifndef KOSAPO_COMMON_BASE_DIGEST_H_
#define KOSAPO_COMMON_BASE_DIGEST_H_

#include <string>

#include "absl/strings/string_view.h"

namespace kosapo {

// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(absl::string_view data);

}  // namespace kosapo

#endif  // KOSAPO_COMMON_BASE_DIGEST_H_
