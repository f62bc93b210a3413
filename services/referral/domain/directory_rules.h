// The rules of the directory of supports: what an organization, a location
// and a support (with a drop-in hub's details) must hold, and which fields
// an update may change.
#ifndef KOSAPO_SERVICES_REFERRAL_DOMAIN_DIRECTORY_RULES_H_
#define KOSAPO_SERVICES_REFERRAL_DOMAIN_DIRECTORY_RULES_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "kosapo/referral/v1/referral.pb.h"

namespace kosapo::referral {

// The fields each kind of entry is validated under ("organization",
// "location", "support") and the fields its update may change.
absl::Status ValidateOrganization(const v1::Organization& organization);
absl::Status ValidateLocation(const v1::Location& location);
// The whole support, hub details included: a drop-in hub has them and
// nothing else does.
absl::Status ValidateSupport(const v1::Support& support);

const std::set<std::string>& OrganizationUpdatePaths();
const std::set<std::string>& LocationUpdatePaths();
const std::set<std::string>& SupportUpdatePaths();

// At least one path, each among `allowed`.
absl::Status ValidateUpdateMask(const std::vector<std::string>& paths,
                                const std::set<std::string>& allowed);

// An update may not change a hub's code once set: staff tokens and the case
// service's enrollments name it.
absl::Status CheckHubCodeKept(const v1::Support& before,
                              const v1::Support& after);

}  // namespace kosapo::referral

#endif  // KOSAPO_SERVICES_REFERRAL_DOMAIN_DIRECTORY_RULES_H_
