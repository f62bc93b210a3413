// The directory-writer and page token checks.
#include "services/referral/api/call_checks.h"

#include "absl/strings/numbers.h"
#include "common/auth/authorize.h"

namespace kosapo::referral {

absl::Status RequireDirectoryWriter(const auth::Principal& principal) {
  return auth::RequireRole(principal, {auth::Role::kCityOperations},
                           "change the directory of supports");
}

MayWrite DirectoryWriter(const auth::Principal& principal) {
  return [&principal](absl::string_view municipality,
                      absl::string_view record) {
    return auth::RequireRecordOfMunicipality(principal, municipality, record);
  };
}

absl::StatusOr<int64_t> ParsePageToken(absl::string_view token) {
  if (token.empty()) {
    return 0;
  }
  int64_t after = 0;
  if (!absl::SimpleAtoi(token, &after) || after <= 0) {
    return absl::InvalidArgumentError(
        "page_token: not a token from a previous response");
  }
  return after;
}

}  // namespace kosapo::referral
