// Checks a handler makes on the caller's principal before acting. The full
// per-method permission matrix is declared apart (see README); these are the
// building blocks: role and scope.
#ifndef KOSAPO_COMMON_AUTH_AUTHORIZE_H_
#define KOSAPO_COMMON_AUTH_AUTHORIZE_H_

#include <initializer_list>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/auth/principal.h"

namespace kosapo::auth {

// PERMISSION_DENIED unless the principal has one of `roles`. `action` says
// what was refused ("load enrollment").
absl::Status RequireRole(const Principal& principal,
                         std::initializer_list<Role> roles,
                         absl::string_view action);

// PERMISSION_DENIED unless the principal acts for `municipality_code`.
// Services act for every municipality. For a municipality the caller named
// (a request's parent); for a record found by a global id, use
// RequireRecordOfMunicipality.
absl::Status RequireMunicipality(const Principal& principal,
                                 absl::string_view municipality_code);

// For a record found by an id that every municipality shares (cases/12,
// referrals/7, hubUsages/3): NOT_FOUND "<record_name> not found", word for
// word as for an id that does not exist, unless the principal acts for the
// record's `municipality_code`. A PERMISSION_DENIED there would tell a
// caller which ids exist in other cities.
absl::Status RequireRecordOfMunicipality(const Principal& principal,
                                         absl::string_view municipality_code,
                                         absl::string_view record_name);

}  // namespace kosapo::auth

#endif  // KOSAPO_COMMON_AUTH_AUTHORIZE_H_
