// Checks of single input fields that every referral rule uses: free text,
// resource names and staff-chosen business dates. Each error is
// INVALID_ARGUMENT and starts with the field's name ("referral.case: ...").
#ifndef KOSAPO_SERVICES_REFERRAL_DOMAIN_FIELDS_H_
#define KOSAPO_SERVICES_REFERRAL_DOMAIN_FIELDS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/types/text.h"
#include "kosapo/type/date.pb.h"

namespace kosapo::referral {

// Collections of the referral service's resource names, and the case
// service's cases.
inline constexpr char kOrganizations[] = "organizations";
inline constexpr char kLocations[] = "locations";
inline constexpr char kSupports[] = "supports";
inline constexpr char kReferrals[] = "referrals";
inline constexpr char kHubUsages[] = "hubUsages";
inline constexpr char kCases[] = "cases";

// INVALID_ARGUMENT "field: problem".
absl::Status Invalid(absl::string_view field, absl::string_view problem);

// Free text of at most `max_chars` characters (UTF-8 code points); when
// `required`, not blank (common/types/text.h).
using ::kosapo::ValidateText;

// A code (area, hub): 1-`max_chars` ASCII letters, digits, "-" and "_".
absl::Status ValidateCode(absl::string_view code, size_t max_chars,
                          absl::string_view field);

// "{collection}/{id}" and back; the id is a positive decimal without
// leading zeros.
std::string ResourceName(absl::string_view collection, int64_t id);
absl::StatusOr<int64_t> ParseResourceName(absl::string_view name,
                                          absl::string_view collection,
                                          absl::string_view field);
// NOT_FOUND for a hub code that is not in the directory, naming `field`;
// also the answer for another municipality's hub, so that hub codes do not
// tell which exist elsewhere.
absl::Status NoSuchHub(absl::string_view field, absl::string_view hub_code);
// "hubUsages/{usage}/visits/{n}".
std::string VisitName(int64_t usage_id, int64_t n);

// A staff-chosen business date: a valid date, not after `today`, and not
// before `not_before` (with what it is, e.g. "the referral was sent").
absl::StatusOr<absl::CivilDay> EffectiveDate(const kosapo::type::Date& date,
                                             absl::string_view field,
                                             absl::CivilDay today,
                                             absl::CivilDay not_before,
                                             absl::string_view not_before_what);
// As above without a lower bound.
absl::StatusOr<absl::CivilDay> EffectiveDate(const kosapo::type::Date& date,
                                             absl::string_view field,
                                             absl::CivilDay today);

}  // namespace kosapo::referral

#endif  // KOSAPO_SERVICES_REFERRAL_DOMAIN_FIELDS_H_
