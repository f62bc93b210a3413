#include "services/case/api/call_checks.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth/authorize.h"
#include "common/base/status.h"

namespace kosapo::cases {
namespace {

absl::Status OutOfScope(const auth::Principal& principal,
                        const CaseScope& scope) {
  KOSAPO_RETURN_IF_ERROR(RequireOwnMunicipality(principal, scope));
  return absl::PermissionDeniedError(
      absl::StrCat("this case belongs to area ", scope.area_code,
                   ", which is outside your scope; ask its ward"));
}

}  // namespace

absl::Status RequireOwnMunicipality(const auth::Principal& principal,
                                    const CaseScope& scope) {
  return auth::RequireRecordOfMunicipality(principal, scope.municipality,
                                           CaseName(scope.case_id));
}

Authorize RequireFullAccess(const auth::Principal& principal) {
  return [&principal](const CaseScope& scope) -> absl::StatusOr<Access> {
    if (AccessTo(principal, scope) != Access::kFull) {
      return OutOfScope(principal, scope);
    }
    return Access::kFull;
  };
}

Authorize AllowChildAccess(const auth::Principal& principal) {
  return [&principal](const CaseScope& scope) -> absl::StatusOr<Access> {
    const Access access = AccessTo(principal, scope);
    if (access == Access::kNone) {
      return OutOfScope(principal, scope);
    }
    return access;
  };
}

absl::StatusOr<std::pair<int64_t, int64_t>> ParsePageToken(
    absl::string_view token) {
  if (token.empty()) {
    return std::make_pair(int64_t{0}, int64_t{0});
  }
  const std::vector<absl::string_view> parts = absl::StrSplit(token, ':');
  int64_t first = 0;
  int64_t second = 0;
  if (parts.size() == 1 && absl::SimpleAtoi(parts[0], &first) && first > 0) {
    return std::make_pair(first, int64_t{0});
  }
  if (parts.size() == 2 && absl::SimpleAtoi(parts[0], &first) &&
      absl::SimpleAtoi(parts[1], &second) && second > 0) {
    return std::make_pair(first, second);
  }
  return absl::InvalidArgumentError(
      "page_token: not a token from a previous response");
}

}  // namespace kosapo::cases
