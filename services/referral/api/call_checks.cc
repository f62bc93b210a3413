// The directory-writer and page token checks.
#include "services/referral/api/call_checks.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth/authorize.h"
#include "common/base/proto_time.h"

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

std::string CreatedPageToken(const google::protobuf::Timestamp& create_time,
                             int64_t id) {
  return absl::StrCat(TimestampMicros(create_time), "_", id);
}

absl::StatusOr<CreatedAfter> ParseCreatedPageToken(absl::string_view token) {
  CreatedAfter after;
  if (token.empty()) {
    return after;
  }
  const std::vector<absl::string_view> parts = absl::StrSplit(token, '_');
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &after.create_us) ||
      !absl::SimpleAtoi(parts[1], &after.id) || after.id <= 0) {
    return absl::InvalidArgumentError(
        "page_token: not a token from a previous response");
  }
  return after;
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
