// The directory's entries: required fields named, hub details on hubs only,
// contract services, update masks and a hub's fixed code.
#include "services/referral/domain/directory_rules.h"

#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::referral {
namespace {

using ::kosapo::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

auto InvalidField(const std::string& field) {
  return StatusIs(kInvalid, StartsWith(field + ": "));
}

v1::Support Cafeteria() {
  v1::Support support;
  support.set_organization("organizations/1");
  support.set_display_name("みんなの食堂");
  support.set_category(v1::SUPPORT_CATEGORY_CHILDRENS_CAFETERIA);
  support.add_service_area_codes("27127");
  support.add_locations("locations/4");
  support.mutable_contact()->set_email("info@example.org");
  return support;
}

v1::Support Hub() {
  v1::Support support = Cafeteria();
  support.set_category(v1::SUPPORT_CATEGORY_DROP_IN_HUB);
  v1::HubDetails* hub = support.mutable_hub();
  hub->set_hub_code("H-BB");
  hub->set_daily_capacity(25);
  hub->add_offerings(v1::HUB_OFFERING_MEALS);
  for (const char* code : {"meal", "learning", "free_space"}) {
    v1::ContractService* service = hub->add_contract_services();
    service->set_code(code);
    service->set_display_name(code);
  }
  return support;
}

TEST(ValidateOrganization, NamesMissingFields) {
  v1::Organization organization;
  EXPECT_THAT(ValidateOrganization(organization),
              InvalidField("organization.display_name"));
  organization.set_display_name("北区社会福祉協議会");
  EXPECT_THAT(ValidateOrganization(organization),
              InvalidField("organization.kind"));
  organization.set_kind(v1::ORGANIZATION_KIND_AGENCY);
  EXPECT_OK(ValidateOrganization(organization));
  organization.mutable_contact()->set_email("not-an-address");
  EXPECT_THAT(ValidateOrganization(organization),
              InvalidField("organization.contact.email"));
}

TEST(ValidateLocation, NeedsOrganizationNameAndArea) {
  v1::Location location;
  location.set_organization("orgs/1");
  EXPECT_THAT(ValidateLocation(location),
              InvalidField("location.organization"));
  location.set_organization("organizations/1");
  location.set_display_name("本部");
  EXPECT_THAT(ValidateLocation(location), InvalidField("location.area_code"));
  location.set_area_code("27127");
  EXPECT_OK(ValidateLocation(location));
}

TEST(ValidateSupport, HubDetailsOnHubsOnly) {
  EXPECT_OK(ValidateSupport(Cafeteria()));
  EXPECT_OK(ValidateSupport(Hub()));
  v1::Support support = Cafeteria();
  support.set_category(v1::SUPPORT_CATEGORY_DROP_IN_HUB);
  EXPECT_THAT(ValidateSupport(support),
              StatusIs(kInvalid, "support.hub: required for a drop-in hub"));
  support = Hub();
  support.set_category(v1::SUPPORT_CATEGORY_NPO);
  EXPECT_THAT(ValidateSupport(support), InvalidField("support.hub"));
}

TEST(ValidateSupport, NamesTheBadListEntry) {
  v1::Support support = Cafeteria();
  support.add_service_area_codes("27127");
  EXPECT_THAT(
      ValidateSupport(support),
      StatusIs(kInvalid, "support.service_area_codes[1]: listed twice"));
  support = Cafeteria();
  support.add_locations("supports/2");
  EXPECT_THAT(ValidateSupport(support), InvalidField("support.locations[1]"));
  support = Cafeteria();
  support.set_category(v1::SUPPORT_CATEGORY_UNSPECIFIED);
  EXPECT_THAT(ValidateSupport(support), InvalidField("support.category"));
}

TEST(ValidateSupport, HubNeedsCapacityAndContractServices) {
  v1::Support support = Hub();
  support.mutable_hub()->set_daily_capacity(0);
  EXPECT_THAT(ValidateSupport(support),
              InvalidField("support.hub.daily_capacity"));
  support = Hub();
  support.mutable_hub()->clear_contract_services();
  EXPECT_THAT(ValidateSupport(support),
              InvalidField("support.hub.contract_services"));
  support = Hub();
  support.mutable_hub()->mutable_contract_services(1)->set_code("meal");
  EXPECT_THAT(ValidateSupport(support),
              StatusIs(kInvalid,
                       "support.hub.contract_services[1].code: listed twice"));
  support.mutable_hub()->mutable_contract_services(1)->set_code("Learning");
  EXPECT_THAT(ValidateSupport(support),
              InvalidField("support.hub.contract_services[1].code"));
  support = Hub();
  support.mutable_hub()->set_hub_code("");
  EXPECT_THAT(ValidateSupport(support), InvalidField("support.hub.hub_code"));
  support = Hub();
  support.mutable_hub()->add_offerings(v1::HUB_OFFERING_MEALS);
  EXPECT_THAT(ValidateSupport(support),
              InvalidField("support.hub.offerings[1]"));
}

TEST(ValidateUpdateMask, KnownPathsOnly) {
  EXPECT_OK(ValidateUpdateMask({"display_name", "hub"}, SupportUpdatePaths()));
  EXPECT_THAT(ValidateUpdateMask({}, SupportUpdatePaths()),
              InvalidField("update_mask"));
  EXPECT_THAT(ValidateUpdateMask({"organization"}, SupportUpdatePaths()),
              StatusIs(kInvalid, HasSubstr("\"organization\" cannot be")));
  EXPECT_THAT(ValidateUpdateMask({"area_code"}, OrganizationUpdatePaths()),
              InvalidField("update_mask"));
  EXPECT_OK(ValidateUpdateMask({"area_code"}, LocationUpdatePaths()));
}

TEST(CheckHubCodeKept, AHubKeepsItsCode) {
  const v1::Support before = Hub();
  v1::Support after = before;
  after.mutable_hub()->set_daily_capacity(30);
  EXPECT_OK(CheckHubCodeKept(before, after));
  after.mutable_hub()->set_hub_code("H-NEW");
  EXPECT_THAT(CheckHubCodeKept(before, after),
              StatusIs(kInvalid, HasSubstr("keeps its code (H-BB)")));
  EXPECT_OK(CheckHubCodeKept(Cafeteria(), Hub()));  // becoming a hub
}

}  // namespace
}  // namespace kosapo::referral
