// Validation of directory entries and their updates.
#include "services/referral/domain/directory_rules.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/referral/domain/fields.h"
#include "services/referral/domain/schedule.h"

namespace kosapo::referral {
namespace {

absl::Status ValidateContact(const v1::Contact& contact,
                             absl::string_view field) {
  const std::string f(field);
  if (absl::Status s = ValidateText(contact.desk(), 200, false, f + ".desk");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateText(contact.phone(), 30, false, f + ".phone");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateText(contact.fax(), 30, false, f + ".fax");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateText(contact.email(), 200, false, f + ".email");
      !s.ok()) {
    return s;
  }
  if (!contact.email().empty() &&
      contact.email().find('@') == std::string::npos) {
    return Invalid(f + ".email", "not an e-mail address");
  }
  return ValidateText(contact.url(), 200, false, f + ".url");
}

bool IsContractCode(absl::string_view code) {
  return !code.empty() && code.size() <= 40 &&
         std::all_of(code.begin(), code.end(), [](char c) {
           return absl::ascii_islower(static_cast<unsigned char>(c)) ||
                  absl::ascii_isdigit(static_cast<unsigned char>(c)) ||
                  c == '_';
         });
}

absl::Status ValidateHub(const v1::HubDetails& hub) {
  if (absl::Status s = ValidateCode(hub.hub_code(), 40, "support.hub.hub_code");
      !s.ok()) {
    return s;
  }
  if (hub.daily_capacity() < 1 || hub.daily_capacity() > 1000) {
    return Invalid("support.hub.daily_capacity", "1-1000 places a day");
  }
  std::set<int> offerings;
  for (int i = 0; i < hub.offerings_size(); ++i) {
    const std::string f = absl::StrCat("support.hub.offerings[", i, "]");
    if (hub.offerings(i) == v1::HUB_OFFERING_UNSPECIFIED ||
        !v1::HubOffering_IsValid(hub.offerings(i))) {
      return Invalid(f, "unknown offering");
    }
    if (!offerings.insert(hub.offerings(i)).second) {
      return Invalid(f, "listed twice");
    }
  }
  if (absl::Status s = ValidateOpeningHours(
          hub.school_holiday_schedule(), "support.hub.school_holiday_schedule");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateHolidayPeriods(hub.school_holidays(),
                                              "support.hub.school_holidays");
      !s.ok()) {
    return s;
  }
  if (hub.contract_services().empty() || hub.contract_services_size() > 20) {
    return Invalid("support.hub.contract_services",
                   "1-20 services the contract requires to report");
  }
  std::set<std::string> codes;
  for (int i = 0; i < hub.contract_services_size(); ++i) {
    const v1::ContractService& service = hub.contract_services(i);
    const std::string f =
        absl::StrCat("support.hub.contract_services[", i, "]");
    if (!IsContractCode(service.code())) {
      return Invalid(f + ".code",
                     "1-40 lower-case letters, digits or \"_\", e.g. meal");
    }
    if (!codes.insert(service.code()).second) {
      return Invalid(f + ".code", "listed twice");
    }
    if (absl::Status s = ValidateText(service.display_name(), 200, true,
                                      f + ".display_name");
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateOrganization(const v1::Organization& organization) {
  if (absl::Status s = ValidateText(organization.display_name(), 200, true,
                                    "organization.display_name");
      !s.ok()) {
    return s;
  }
  if (organization.kind() == v1::ORGANIZATION_KIND_UNSPECIFIED ||
      !v1::OrganizationKind_IsValid(organization.kind())) {
    return Invalid("organization.kind", "required: public, agency or local");
  }
  if (absl::Status s = ValidateText(organization.description(), 2000, false,
                                    "organization.description");
      !s.ok()) {
    return s;
  }
  return ValidateContact(organization.contact(), "organization.contact");
}

absl::Status ValidateLocation(const v1::Location& location) {
  if (absl::Status s =
          ParseResourceName(location.organization(), kOrganizations,
                            "location.organization")
              .status();
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateText(location.display_name(), 200, true,
                                    "location.display_name");
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          ValidateText(location.address(), 300, false, "location.address");
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          ValidateCode(location.area_code(), 20, "location.area_code");
      !s.ok()) {
    return s;
  }
  return ValidateText(location.description(), 1000, false,
                      "location.description");
}

absl::Status ValidateSupport(const v1::Support& support) {
  if (absl::Status s = ParseResourceName(support.organization(), kOrganizations,
                                         "support.organization")
                           .status();
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateText(support.display_name(), 200, true,
                                    "support.display_name");
      !s.ok()) {
    return s;
  }
  if (support.category() == v1::SUPPORT_CATEGORY_UNSPECIFIED ||
      !v1::SupportCategory_IsValid(support.category())) {
    return Invalid("support.category", "required");
  }
  if (absl::Status s = ValidateText(support.description(), 2000, false,
                                    "support.description");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateText(support.eligibility(), 2000, false,
                                    "support.eligibility");
      !s.ok()) {
    return s;
  }
  if (support.service_area_codes_size() > 100) {
    return Invalid("support.service_area_codes", "at most 100 areas");
  }
  std::set<std::string> areas;
  for (int i = 0; i < support.service_area_codes_size(); ++i) {
    const std::string f = absl::StrCat("support.service_area_codes[", i, "]");
    if (absl::Status s = ValidateCode(support.service_area_codes(i), 20, f);
        !s.ok()) {
      return s;
    }
    if (!areas.insert(support.service_area_codes(i)).second) {
      return Invalid(f, "listed twice");
    }
  }
  if (support.locations_size() > 50) {
    return Invalid("support.locations", "at most 50 locations");
  }
  for (int i = 0; i < support.locations_size(); ++i) {
    if (absl::Status s =
            ParseResourceName(support.locations(i), kLocations,
                              absl::StrCat("support.locations[", i, "]"))
                .status();
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = ValidateContact(support.contact(), "support.contact");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateOpeningHours(support.weekly_schedule(),
                                            "support.weekly_schedule");
      !s.ok()) {
    return s;
  }
  const bool is_hub = support.category() == v1::SUPPORT_CATEGORY_DROP_IN_HUB;
  if (is_hub != support.has_hub()) {
    return Invalid("support.hub", is_hub ? "required for a drop-in hub"
                                         : "only for category drop-in hub");
  }
  return is_hub ? ValidateHub(support.hub()) : absl::OkStatus();
}

const std::set<std::string>& OrganizationUpdatePaths() {
  static const auto* const kPaths = new std::set<std::string>{
      "display_name", "kind", "description", "contact"};
  return *kPaths;
}

const std::set<std::string>& LocationUpdatePaths() {
  static const auto* const kPaths = new std::set<std::string>{
      "display_name", "address", "area_code", "description"};
  return *kPaths;
}

const std::set<std::string>& SupportUpdatePaths() {
  static const auto* const kPaths = new std::set<std::string>{
      "display_name", "category",           "description",
      "eligibility",  "service_area_codes", "locations",
      "contact",      "weekly_schedule",    "hub"};
  return *kPaths;
}

absl::Status ValidateUpdateMask(const std::vector<std::string>& paths,
                                const std::set<std::string>& allowed) {
  if (paths.empty()) {
    return Invalid("update_mask", "name at least one field to change");
  }
  for (const std::string& path : paths) {
    if (allowed.count(path) == 0) {
      return Invalid("update_mask",
                     absl::StrCat("\"", path, "\" cannot be changed; one of ",
                                  absl::StrJoin(allowed, ", ")));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckHubCodeKept(const v1::Support& before,
                              const v1::Support& after) {
  if (before.has_hub() && after.hub().hub_code() != before.hub().hub_code()) {
    return Invalid(
        "support.hub.hub_code",
        absl::StrCat("a hub keeps its code (", before.hub().hub_code(), ")"));
  }
  return absl::OkStatus();
}

}  // namespace kosapo::referral
