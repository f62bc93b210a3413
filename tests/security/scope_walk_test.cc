// The permission matrix's second wall, walked against the four running
// services: every RPC with every role the matrix lets through, once on a
// record in the caller's scope (OK) and once on each record just outside it
// (PERMISSION_DENIED), and on a record that does not exist (NOT_FOUND).
// permission_wall_test covers the roles the matrix refuses outright.
//
// The world is built once through the public APIs, in two municipalities
// alike: two areas (wards) A1 and A2, a school in each (S1, S2) with a pupil
// extracted by its screening meeting I, the case the case service opens
// from each extraction (assigned by a conference to the case worker and the
// consultation desk of that side), a drop-in hub per area with the child of
// that side's case enrolled, a referral and an urgent report per case. Both
// municipalities use the same area and school codes and the same user
// subjects, so a call into the other municipality differs from an in-scope
// call in its municipality alone.
//
// The caller is always the "a" person of municipality 1 (areas A1, school
// S1, hub of A1, subject user:<role>-a). "own" is side a of municipality 1;
// "sibling" is side b of municipality 1 (A2, S2, the case assigned to
// user:<role>-b, the hub of A2); "foreign" is side a of municipality 2.
// Around every refused call no service's event feed may move (nothing was
// written), and no in-scope answer may name a record out of scope (for
// aggregates: any child's record).
//
// Beside the walk: request ids replayed by another user, writes on
// out-of-scope records in the wrong state (refused for scope, not state),
// what a hub operator sees of a case, and ListReferrals' own referrals.
#include <grpcpp/client_context.h>

#include <atomic>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/auth/permissions.h"
#include "common/testing/pg_cluster.h"
#include "common/types/api_types.h"
#include "gtest/gtest.h"
#include "kosapo/cases/v1/cases.grpc.pb.h"
#include "kosapo/events/v1/events.grpc.pb.h"
#include "kosapo/referral/v1/referral.grpc.pb.h"
#include "kosapo/reporting/v1/reporting.grpc.pb.h"
#include "kosapo/screening/v1/screening.grpc.pb.h"
#include "tests/security/four_services.h"

namespace kosapo {
namespace {

namespace sv1 = ::kosapo::screening::v1;
namespace cv1 = ::kosapo::cases::v1;
namespace rv1 = ::kosapo::referral::v1;
namespace pv1 = ::kosapo::reporting::v1;
using ::kosapo::testing::FourServices;
using Role = ::kosapo::auth::Role;
using Scope = ::kosapo::auth::Scope;

constexpr char kServiceName[] = "scope-walk";
constexpr char kMissingId[] = "987654321";

// A failure while building the world or a call's own records: the call is
// not made, and the test fails naming it.
struct FixtureError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void Ok(const grpc::Status& status, const std::string& what) {
  if (!status.ok()) {
    throw FixtureError(absl::StrCat(what, ": ", status.error_code(), " ",
                                    status.error_message()));
  }
}

// One side of a municipality: an area and everything in it.
struct Place {
  std::string area;
  std::string school;
  std::string hub;
  std::string pupil;
  std::string sheet;
  std::string meeting;
  std::string decision;
  std::string case_name;  // opened from the extraction
  std::string usage;      // the case's child at `hub`, approved and visiting
  std::string referral;
  std::string urgent;
};

struct City {
  std::string code;
  std::string parent;
  std::string tmpl;  // the city's own template (a copy of the default)
  std::string round;
  std::string organization;
  std::string location;
  std::string support;
  Place place[2];
};

enum class Where { kOwn, kSibling, kForeign, kMissing };

const char* WhereName(Where where) {
  switch (where) {
    case Where::kOwn:
      return "own";
    case Where::kSibling:
      return "sibling";
    case Where::kForeign:
      return "foreign";
    case Where::kMissing:
      return "missing";
  }
  return "?";
}

// The records a call is made on.
struct Target {
  Where where;
  const City* city;
  int side;
  const Place& p() const { return city->place[side]; }
  bool missing() const { return where == Where::kMissing; }
};

bool Desk(Role role) {
  return role == Role::kCaseWorker || role == Role::kConsultationDesk;
}

class ScopeWalkTest : public testing::FourServicesTest {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();

  // A person of `city`'s side `side`: user:<role>-a or -b, with that side's
  // area, school and hub.
  static auth::Principal Person(Role role, const City& city, int side) {
    auth::Principal principal;
    principal.role = role;
    principal.subject =
        role == Role::kService
            ? absl::StrCat("service:", kServiceName)
            : absl::StrCat("user:", std::string(auth::RoleName(role)), "-",
                           side == 0 ? "a" : "b");
    principal.municipality = city.code;
    principal.areas = {city.place[side].area};
    principal.schools = {city.place[side].school};
    principal.hubs = {city.place[side].hub};
    return principal;
  }
  // Someone of `city` who builds the world, over both sides.
  static auth::Principal Staff(Role role, const City& city) {
    auth::Principal principal;
    principal.role = role;
    principal.subject =
        absl::StrCat("user:fixture-", std::string(auth::RoleName(role)));
    principal.municipality = city.code;
    for (const Place& place : city.place) {
      principal.areas.push_back(place.area);
      principal.schools.push_back(place.school);
      principal.hubs.push_back(place.hub);
    }
    return principal;
  }
  static std::unique_ptr<grpc::ClientContext> As(
      const auth::Principal& principal) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", "Bearer " + tokens_->Sign(principal));
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(10));
    return context;
  }

  static std::string RequestId() {
    static std::atomic<int> next{0};
    return absl::StrCat("walk-", ++next);
  }
  // A kana name no other child has, so that no case is a possible
  // duplicate of another.
  static std::string UniqueKana() {
    static std::atomic<int> next{0};
    static const char* const kDigits[] = {"あ", "い", "う", "え", "お",
                                          "か", "き", "く", "け", "こ"};
    std::string kana = "てすと";
    for (int n = ++next; n > 0; n /= 10) {
      kana += kDigits[n % 10];
    }
    return kana;
  }

  static void BuildWorld();
  static void BuildCity(City& city);
  static void BuildCases(City& city);
  static void BuildHubsAndReferrals(City& city);

  // A case opened for this call on `t`'s side: by `role` itself when it is
  // a case worker or the desk (so it is assigned to them), else by the
  // side's consultation desk. The side's area and school; youtaikyo makes
  // the case worker its lead.
  static std::string FreshCase(const Target& t, Role role,
                               bool youtaikyo = false);
  // How far a hub usage is taken: applied; assessed; approved; the
  // interview and a plan; a visit today.
  enum UsageStage { kApplied, kAssessed, kApproved, kPlanned, kVisited };
  // A hub usage of a fresh case at `t`'s hub, taken to `stage`. `role`
  // opens the case as in FreshCase when it is a case worker or the desk,
  // else the lead does; the opener applies and, leading, assesses.
  static std::string FreshUsage(const Target& t, Role role, UsageStage stage,
                                bool youtaikyo = false);
  // The same for `case_name`, applied and assessed by `lead`, a person of
  // `t`'s side assigned to the case and holding its lead role.
  static std::string UsageOf(const Target& t, const std::string& case_name,
                             Role lead, UsageStage stage);
  // A proposed referral of a fresh case on `t`'s side (FreshCase), made
  // by the case's opener: one referral of a case to a support may be open
  // at a time.
  static std::string FreshReferral(const Target& t, Role role);
  // A proposed referral of `case_name` to `t`'s support, made by `by`.
  static std::string ReferralOf(const Target& t, const std::string& case_name,
                                const auth::Principal& by);
  // An unacknowledged urgent report on `t`'s case.
  static std::string FreshUrgentReport(const Target& t);

  static sv1::ScreeningService::Stub& Screening() { return *screening_; }
  static cv1::CaseService::Stub& Cases() { return *cases_; }
  static rv1::ReferralService::Stub& Referrals() { return *referrals_; }

  static City* cities_;  // [2]
  static City* missing_;
  static absl::CivilDay* today_;
  static std::unique_ptr<sv1::ScreeningService::Stub> screening_;
  static std::unique_ptr<cv1::CaseService::Stub> cases_;
  static std::unique_ptr<rv1::ReferralService::Stub> referrals_;
  static std::string* setup_error_;
};

City* ScopeWalkTest::cities_ = nullptr;
City* ScopeWalkTest::missing_ = nullptr;
absl::CivilDay* ScopeWalkTest::today_ = nullptr;
std::unique_ptr<sv1::ScreeningService::Stub> ScopeWalkTest::screening_;
std::unique_ptr<cv1::CaseService::Stub> ScopeWalkTest::cases_;
std::unique_ptr<rv1::ReferralService::Stub> ScopeWalkTest::referrals_;
std::string* ScopeWalkTest::setup_error_ = nullptr;

kosapo::type::Date Today() {
  return DateToProto(*DayIn(absl::Now(), "Asia/Tokyo"));
}

void ScopeWalkTest::SetUpTestSuite() {
  FourServicesTest::SetUpTestSuite();
  if (services_ == nullptr) {
    return;
  }
  screening_ =
      sv1::ScreeningService::NewStub(services_->at("screening").channel());
  cases_ = cv1::CaseService::NewStub(services_->at("case").channel());
  referrals_ =
      rv1::ReferralService::NewStub(services_->at("referral").channel());
  today_ = new absl::CivilDay(*DayIn(absl::Now(), "Asia/Tokyo"));
  cities_ = new City[2];
  missing_ = new City;
  try {
    BuildWorld();
  } catch (const FixtureError& error) {
    setup_error_ = new std::string(error.what());
  }
}

void ScopeWalkTest::TearDownTestSuite() {
  screening_.reset();
  cases_.reset();
  referrals_.reset();
  delete[] cities_;
  cities_ = nullptr;
  delete missing_;
  missing_ = nullptr;
  delete today_;
  today_ = nullptr;
  delete setup_error_;
  setup_error_ = nullptr;
  FourServicesTest::TearDownTestSuite();
}

void ScopeWalkTest::BuildWorld() {
  for (int c = 0; c < 2; ++c) {
    City& city = cities_[c];
    city.code = c == 0 ? "27801" : "27802";
    city.parent = absl::StrCat("municipalities/", city.code);
    for (int s = 0; s < 2; ++s) {
      Place& place = city.place[s];
      place.area = s == 0 ? "A1" : "A2";
      place.school = s == 0 ? "S1" : "S2";
      place.hub = absl::StrCat("hub-", city.code, "-", s);
      place.pupil = s == 0 ? "P1" : "P2";
    }
    BuildCity(city);
  }
  // The case service opens a case per extraction from the screening feed:
  // wait until it has read the feed up to its head, then find them.
  if (absl::Status read = testing::WaitForConsumer(
          testing::SharedPgCluster(), "case", "screening",
          services_->at("screening"), *tokens_, absl::Seconds(60));
      !read.ok()) {
    throw FixtureError(
        absl::StrCat("case reading screening's feed: ", read.ToString()));
  }
  for (int c = 0; c < 2; ++c) {
    BuildCases(cities_[c]);
    BuildHubsAndReferrals(cities_[c]);
  }
  // The reports are projections of the feeds: wait until they hold the
  // world, so that an aggregate answer is checked with children in it.
  for (const char* source : {"screening", "case", "referral"}) {
    if (absl::Status read = testing::WaitForConsumer(
            testing::SharedPgCluster(), "reporting", source,
            services_->at(source), *tokens_, absl::Seconds(60));
        !read.ok()) {
      throw FixtureError(absl::StrCat("reporting reading ", source,
                                      "'s feed: ", read.ToString()));
    }
  }
  // Names of records that do not exist, in the caller's own municipality,
  // area, school and hub.
  *missing_ = cities_[0];
  missing_->round = absl::StrCat(cities_[0].parent, "/rounds/", kMissingId);
  missing_->organization = absl::StrCat("organizations/", kMissingId);
  missing_->location = absl::StrCat("locations/", kMissingId);
  missing_->support = absl::StrCat("supports/", kMissingId);
  Place& place = missing_->place[0];
  place.sheet = absl::StrCat(cities_[0].round, "/schools/", place.school,
                             "/sheets/P", kMissingId);
  place.meeting = absl::StrCat(cities_[0].round, "/schools/", place.school,
                               "/meetings/", kMissingId);
  place.case_name = absl::StrCat("cases/", kMissingId);
  place.usage = absl::StrCat("hubUsages/", kMissingId);
  place.referral = absl::StrCat("referrals/", kMissingId);
  place.urgent = absl::StrCat(cities_[0].place[0].case_name, "/urgentReports/",
                              kMissingId);
}

sv1::Sheet SheetOf(const Place& place, const std::string& kana) {
  sv1::Sheet sheet;
  sheet.set_school_code(place.school);
  sheet.set_pupil_id(place.pupil);
  sheet.set_grade(3);
  sheet.set_pupil_name("試験 花子");
  sheet.set_pupil_kana(kana);
  const absl::CivilDay today = *DayIn(absl::Now(), "Asia/Tokyo");
  *sheet.mutable_birth_date() =
      DateToProto(absl::CivilDay(FiscalYearOf(today) - 9, 5, 1));
  sheet.set_sex(sv1::SEX_FEMALE);
  return sheet;
}

void ScopeWalkTest::BuildCity(City& city) {
  const auth::Principal ops = Staff(Role::kCityOperations, city);
  sv1::UpsertMunicipalityRequest municipality;
  municipality.mutable_municipality()->set_code(city.code);
  municipality.mutable_municipality()->set_display_name("試験市");
  sv1::Municipality m;
  Ok(Screening().UpsertMunicipality(As(ops).get(), municipality, &m),
     "UpsertMunicipality");
  for (int s = 0; s < 2; ++s) {
    const Place& place = city.place[s];
    sv1::UpsertAreaRequest area;
    area.set_parent(city.parent);
    area.mutable_area()->set_code(place.area);
    area.mutable_area()->set_display_name(s == 0 ? "北区" : "南区");
    area.mutable_area()->set_display_order(s + 1);
    sv1::Area a;
    Ok(Screening().UpsertArea(As(ops).get(), area, &a), "UpsertArea");
    sv1::UpsertSchoolRequest school;
    school.set_parent(city.parent);
    school.mutable_school()->set_code(place.school);
    school.mutable_school()->set_display_name(s == 0 ? "北小学校" : "南小学校");
    school.mutable_school()->set_kind(sv1::SCHOOL_KIND_ELEMENTARY);
    school.mutable_school()->set_area_code(place.area);
    sv1::School created;
    Ok(Screening().UpsertSchool(As(ops).get(), school, &created),
       "UpsertSchool");
  }
  sv1::GetTemplateRequest shipped;
  shipped.set_name("templates/default/versions/1");
  sv1::CreateTemplateVersionRequest copy;
  Ok(Screening().GetTemplate(As(ops).get(), shipped, copy.mutable_template_()),
     "GetTemplate");
  copy.mutable_template_()->set_key("city-" + city.code);
  sv1::Template own;
  Ok(Screening().CreateTemplateVersion(As(ops).get(), copy, &own),
     "CreateTemplateVersion");
  city.tmpl = own.name();
  const int year = FiscalYearOf(*today_);
  sv1::CreateRoundRequest round;
  round.set_parent(city.parent);
  round.set_request_id(RequestId());
  round.mutable_round()->set_fiscal_year(year);
  round.mutable_round()->set_title("第1回");
  round.mutable_round()->set_template_("templates/default/versions/1");
  *round.mutable_round()->mutable_open_date() =
      DateToProto(absl::CivilDay(year, 4, 1));
  *round.mutable_round()->mutable_close_date() =
      DateToProto(absl::CivilDay(year + 1, 3, 31));
  sv1::Round r;
  Ok(Screening().CreateRound(As(ops).get(), round, &r), "CreateRound");
  city.round = r.name();

  const auth::Principal staff = Staff(Role::kSchoolStaff, city);
  for (Place& place : city.place) {
    sv1::UpsertSheetRequest sheet;
    sheet.set_parent(city.round);
    *sheet.mutable_sheet() = SheetOf(place, UniqueKana());
    sv1::UpsertSheetResponse stored;
    Ok(Screening().UpsertSheet(As(staff).get(), sheet, &stored), "UpsertSheet");
    place.sheet = stored.sheet().name();
    sv1::RecordMeetingRequest meeting;
    meeting.set_parent(city.round);
    meeting.set_request_id(RequestId());
    meeting.mutable_meeting()->set_school_code(place.school);
    *meeting.mutable_meeting()->mutable_meeting_date() = Today();
    sv1::Attendee* attendee = meeting.mutable_meeting()->add_attendees();
    attendee->set_role("principal");
    attendee->set_count(1);
    sv1::Meeting recorded;
    Ok(Screening().RecordMeeting(As(staff).get(), meeting, &recorded),
       "RecordMeeting");
    place.meeting = recorded.name();
    sv1::RecordDecisionRequest decide;
    decide.set_meeting(place.meeting);
    decide.set_pupil_id(place.pupil);
    decide.set_outcome(sv1::DECISION_OUTCOME_EXTRACT);
    decide.set_reason("欠席が続いている");
    sv1::RecordDecisionResponse decision;
    Ok(Screening().RecordDecision(As(staff).get(), decide, &decision),
       "RecordDecision");
    place.decision = decision.decision().name();
  }
}

void ScopeWalkTest::BuildCases(City& city) {
  cv1::ListCasesRequest list;
  list.set_parent(city.parent);
  cv1::ListCasesResponse listed;
  Ok(Cases().ListCases(As(Staff(Role::kWardOfficer, city)).get(), list,
                       &listed),
     "ListCases");
  for (int s = 0; s < 2; ++s) {
    Place& place = city.place[s];
    for (const cv1::Case& c : listed.cases()) {
      if (c.extraction_id() == place.decision) {
        place.case_name = c.name();
      }
    }
    if (place.case_name.empty()) {
      throw FixtureError(absl::StrCat("no case opened from ", place.decision));
    }
    // Screening meeting II puts the side's case worker and desk in charge.
    cv1::RecordConferenceRequest conference;
    conference.set_parent(place.case_name);
    conference.set_request_id(RequestId());
    cv1::Conference* c = conference.mutable_conference();
    c->set_kind(cv1::CONFERENCE_KIND_SCREENING_MEETING_II);
    *c->mutable_conference_date() = Today();
    cv1::ConferenceAttendee* attendee = c->add_attendees();
    attendee->set_role("ssw");
    attendee->set_count(1);
    for (Role role : {Role::kCaseWorker, Role::kConsultationDesk}) {
      cv1::Assignee* person = c->add_persons_in_charge();
      person->set_subject(Person(role, city, s).subject);
      person->set_role(std::string(auth::RoleName(role)));
    }
    cv1::Conference recorded;
    Ok(Cases().RecordConference(As(Staff(Role::kWardOfficer, city)).get(),
                                conference, &recorded),
       "RecordConference");
  }
}

rv1::Support HubSupport(const City& city, const Place& place) {
  rv1::Support hub;
  hub.set_organization(city.organization);
  hub.set_display_name(absl::StrCat("居場所 ", place.hub));
  hub.set_category(rv1::SUPPORT_CATEGORY_DROP_IN_HUB);
  hub.add_service_area_codes(place.area);
  // Open all day every day, so that a visit fits whenever the test runs.
  for (int day = rv1::WEEKDAY_MONDAY; day <= rv1::WEEKDAY_SUNDAY; ++day) {
    rv1::OpeningHours* hours = hub.add_weekly_schedule();
    hours->set_weekday(static_cast<rv1::Weekday>(day));
    hours->set_opens("00:00");
    hours->set_closes("24:00");
  }
  rv1::HubDetails* details = hub.mutable_hub();
  details->set_hub_code(place.hub);
  details->set_daily_capacity(100);
  rv1::ContractService* meal = details->add_contract_services();
  meal->set_code("meal");
  meal->set_display_name("食事の提供");
  return hub;
}

void ScopeWalkTest::BuildHubsAndReferrals(City& city) {
  const auth::Principal ops = Staff(Role::kCityOperations, city);
  rv1::CreateOrganizationRequest organization;
  organization.set_parent(city.parent);
  organization.set_request_id(RequestId());
  organization.mutable_organization()->set_display_name("試験法人");
  organization.mutable_organization()->set_kind(rv1::ORGANIZATION_KIND_LOCAL);
  rv1::Organization org;
  Ok(Referrals().CreateOrganization(As(ops).get(), organization, &org),
     "CreateOrganization");
  city.organization = org.name();
  rv1::CreateLocationRequest location;
  location.set_request_id(RequestId());
  location.mutable_location()->set_organization(city.organization);
  location.mutable_location()->set_display_name("本部");
  location.mutable_location()->set_area_code(city.place[0].area);
  rv1::Location loc;
  Ok(Referrals().CreateLocation(As(ops).get(), location, &loc),
     "CreateLocation");
  city.location = loc.name();
  rv1::CreateSupportRequest support;
  support.set_request_id(RequestId());
  support.mutable_support()->set_organization(city.organization);
  support.mutable_support()->set_display_name("学習支援");
  support.mutable_support()->set_category(
      rv1::SUPPORT_CATEGORY_LEARNING_SUPPORT);
  rv1::Support created;
  Ok(Referrals().CreateSupport(As(ops).get(), support, &created),
     "CreateSupport");
  city.support = created.name();
  for (int s = 0; s < 2; ++s) {
    Place& place = city.place[s];
    rv1::CreateSupportRequest hub;
    hub.set_request_id(RequestId());
    *hub.mutable_support() = HubSupport(city, place);
    Ok(Referrals().CreateSupport(As(ops).get(), hub, &created),
       "CreateSupport(hub)");
  }
  for (int s = 0; s < 2; ++s) {
    Place& place = city.place[s];
    const Target t{Where::kOwn, &city, s};
    // The side's child uses its hub (approved, interviewed, planned,
    // visited), so that the hub's operators see the case; the desk, the
    // case's lead and in charge of it, applies and assesses.
    place.usage =
        UsageOf(t, place.case_name, Role::kConsultationDesk, kVisited);
    place.referral =
        ReferralOf(t, place.case_name, Person(Role::kWardOfficer, city, s));
    place.urgent = FreshUrgentReport(t);
  }
}

std::string ScopeWalkTest::FreshCase(const Target& t, Role role,
                                     bool youtaikyo) {
  if (t.missing()) {
    return t.p().case_name;
  }
  const Role opener =
      role == Role::kCaseWorker || role == Role::kConsultationDesk
          ? role
          : Role::kConsultationDesk;
  cv1::CreateCaseRequest request;
  request.set_parent(t.city->parent);
  request.set_request_id(RequestId());
  cv1::Case* c = request.mutable_case_();
  c->set_area_code(t.p().area);
  c->set_source(cv1::CASE_SOURCE_SCHOOL);
  *c->mutable_opened_date() = Today();
  c->mutable_child()->set_name("試験 次郎");
  c->mutable_child()->set_kana(UniqueKana());
  *c->mutable_child()->mutable_birth_date() =
      DateToProto(absl::CivilDay(FiscalYearOf(*today_) - 9, 6, 1));
  c->mutable_child()->set_school_code(t.p().school);
  c->mutable_child()->set_grade(3);
  c->set_youtaikyo_registered(youtaikyo);
  cv1::Case created;
  Ok(Cases().CreateCase(As(Person(opener, *t.city, t.side)).get(), request,
                        &created),
     "CreateCase (fixture)");
  return created.name();
}

std::string ScopeWalkTest::FreshUsage(const Target& t, Role role,
                                      UsageStage stage, bool youtaikyo) {
  if (t.missing()) {
    return t.p().usage;
  }
  const Role lead = youtaikyo ? Role::kCaseWorker : Role::kConsultationDesk;
  const Role opener =
      role == Role::kCaseWorker || role == Role::kConsultationDesk ? role
                                                                   : lead;
  return UsageOf(t, FreshCase(t, opener, youtaikyo), opener, stage);
}

std::string ScopeWalkTest::UsageOf(const Target& t,
                                   const std::string& case_name, Role lead,
                                   UsageStage stage) {
  const auth::Principal by = Person(lead, *t.city, t.side);
  rv1::CreateHubApplicationRequest apply;
  apply.set_parent(t.city->parent);
  apply.set_request_id(RequestId());
  apply.mutable_usage()->set_hub_code(t.p().hub);
  apply.mutable_usage()->set_case_(case_name);
  apply.mutable_usage()->mutable_application()->set_applicant(
      rv1::APPLICANT_SCHOOL);
  *apply.mutable_usage()->mutable_application()->mutable_application_date() =
      Today();
  rv1::HubUsage usage;
  Ok(Referrals().CreateHubApplication(As(by).get(), apply, &usage),
     "CreateHubApplication (fixture)");
  if (stage == kApplied) {
    return usage.name();
  }
  rv1::RecordHubAssessmentRequest assess;
  assess.set_name(usage.name());
  assess.set_request_id(RequestId());
  *assess.mutable_assessment()->mutable_hearing_date() = Today();
  assess.mutable_assessment()->set_summary("聞き取りをした");
  Ok(Referrals().RecordHubAssessment(As(by).get(), assess, &usage),
     "RecordHubAssessment (fixture)");
  if (stage == kAssessed) {
    return usage.name();
  }
  rv1::DecideHubUsageRequest decide;
  decide.set_name(usage.name());
  decide.set_request_id(RequestId());
  decide.mutable_decision()->set_approved(true);
  *decide.mutable_decision()->mutable_decision_date() = Today();
  *decide.mutable_decision()->mutable_start_date() = Today();
  Ok(Referrals().DecideHubUsage(As(Staff(Role::kCentreDirector, *t.city)).get(),
                                decide, &usage),
     "DecideHubUsage (fixture)");
  if (stage == kApproved) {
    return usage.name();
  }
  const auth::Principal operator_ = Staff(Role::kHubOperator, *t.city);
  rv1::RecordPreUseInterviewRequest interview;
  interview.set_name(usage.name());
  interview.set_request_id(RequestId());
  *interview.mutable_interview()->mutable_interview_date() = Today();
  interview.mutable_interview()->set_notes("保護者と面談した");
  Ok(Referrals().RecordPreUseInterview(As(operator_).get(), interview, &usage),
     "RecordPreUseInterview (fixture)");
  rv1::RecordHubSupportPlanRequest plan;
  plan.set_name(usage.name());
  plan.set_request_id(RequestId());
  *plan.mutable_plan()->mutable_plan_date() = Today();
  plan.mutable_plan()->add_goals("宿題を終える");
  Ok(Referrals().RecordHubSupportPlan(As(operator_).get(), plan, &usage),
     "RecordHubSupportPlan (fixture)");
  if (stage == kPlanned) {
    return usage.name();
  }
  rv1::RecordHubVisitRequest visit;
  visit.set_parent(usage.name());
  visit.set_request_id(RequestId());
  *visit.mutable_visit()->mutable_visit_date() = Today();
  visit.mutable_visit()->set_arrival_time("00:10");
  visit.mutable_visit()->set_departure_time("00:20");
  visit.mutable_visit()->add_services_delivered("meal");
  rv1::HubVisit recorded;
  Ok(Referrals().RecordHubVisit(As(operator_).get(), visit, &recorded),
     "RecordHubVisit (fixture)");
  return usage.name();
}

std::string ScopeWalkTest::FreshReferral(const Target& t, Role role) {
  if (t.missing()) {
    return t.p().referral;
  }
  const Role opener = Desk(role) ? role : Role::kConsultationDesk;
  return ReferralOf(t, FreshCase(t, opener), Person(opener, *t.city, t.side));
}

std::string ScopeWalkTest::ReferralOf(const Target& t,
                                      const std::string& case_name,
                                      const auth::Principal& by) {
  rv1::CreateReferralRequest request;
  request.set_parent(t.city->parent);
  request.set_request_id(RequestId());
  request.mutable_referral()->set_case_(case_name);
  request.mutable_referral()->set_support(t.city->support);
  *request.mutable_referral()->mutable_proposed_date() = Today();
  rv1::Referral created;
  Ok(Referrals().CreateReferral(As(by).get(), request, &created),
     "CreateReferral (fixture)");
  return created.name();
}

std::string ScopeWalkTest::FreshUrgentReport(const Target& t) {
  if (t.missing()) {
    return t.p().urgent;
  }
  cv1::RaiseUrgentReportRequest request;
  request.set_parent(t.p().case_name);
  request.set_request_id(RequestId());
  request.mutable_report()->set_category(cv1::URGENT_CATEGORY_OTHER);
  request.mutable_report()->set_description("連絡がとれない");
  cv1::UrgentReport raised;
  Ok(Cases().RaiseUrgentReport(
         As(Person(Role::kWardOfficer, *t.city, t.side)).get(), request,
         &raised),
     "RaiseUrgentReport (fixture)");
  return raised.name();
}

// ---- The table: a valid request per RPC, on the records of a target ------

using Request = std::optional<std::string>;
// Builds the call's request on `t`'s records for a caller of `role`, making
// any records the call needs for itself first. nullopt: the RPC names no
// record of that kind (a municipality-wide list has no sibling record; a
// call that creates a record has no missing one).
using Builder = std::function<Request(const Target& t, Role role)>;

template <typename Message>
Request Encode(const Message& message) {
  return message.SerializeAsString();
}

// Calls whose only record is the municipality: no sibling, nothing missing.
bool MunicipalityOnly(const Target& t) {
  return t.where == Where::kSibling || t.missing();
}

class ScopeWalk : public ScopeWalkTest {
 public:
  static std::map<std::string, Builder> Builders();
  // RPCs walked without a builder of their own, and why.
  static std::map<std::string, std::string> Exemptions() {
    return {
        // A stream the server keeps open; its scope (service identities
        // only, every municipality) is ListEvents', walked below, and the
        // code is the same feed.
        {"kosapo.events.v1.EventFeed/WatchEvents",
         "streaming; covered by ListEvents"},
    };
  }
  // RPCs whose bulk answer rejects an out-of-scope row by row: OK with the
  // row REJECTED, so that the other rows of a school system's upload are
  // still stored (the sheet is not stored; the row's message says why).
  static bool RowLevel(const std::string& method) {
    return method == "kosapo.screening.v1.ScreeningService/ImportSheets" ||
           method == "kosapo.screening.v1.ScreeningService/ImportSheetsCsv";
  }
  // A call as the "a" person of `city` in `role`; its final status.
  static grpc::Status CallAs(const City& city, Role role,
                             const std::string& method,
                             const std::string& request) {
    return testing::CallWithBytes(
        services_->at(FourServices::ServiceOf(method)).channel(), method,
        tokens_->Sign(Person(role, city, 0)), request,
        std::chrono::seconds(10));
  }
};

std::map<std::string, Builder> ScopeWalk::Builders() {
  const int year = FiscalYearOf(*today_);
  std::map<std::string, Builder> b;
  const std::string sp = "kosapo.screening.v1.ScreeningService/";
  const std::string cp = "kosapo.cases.v1.CaseService/";
  const std::string rp = "kosapo.referral.v1.ReferralService/";
  const std::string pp = "kosapo.reporting.v1.ReportingService/";

  // ---- screening --------------------------------------------------------
  b[sp + "UpsertMunicipality"] = [](const Target& t, Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    sv1::UpsertMunicipalityRequest r;
    r.mutable_municipality()->set_code(t.city->code);
    r.mutable_municipality()->set_display_name("試験市");
    return Encode(r);
  };
  b[sp + "GetMunicipality"] = [](const Target& t, Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    sv1::GetMunicipalityRequest r;
    r.set_name(t.city->parent);
    return Encode(r);
  };
  b[sp + "UpsertArea"] = [](const Target& t, Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    sv1::UpsertAreaRequest r;  // as stored: changes nothing
    r.set_parent(t.city->parent);
    r.mutable_area()->set_code(t.p().area);
    r.mutable_area()->set_display_name("北区");
    r.mutable_area()->set_display_order(1);
    return Encode(r);
  };
  b[sp + "ListAreas"] = [](const Target& t, Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    sv1::ListAreasRequest r;
    r.set_parent(t.city->parent);
    return Encode(r);
  };
  b[sp + "UpsertSchool"] = [](const Target& t, Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    sv1::UpsertSchoolRequest r;  // as stored
    r.set_parent(t.city->parent);
    r.mutable_school()->set_code(t.p().school);
    r.mutable_school()->set_display_name("北小学校");
    r.mutable_school()->set_kind(sv1::SCHOOL_KIND_ELEMENTARY);
    r.mutable_school()->set_area_code(t.p().area);
    return Encode(r);
  };
  b[sp + "ListSchools"] = [](const Target& t, Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    sv1::ListSchoolsRequest r;
    r.set_parent(t.city->parent);
    return Encode(r);
  };
  b[sp + "ImportEnrollment"] = [year](const Target& t, Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    sv1::ImportEnrollmentRequest r;
    r.set_parent(t.city->parent);
    r.set_fiscal_year(year);
    for (const Place& place : t.city->place) {
      sv1::EnrollmentRow* row = r.mutable_rows()->add_rows();
      row->set_school_code(place.school);
      row->set_pupils(30);
    }
    return Encode(r);
  };
  b[sp + "GetEnrollment"] = [year](const Target& t, Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    sv1::GetEnrollmentRequest r;
    r.set_parent(t.city->parent);
    r.set_fiscal_year(year);
    return Encode(r);
  };
  // A template belongs to its municipality: the target is the city's own
  // template, and sending its latest version's content again returns that
  // version (no new one); the other city's is refused.
  b[sp + "CreateTemplateVersion"] = [](const Target& t, Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    sv1::GetTemplateRequest get;
    get.set_name(t.city->tmpl);
    sv1::Template latest;
    Ok(Screening().GetTemplate(As(Staff(Role::kCityOperations, *t.city)).get(),
                               get, &latest),
       "GetTemplate (fixture)");
    sv1::CreateTemplateVersionRequest r;
    *r.mutable_template_() = latest;
    return Encode(r);
  };
  // Every municipality reads every template: the other city's too.
  b[sp + "GetTemplate"] = [](const Target& t, Role) -> Request {
    if (t.where == Where::kSibling) return std::nullopt;
    sv1::GetTemplateRequest r;
    r.set_name(t.missing()
                   ? absl::StrCat("templates/default/versions/", kMissingId)
                   : t.city->tmpl);
    return Encode(r);
  };
  b[sp + "ListTemplates"] = [](const Target& t, Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    return Encode(sv1::ListTemplatesRequest());
  };
  b[sp + "CreateRound"] = [year](const Target& t, Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    sv1::CreateRoundRequest r;
    r.set_parent(t.city->parent);
    r.set_request_id(RequestId());
    r.mutable_round()->set_fiscal_year(year);
    r.mutable_round()->set_title(absl::StrCat("追加 ", r.request_id()));
    r.mutable_round()->set_template_("templates/default/versions/1");
    *r.mutable_round()->mutable_open_date() =
        DateToProto(absl::CivilDay(year, 4, 1));
    *r.mutable_round()->mutable_close_date() =
        DateToProto(absl::CivilDay(year + 1, 3, 31));
    return Encode(r);
  };
  b[sp + "GetRound"] = [](const Target& t, Role) -> Request {
    if (t.where == Where::kSibling) return std::nullopt;
    sv1::GetRoundRequest r;
    r.set_name(t.city->round);
    return Encode(r);
  };
  b[sp + "ListRounds"] = [](const Target& t, Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    sv1::ListRoundsRequest r;
    r.set_parent(t.city->parent);
    return Encode(r);
  };
  // Closing is for good: a round of its own per call.
  b[sp + "CloseRound"] = [year](const Target& t, Role) -> Request {
    if (t.where == Where::kSibling) return std::nullopt;
    sv1::CloseRoundRequest r;
    if (t.missing()) {
      r.set_name(t.city->round);
      return Encode(r);
    }
    sv1::CreateRoundRequest create;
    create.set_parent(t.city->parent);
    create.set_request_id(RequestId());
    create.mutable_round()->set_fiscal_year(year);
    create.mutable_round()->set_title(absl::StrCat("閉 ", create.request_id()));
    create.mutable_round()->set_template_("templates/default/versions/1");
    *create.mutable_round()->mutable_open_date() =
        DateToProto(absl::CivilDay(year, 4, 1));
    *create.mutable_round()->mutable_close_date() =
        DateToProto(absl::CivilDay(year + 1, 3, 31));
    sv1::Round round;
    Ok(Screening().CreateRound(As(Staff(Role::kCityOperations, *t.city)).get(),
                               create, &round),
       "CreateRound (fixture)");
    r.set_name(round.name());
    return Encode(r);
  };
  b[sp + "GetRoundProgress"] = [](const Target& t, Role) -> Request {
    if (t.where == Where::kSibling) return std::nullopt;
    sv1::GetRoundProgressRequest r;
    r.set_name(t.city->round);
    return Encode(r);
  };
  // A new pupil per call, so that no stored sheet changes.
  auto new_sheet = [](const Target& t) {
    sv1::Sheet sheet = SheetOf(t.p(), UniqueKana());
    sheet.set_pupil_id(absl::StrCat("W", RequestId().substr(5)));
    return sheet;
  };
  b[sp + "UpsertSheet"] = [new_sheet](const Target& t, Role) -> Request {
    if (t.missing()) return std::nullopt;
    sv1::UpsertSheetRequest r;
    r.set_parent(t.city->round);
    *r.mutable_sheet() = new_sheet(t);
    return Encode(r);
  };
  b[sp + "ImportSheets"] = [new_sheet](const Target& t, Role) -> Request {
    if (t.missing()) return std::nullopt;
    sv1::ImportSheetsRequest r;
    r.set_parent(t.city->round);
    *r.add_sheets() = new_sheet(t);
    return Encode(r);
  };
  b[sp + "ImportSheetsCsv"] = [new_sheet](const Target& t, Role) -> Request {
    if (t.missing()) return std::nullopt;
    const sv1::Sheet sheet = new_sheet(t);
    sv1::ImportSheetsCsvRequest r;
    r.set_parent(t.city->round);
    r.set_encoding(sv1::CSV_ENCODING_UTF8);
    r.set_csv(absl::StrCat(
        "school_code,pupil_id,grade,class_name,pupil_name,pupil_kana,"
        "birth_date,sex,note\n",
        sheet.school_code(), ",", sheet.pupil_id(), ",3,1組,",
        sheet.pupil_name(), ",", sheet.pupil_kana(), ",",
        absl::StrFormat("%04d-%02d-%02d", sheet.birth_date().year(),
                        sheet.birth_date().month(), sheet.birth_date().day()),
        ",female,\n"));
    return Encode(r);
  };
  b[sp + "GetSheet"] = [](const Target& t, Role) -> Request {
    sv1::GetSheetRequest r;
    r.set_name(t.p().sheet);
    return Encode(r);
  };
  b[sp + "ListSheets"] = [](const Target& t, Role) -> Request {
    sv1::ListSheetsRequest r;
    r.set_parent(t.city->round);
    r.set_school_code(t.p().school);
    return Encode(r);
  };
  b[sp + "ListCandidates"] = [](const Target& t, Role) -> Request {
    sv1::ListCandidatesRequest r;
    r.set_parent(t.city->round);
    r.set_school_code(t.p().school);
    return Encode(r);
  };
  b[sp + "RecordMeeting"] = [](const Target& t, Role) -> Request {
    sv1::RecordMeetingRequest r;
    r.set_parent(t.city->round);
    r.set_request_id(RequestId());
    r.mutable_meeting()->set_school_code(t.p().school);
    *r.mutable_meeting()->mutable_meeting_date() = Today();
    sv1::Attendee* attendee = r.mutable_meeting()->add_attendees();
    attendee->set_role("teacher");
    attendee->set_count(2);
    return Encode(r);
  };
  // The decision as recorded: UNCHANGED, so the extraction stands.
  b[sp + "RecordDecision"] = [](const Target& t, Role) -> Request {
    sv1::RecordDecisionRequest r;
    r.set_meeting(t.p().meeting);
    r.set_pupil_id(t.p().pupil);
    r.set_outcome(sv1::DECISION_OUTCOME_EXTRACT);
    r.set_reason("欠席が続いている");
    return Encode(r);
  };
  b[sp + "ListDecisions"] = [](const Target& t, Role) -> Request {
    sv1::ListDecisionsRequest r;
    r.set_parent(t.city->round);
    r.set_school_code(t.p().school);
    return Encode(r);
  };
  // The trail of the pupil's sheet in the round (who looked at it). A trail
  // is a query over accesses, not a record: a sheet nobody stored or read
  // has an empty one (OK), so there is no missing-record call.
  b[sp + "ListAuditRecords"] = [](const Target& t, Role) -> Request {
    if (t.missing()) return std::nullopt;
    sv1::ListAuditRecordsRequest r;
    r.set_parent(t.p().sheet);
    return Encode(r);
  };
  b[sp + "ListExtractions"] = [](const Target& t, Role) -> Request {
    sv1::ListExtractionsRequest r;
    r.set_parent(t.city->round);
    r.set_area_code(t.p().area);
    return Encode(r);
  };

  // ---- case ---------------------------------------------------------------
  // Writes that change a case's state (withdrawn, closed, new persons in
  // charge) each get a case of their own (FreshCase), opened on the
  // target's side, so that no call depends on another's effect.
  b[cp + "CreateCase"] = [year](const Target& t, Role) -> Request {
    if (t.missing()) return std::nullopt;
    cv1::CreateCaseRequest r;
    r.set_parent(t.city->parent);
    r.set_request_id(RequestId());
    cv1::Case* c = r.mutable_case_();
    c->set_area_code(t.p().area);
    c->set_source(cv1::CASE_SOURCE_AGENCY);
    *c->mutable_opened_date() = Today();
    c->mutable_child()->set_name("試験 三郎");
    c->mutable_child()->set_kana(UniqueKana());
    *c->mutable_child()->mutable_birth_date() =
        DateToProto(absl::CivilDay(year - 8, 7, 1));
    return Encode(r);
  };
  b[cp + "GetCase"] = [](const Target& t, Role) -> Request {
    cv1::GetCaseRequest r;
    r.set_name(t.p().case_name);
    return Encode(r);
  };
  b[cp + "UpdateCase"] = [](const Target& t, Role role) -> Request {
    cv1::UpdateCaseRequest r;
    r.mutable_case_()->set_name(FreshCase(t, role));
    r.mutable_case_()->mutable_child()->set_grade(4);
    r.add_update_mask("child.grade");
    return Encode(r);
  };
  b[cp + "WithdrawCase"] = [](const Target& t, Role role) -> Request {
    cv1::WithdrawCaseRequest r;
    r.set_name(FreshCase(t, role));
    r.set_reason("重複して登録した");
    return Encode(r);
  };
  b[cp + "SearchCases"] = [year](const Target& t, Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    cv1::SearchCasesRequest r;
    r.set_parent(t.city->parent);
    r.set_kana("てすと");
    *r.mutable_birth_date() = DateToProto(absl::CivilDay(year - 9, 6, 1));
    return Encode(r);
  };
  // Case workers and the desk list the cases assigned to them; area staff
  // an area's (the sibling area is out of scope).
  b[cp + "ListCases"] = [](const Target& t, Role role) -> Request {
    if (t.missing() || (t.where == Where::kSibling && Desk(role))) {
      return std::nullopt;
    }
    cv1::ListCasesRequest r;
    r.set_parent(t.city->parent);
    if (Desk(role)) {
      r.set_assigned_to_me(true);
    } else {
      r.set_area_code(t.p().area);
    }
    return Encode(r);
  };
  // The conference names the persons in charge anew: the case's own
  // opener, so that an in-scope case worker keeps it.
  b[cp + "RecordConference"] = [](const Target& t, Role role) -> Request {
    cv1::RecordConferenceRequest r;
    r.set_parent(FreshCase(t, role));
    r.set_request_id(RequestId());
    cv1::Conference* c = r.mutable_conference();
    c->set_kind(cv1::CONFERENCE_KIND_INDIVIDUAL_CASE_CONFERENCE);
    *c->mutable_conference_date() = Today();
    cv1::ConferenceAttendee* attendee = c->add_attendees();
    attendee->set_role("case_worker");
    attendee->set_count(1);
    const Role opener = Desk(role) ? role : Role::kConsultationDesk;
    cv1::Assignee* person = c->add_persons_in_charge();
    person->set_subject(Person(opener, *t.city, t.side).subject);
    person->set_role(std::string(auth::RoleName(opener)));
    return Encode(r);
  };
  b[cp + "ListConferences"] = [](const Target& t, Role) -> Request {
    cv1::ListConferencesRequest r;
    r.set_parent(t.p().case_name);
    return Encode(r);
  };
  b[cp + "RecordAssessment"] = [](const Target& t, Role role) -> Request {
    cv1::RecordAssessmentRequest r;
    r.set_parent(FreshCase(t, role));
    r.set_request_id(RequestId());
    *r.mutable_assessment()->mutable_assessed_date() = Today();
    cv1::Need* need = r.mutable_assessment()->add_needs();
    need->set_domain(cv1::NEED_DOMAIN_LEARNING);
    need->set_level(cv1::NEED_LEVEL_LOW);
    return Encode(r);
  };
  b[cp + "ListAssessments"] = [](const Target& t, Role) -> Request {
    cv1::ListAssessmentsRequest r;
    r.set_parent(t.p().case_name);
    return Encode(r);
  };
  b[cp + "RecordSupportPlan"] = [](const Target& t, Role role) -> Request {
    cv1::RecordSupportPlanRequest r;
    r.set_parent(FreshCase(t, role));
    r.set_request_id(RequestId());
    *r.mutable_plan()->mutable_plan_date() = Today();
    r.mutable_plan()->add_goals("登校できる");
    *r.mutable_plan()->mutable_review_date() = Today();
    return Encode(r);
  };
  b[cp + "ListSupportPlans"] = [](const Target& t, Role) -> Request {
    cv1::ListSupportPlansRequest r;
    r.set_parent(t.p().case_name);
    return Encode(r);
  };
  b[cp + "ListOverdueReviews"] = [](const Target& t, Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    cv1::ListOverdueReviewsRequest r;
    r.set_parent(t.city->parent);
    return Encode(r);
  };
  b[cp + "ChangeApproachStatus"] = [](const Target& t, Role role) -> Request {
    cv1::ChangeApproachStatusRequest r;
    r.set_name(FreshCase(t, role));
    r.set_status(cv1::APPROACH_STATUS_OUTREACH_DONE);
    *r.mutable_effective_date() = Today();
    r.set_request_id(RequestId());
    return Encode(r);
  };
  b[cp + "GetApproachHistory"] = [](const Target& t, Role) -> Request {
    cv1::GetApproachHistoryRequest r;
    r.set_name(t.p().case_name);
    return Encode(r);
  };
  // Contacts only add up: the side's own case.
  b[cp + "RecordContact"] = [](const Target& t, Role) -> Request {
    cv1::RecordContactRequest r;
    r.set_parent(t.p().case_name);
    r.set_request_id(RequestId());
    r.mutable_contact()->set_kind(cv1::CONTACT_KIND_PHONE_CALL);
    *r.mutable_contact()->mutable_contact_date() = Today();
    r.mutable_contact()->set_summary("保護者と話した");
    return Encode(r);
  };
  b[cp + "ListContacts"] = [](const Target& t, Role) -> Request {
    cv1::ListContactsRequest r;
    r.set_parent(t.p().case_name);
    return Encode(r);
  };
  b[cp + "RecordOutcome"] = [](const Target& t, Role role) -> Request {
    cv1::RecordOutcomeRequest r;
    r.set_name(FreshCase(t, role));
    r.set_outcome(cv1::OUTCOME_MOVED_AWAY);
    *r.mutable_effective_date() = Today();
    r.set_request_id(RequestId());
    return Encode(r);
  };
  // Only a closed case reopens: closed first by whoever opened it.
  b[cp + "ReopenCase"] = [](const Target& t, Role role) -> Request {
    cv1::ReopenCaseRequest r;
    r.set_name(FreshCase(t, role));
    if (!t.missing()) {
      cv1::RecordOutcomeRequest close;
      close.set_name(r.name());
      close.set_outcome(cv1::OUTCOME_MOVED_AWAY);
      *close.mutable_effective_date() = Today();
      close.set_request_id(RequestId());
      cv1::Case closed;
      Ok(Cases().RecordOutcome(
             As(Person(Desk(role) ? role : Role::kConsultationDesk, *t.city,
                       t.side))
                 .get(),
             close, &closed),
         "RecordOutcome (fixture)");
    }
    *r.mutable_effective_date() = Today();
    r.set_reason("転居先から戻った");
    r.set_request_id(RequestId());
    return Encode(r);
  };
  // The side's case: its child is at the side's school and hub.
  b[cp + "RaiseUrgentReport"] = [](const Target& t, Role) -> Request {
    cv1::RaiseUrgentReportRequest r;
    r.set_parent(t.p().case_name);
    r.set_request_id(RequestId());
    r.mutable_report()->set_category(cv1::URGENT_CATEGORY_MISSING);
    r.mutable_report()->set_description("帰宅していない");
    return Encode(r);
  };
  // A report of its own per call: acknowledging is once.
  b[cp + "AcknowledgeUrgentReport"] = [](const Target& t, Role) -> Request {
    cv1::AcknowledgeUrgentReportRequest r;
    r.set_name(FreshUrgentReport(t));
    r.set_note("確認した");
    return Encode(r);
  };
  b[cp + "ListUrgentReports"] = [](const Target& t, Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    cv1::ListUrgentReportsRequest r;
    r.set_parent(t.city->parent);
    return Encode(r);
  };
  // The side's child is already enrolled at the side's hub: the same again.
  b[cp + "SetHubEnrollment"] = [](const Target& t, Role) -> Request {
    cv1::SetHubEnrollmentRequest r;
    r.set_name(t.p().case_name);
    r.set_hub_code(t.p().hub);
    r.set_enrolled(true);
    return Encode(r);
  };
  b[cp + "ListCaseAudit"] = [](const Target& t, Role) -> Request {
    cv1::ListCaseAuditRequest r;
    r.set_name(t.p().case_name);
    return Encode(r);
  };
  b[cp + "CheckCaseAccess"] = [](const Target& t, Role) -> Request {
    cv1::CheckCaseAccessRequest r;
    r.set_name(t.p().case_name);
    return Encode(r);
  };

  // ---- referral -----------------------------------------------------------
  b[rp + "CreateOrganization"] = [](const Target& t, Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    rv1::CreateOrganizationRequest r;
    r.set_parent(t.city->parent);
    r.set_request_id(RequestId());
    r.mutable_organization()->set_display_name("新しい法人");
    r.mutable_organization()->set_kind(rv1::ORGANIZATION_KIND_AGENCY);
    return Encode(r);
  };
  b[rp + "GetOrganization"] = [](const Target& t, Role) -> Request {
    if (t.where == Where::kSibling) return std::nullopt;
    rv1::GetOrganizationRequest r;
    r.set_name(t.city->organization);
    return Encode(r);
  };
  b[rp + "UpdateOrganization"] = [](const Target& t, Role) -> Request {
    if (t.where == Where::kSibling) return std::nullopt;
    rv1::UpdateOrganizationRequest r;
    r.mutable_organization()->set_name(t.city->organization);
    r.mutable_organization()->set_description("放課後の居場所");
    r.add_update_mask("description");
    return Encode(r);
  };
  b[rp + "ListOrganizations"] = [](const Target& t, Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    rv1::ListOrganizationsRequest r;
    r.set_parent(t.city->parent);
    return Encode(r);
  };
  b[rp + "CreateLocation"] = [](const Target& t, Role) -> Request {
    if (t.where == Where::kSibling) return std::nullopt;
    rv1::CreateLocationRequest r;
    r.set_request_id(RequestId());
    r.mutable_location()->set_organization(t.city->organization);
    r.mutable_location()->set_display_name("分室");
    r.mutable_location()->set_area_code(t.p().area);
    return Encode(r);
  };
  b[rp + "GetLocation"] = [](const Target& t, Role) -> Request {
    if (t.where == Where::kSibling) return std::nullopt;
    rv1::GetLocationRequest r;
    r.set_name(t.city->location);
    return Encode(r);
  };
  b[rp + "UpdateLocation"] = [](const Target& t, Role) -> Request {
    if (t.where == Where::kSibling) return std::nullopt;
    rv1::UpdateLocationRequest r;
    r.mutable_location()->set_name(t.city->location);
    r.mutable_location()->set_description("駐車場あり");
    r.add_update_mask("description");
    return Encode(r);
  };
  b[rp + "ListLocations"] = [](const Target& t, Role) -> Request {
    if (t.where == Where::kSibling) return std::nullopt;
    rv1::ListLocationsRequest r;
    r.set_parent(t.city->organization);
    return Encode(r);
  };
  b[rp + "CreateSupport"] = [](const Target& t, Role) -> Request {
    if (t.where == Where::kSibling) return std::nullopt;
    rv1::CreateSupportRequest r;
    r.set_request_id(RequestId());
    r.mutable_support()->set_organization(t.city->organization);
    r.mutable_support()->set_display_name("こども食堂");
    r.mutable_support()->set_category(
        rv1::SUPPORT_CATEGORY_CHILDRENS_CAFETERIA);
    return Encode(r);
  };
  b[rp + "GetSupport"] = [](const Target& t, Role) -> Request {
    if (t.where == Where::kSibling) return std::nullopt;
    rv1::GetSupportRequest r;
    r.set_name(t.city->support);
    return Encode(r);
  };
  b[rp + "UpdateSupport"] = [](const Target& t, Role) -> Request {
    if (t.where == Where::kSibling) return std::nullopt;
    rv1::UpdateSupportRequest r;
    r.mutable_support()->set_name(t.city->support);
    r.mutable_support()->set_description("週二回");
    r.add_update_mask("description");
    return Encode(r);
  };
  b[rp + "SearchSupports"] = [](const Target& t, Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    rv1::SearchSupportsRequest r;
    r.set_parent(t.city->parent);
    return Encode(r);
  };
  // One open referral per case and support: a fresh case per call.
  b[rp + "CreateReferral"] = [](const Target& t, Role role) -> Request {
    rv1::CreateReferralRequest r;
    r.set_parent(t.city->parent);
    r.set_request_id(RequestId());
    r.mutable_referral()->set_case_(FreshCase(t, role));
    r.mutable_referral()->set_support(t.missing() ? cities_[0].support
                                                  : t.city->support);
    *r.mutable_referral()->mutable_proposed_date() = Today();
    return Encode(r);
  };
  b[rp + "GetReferral"] = [](const Target& t, Role) -> Request {
    rv1::GetReferralRequest r;
    r.set_name(t.p().referral);
    return Encode(r);
  };
  b[rp + "ListReferrals"] = [](const Target& t, Role) -> Request {
    rv1::ListReferralsRequest r;
    r.set_parent(t.city->parent);
    r.set_case_(t.p().case_name);
    return Encode(r);
  };
  // Consent and state changes need a proposed referral: one per call.
  b[rp + "RecordReferralConsent"] = [](const Target& t, Role role) -> Request {
    rv1::RecordReferralConsentRequest r;
    r.set_name(FreshReferral(t, role));
    r.set_request_id(RequestId());
    r.mutable_consent()->set_basis(rv1::SHARING_BASIS_HOUSEHOLD_CONSENT);
    *r.mutable_consent()->mutable_given_date() = Today();
    return Encode(r);
  };
  b[rp + "ChangeReferralState"] = [](const Target& t, Role role) -> Request {
    rv1::ChangeReferralStateRequest r;
    r.set_name(FreshReferral(t, role));
    r.set_state(rv1::REFERRAL_STATE_WITHDRAWN);
    *r.mutable_effective_date() = Today();
    r.set_reason("家庭の希望");
    r.set_request_id(RequestId());
    return Encode(r);
  };
  b[rp + "ListOverdueReferrals"] = [](const Target& t, Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    rv1::ListOverdueReferralsRequest r;
    r.set_parent(t.city->parent);
    return Encode(r);
  };
  b[rp + "RevokeReferral"] = [](const Target& t, Role role) -> Request {
    rv1::RevokeReferralRequest r;
    r.set_name(FreshReferral(t, role));
    r.set_reason("誤って登録した");
    r.set_request_id(RequestId());
    return Encode(r);
  };
  // One application per child and hub: a fresh case per call.
  b[rp + "CreateHubApplication"] = [](const Target& t, Role role) -> Request {
    rv1::CreateHubApplicationRequest r;
    r.set_parent(t.city->parent);
    r.set_request_id(RequestId());
    r.mutable_usage()->set_hub_code(t.p().hub);
    r.mutable_usage()->set_case_(FreshCase(t, role));
    r.mutable_usage()->mutable_application()->set_applicant(
        rv1::APPLICANT_CITY);
    *r.mutable_usage()->mutable_application()->mutable_application_date() =
        Today();
    return Encode(r);
  };
  // The caller's role leads: a 要対協 case for the case worker.
  b[rp + "RecordHubAssessment"] = [](const Target& t, Role role) -> Request {
    rv1::RecordHubAssessmentRequest r;
    r.set_name(FreshUsage(t, role, kApplied, role == Role::kCaseWorker));
    r.set_request_id(RequestId());
    *r.mutable_assessment()->mutable_hearing_date() = Today();
    r.mutable_assessment()->set_summary("聞き取りをした");
    return Encode(r);
  };
  b[rp + "DecideHubUsage"] = [](const Target& t, Role role) -> Request {
    rv1::DecideHubUsageRequest r;
    r.set_name(FreshUsage(t, role, kAssessed));
    r.set_request_id(RequestId());
    r.mutable_decision()->set_approved(true);
    *r.mutable_decision()->mutable_decision_date() = Today();
    *r.mutable_decision()->mutable_start_date() = Today();
    return Encode(r);
  };
  b[rp + "RecordPreUseInterview"] = [](const Target& t, Role role) -> Request {
    rv1::RecordPreUseInterviewRequest r;
    r.set_name(FreshUsage(t, role, kApproved));
    r.set_request_id(RequestId());
    *r.mutable_interview()->mutable_interview_date() = Today();
    r.mutable_interview()->set_notes("面談した");
    return Encode(r);
  };
  // Plans are versions: another on the side's own usage.
  b[rp + "RecordHubSupportPlan"] = [](const Target& t, Role) -> Request {
    rv1::RecordHubSupportPlanRequest r;
    r.set_name(t.p().usage);
    r.set_request_id(RequestId());
    *r.mutable_plan()->mutable_plan_date() = Today();
    r.mutable_plan()->add_goals("友だちと遊ぶ");
    return Encode(r);
  };
  // Each version is reviewed once: a usage with one fresh plan per call.
  b[rp + "ReviewHubSupportPlan"] = [](const Target& t, Role role) -> Request {
    rv1::ReviewHubSupportPlanRequest r;
    r.set_name(FreshUsage(t, role, kPlanned));
    r.set_version(1);
    *r.mutable_review()->mutable_review_date() = Today();
    r.mutable_review()->set_advice("よい計画");
    r.set_request_id(RequestId());
    return Encode(r);
  };
  // One visit per child and day: a planned usage per call.
  b[rp + "RecordHubVisit"] = [](const Target& t, Role role) -> Request {
    rv1::RecordHubVisitRequest r;
    r.set_parent(FreshUsage(t, role, kPlanned));
    r.set_request_id(RequestId());
    *r.mutable_visit()->mutable_visit_date() = Today();
    r.mutable_visit()->set_arrival_time("00:30");
    r.mutable_visit()->set_departure_time("00:40");
    return Encode(r);
  };
  b[rp + "ListHubVisits"] = [](const Target& t, Role) -> Request {
    if (t.missing()) return std::nullopt;
    rv1::ListHubVisitsRequest r;
    r.set_hub_code(t.p().hub);
    *r.mutable_from_date() = Today();
    *r.mutable_to_date() = Today();
    return Encode(r);
  };
  b[rp + "EndHubUsage"] = [](const Target& t, Role role) -> Request {
    rv1::EndHubUsageRequest r;
    r.set_name(FreshUsage(t, role, kApproved));
    *r.mutable_end()->mutable_end_date() = Today();
    r.mutable_end()->set_reason(rv1::HUB_USAGE_END_REASON_FAMILY_DECLINED);
    r.set_request_id(RequestId());
    return Encode(r);
  };
  b[rp + "GetHubUsage"] = [](const Target& t, Role) -> Request {
    rv1::GetHubUsageRequest r;
    r.set_name(t.p().usage);
    return Encode(r);
  };
  // Operators and the city name a hub; staff of a case name the case.
  b[rp + "ListHubUsages"] = [](const Target& t, Role role) -> Request {
    rv1::ListHubUsagesRequest r;
    r.set_parent(t.city->parent);
    if (role == Role::kHubOperator || role == Role::kCentreDirector ||
        role == Role::kCityOperations) {
      if (t.missing()) return std::nullopt;
      r.set_hub_code(t.p().hub);
    } else {
      r.set_case_(t.p().case_name);
    }
    return Encode(r);
  };

  // The trail of the side's case: its referral and usage.
  b[rp + "ListReferralAudit"] = [](const Target& t, Role) -> Request {
    rv1::ListReferralAuditRequest r;
    r.set_case_(t.p().case_name);
    return Encode(r);
  };

  // ---- reporting ----------------------------------------------------------
  b[pp + "GetWardComparison"] = [year](const Target& t, Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    pv1::GetWardComparisonRequest r;
    r.set_parent(t.city->parent);
    r.set_fiscal_year(year);
    return Encode(r);
  };
  b[pp + "GetProjectionStatus"] = [](const Target& t, Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    return Encode(pv1::GetProjectionStatusRequest());
  };
  b[pp + "ExportWardComparison"] = [year](const Target& t, Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    pv1::ExportWardComparisonRequest r;
    r.set_parent(t.city->parent);
    r.set_fiscal_year(year);
    r.set_format(pv1::EXPORT_FORMAT_CSV);
    return Encode(r);
  };
  b[pp + "GetHubMonthlyReport"] = [](const Target& t, Role) -> Request {
    if (t.missing()) return std::nullopt;
    pv1::GetHubMonthlyReportRequest r;
    r.set_parent(t.city->parent);
    r.set_hub_code(t.p().hub);
    r.set_month(absl::StrFormat("%04d-%02d", today_->year(), today_->month()));
    return Encode(r);
  };
  b[pp + "GetWardTrends"] = [year](const Target& t, Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    pv1::GetWardTrendsRequest r;
    r.set_parent(t.city->parent);
    r.set_from_fiscal_year(year - 1);
    r.set_to_fiscal_year(year);
    return Encode(r);
  };

  // ---- the event feed (no municipality: every service's whole feed) ----
  b["kosapo.events.v1.EventFeed/ListEvents"] = [](const Target& t,
                                                  Role) -> Request {
    if (MunicipalityOnly(t)) return std::nullopt;
    return Encode(events::v1::ListEventsRequest());
  };
  return b;
}

bool Mentions(const std::string& encoded, const std::string& name);

// Whether an encoded request is refused from the caller's token alone,
// before any record is looked up, so that it says nothing about which
// records exist: it names `city` ("municipalities/27100" in a parent or a
// name, or the code itself), or, for a caller scoped to hubs, a hub of
// `city` by its code (the token lists the caller's hubs).
bool RefusedByTheToken(const std::string& encoded, const City& city,
                       auth::Scopes scopes) {
  if (Mentions(encoded, city.code)) {
    return true;
  }
  for (size_t at = encoded.find(city.parent); at != std::string::npos;
       at = encoded.find(city.parent, at + 1)) {
    const size_t end = at + city.parent.size();
    if (end == encoded.size() || !absl::ascii_isdigit(encoded[end])) {
      return true;
    }
  }
  if (scopes.Has(Scope::kHub)) {
    for (const Place& place : city.place) {
      if (Mentions(encoded, place.hub)) {
        return true;
      }
    }
  }
  return false;
}

// What the matrix promises `role` on `where`: OK in scope, PERMISSION_DENIED
// out of it, NOT_FOUND for a record that does not exist. Another city's
// record found by a global id (cases/12) is NOT_FOUND too, as if it did not
// exist: ids are shared by every city, and a refusal would tell which exist
// there. A request refused from the token alone (RefusedByTheToken) is
// PERMISSION_DENIED.
grpc::StatusCode Expected(auth::Scopes scopes, Where where,
                          bool refused_by_the_token) {
  const bool everywhere =
      scopes.Has(Scope::kAny) || scopes.Has(Scope::kAnyCounts);
  switch (where) {
    case Where::kOwn:
      return grpc::StatusCode::OK;
    case Where::kSibling:
      return grpc::StatusCode::PERMISSION_DENIED;
    case Where::kForeign:
      return everywhere             ? grpc::StatusCode::OK
             : refused_by_the_token ? grpc::StatusCode::PERMISSION_DENIED
                                    : grpc::StatusCode::NOT_FOUND;
    case Where::kMissing:
      return grpc::StatusCode::NOT_FOUND;
  }
  return grpc::StatusCode::UNKNOWN;
}

// An error message with its numbers blanked: another city's record and a
// missing one differ only in their ids.
std::string WithoutNumbers(absl::string_view message) {
  std::string out;
  for (const char c : message) {
    if (!absl::ascii_isdigit(c)) {
      out.push_back(c);
    } else if (out.empty() || out.back() != '#') {
      out.push_back('#');
    }
  }
  return out;
}

// A scope that reaches the whole municipality has no sibling record.
bool HasSibling(auth::Scopes scopes) {
  return !(scopes.Has(Scope::kCity) || scopes.Has(Scope::kCounts) ||
           scopes.Has(Scope::kAny) || scopes.Has(Scope::kAnyCounts));
}

// The head sequence of every service's event feed. Every write appends
// its events in the transaction that makes it, so a refused call must leave
// every head where it was: a handler that writes first and refuses after
// shows here.
std::vector<int64_t> FeedHeads(
    std::map<std::string, std::unique_ptr<events::v1::EventFeed::Stub>>&
        feeds) {
  std::vector<int64_t> heads;
  for (auto& [name, feed] : feeds) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    events::v1::ListEventsRequest request;
    request.set_after_sequence(std::numeric_limits<int64_t>::max() - 1);
    events::v1::ListEventsResponse response;
    const grpc::Status status = feed->ListEvents(&context, request, &response);
    EXPECT_TRUE(status.ok()) << name << " feed: " << status.error_message();
    heads.push_back(response.head_sequence());
  }
  return heads;
}

// The names of the records of a side that an answer could carry.
std::vector<std::string> RecordNames(const Place& place) {
  return {place.case_name, place.referral, place.usage,
          place.urgent,    place.sheet,    place.decision};
}

// Whether an encoded message holds `name` as a whole string field: its
// length (one byte, as every name here is shorter than 128) and its bytes,
// so "cases/1" is not found in "cases/12".
bool Mentions(const std::string& encoded, const std::string& name) {
  return encoded.find(static_cast<char>(name.size()) + name) !=
         std::string::npos;
}

TEST_F(ScopeWalk, EveryRpcOfTheMatrixHasARequestBuilderOrAnExemption) {
  ASSERT_EQ(setup_error_, nullptr) << *setup_error_;
  const auto builders = Builders();
  const auto exemptions = Exemptions();
  const auth::PermissionMatrix& matrix = auth::PermissionMatrix::Embedded();
  std::set<std::string> methods(matrix.methods().begin(),
                                matrix.methods().end());
  for (const std::string& method : methods) {
    EXPECT_TRUE(builders.count(method) + exemptions.count(method) == 1)
        << method << ": give it a request builder in ScopeWalk::Builders() or "
        << "an exemption saying why not (not both)";
  }
  for (const auto& [method, build] : builders) {
    EXPECT_TRUE(methods.count(method) == 1)
        << method << " has a builder but is not in the matrix";
  }
}

TEST_F(ScopeWalk, EveryAllowedRoleGetsExactlyWhatTheMatrixSaysInAndOutOfScope) {
  ASSERT_EQ(setup_error_, nullptr) << *setup_error_;
  const auth::PermissionMatrix& matrix = auth::PermissionMatrix::Embedded();
  const auto builders = Builders();
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  int calls = 0;
  int out_of_scope = 0;  // calls expecting PERMISSION_DENIED or NOT_FOUND
  // Another city's records answered word for word as missing ones.
  int foreign_like_missing = 0;
  // In-scope answers that name the caller's own records: the leak check
  // above finds names where they are.
  int answers_naming_own_records = 0;
  std::map<std::string, std::unique_ptr<events::v1::EventFeed::Stub>> feeds;
  for (const char* name : {"screening", "case", "referral", "reporting"}) {
    feeds[name] = events::v1::EventFeed::NewStub(
        services_->at(name).service_channel(kServiceName));
  }
  for (const std::string& method : matrix.methods()) {
    auto build = builders.find(method);
    if (build == builders.end()) {
      continue;  // exempt, checked above
    }
    std::string owner = FourServices::ServiceOf(method);
    if (owner.empty()) {
      owner = "case";  // the feed: the same code in every service
    }
    for (Role role : auth::kAllRoles) {
      const std::optional<auth::Scopes> scopes = matrix.Allowed(method, role);
      if (!scopes.has_value()) {
        continue;  // refused outright: permission_wall_test
      }
      const auth::Principal caller = Person(role, cities_[0], 0);
      const std::string channel_key =
          absl::StrCat(owner, role == Role::kService ? "/service" : "");
      if (channels.count(channel_key) == 0) {
        channels[channel_key] =
            role == Role::kService
                ? services_->at(owner).service_channel(kServiceName)
                : services_->at(owner).channel();
      }
      const auto& channel = channels.at(channel_key);
      const std::string token = tokens_->Sign(caller);
      int walked_out = 0;
      bool walked_in = false;
      std::string foreign_not_found;
      for (Where where :
           {Where::kOwn, Where::kSibling, Where::kForeign, Where::kMissing}) {
        if (where == Where::kSibling && !HasSibling(*scopes)) {
          continue;
        }
        const Target t{where,
                       where == Where::kForeign   ? &cities_[1]
                       : where == Where::kMissing ? missing_
                                                  : &cities_[0],
                       where == Where::kSibling ? 1 : 0};
        const std::string what = absl::StrCat(
            method, " as ", std::string(auth::RoleName(role)), " (",
            scopes->ToString(), ") on the ", WhereName(where), " record");
        Request request;
        try {
          request = build->second(t, role);
        } catch (const FixtureError& error) {
          ADD_FAILURE() << what << ": preparing the call: " << error.what();
          continue;
        }
        if (!request.has_value()) {
          continue;
        }
        const grpc::StatusCode want = Expected(
            *scopes, where, RefusedByTheToken(*request, cities_[1], *scopes));
        const bool refused = want != grpc::StatusCode::OK;
        const std::vector<int64_t> heads_before =
            refused ? FeedHeads(feeds) : std::vector<int64_t>();
        std::string response;
        const grpc::Status status =
            testing::CallWithBytes(channel, method, token, *request,
                                   std::chrono::seconds(10), &response);
        ++calls;
        if (refused) {
          EXPECT_EQ(FeedHeads(feeds), heads_before)
              << what << ": refused, but something was written";
        }
        if (where == Where::kOwn) {
          walked_in = true;
        } else if (want != grpc::StatusCode::OK) {
          ++walked_out;
          ++out_of_scope;
        }
        if (where == Where::kSibling && RowLevel(method)) {
          // The row is refused inside an OK answer.
          EXPECT_EQ(status.error_code(), grpc::StatusCode::OK)
              << what << ": " << status.error_message();
          sv1::ImportSheetsResponse answer;
          ASSERT_TRUE(answer.ParseFromString(response)) << what;
          EXPECT_EQ(answer.rejected(), 1) << what;
          EXPECT_EQ(answer.accepted() + answer.unchanged(), 0) << what;
          continue;
        }
        EXPECT_EQ(status.error_code(), want)
            << what << ": " << status.error_message();
        // Another city's record reads exactly as a missing one.
        if (where == Where::kForeign && want == grpc::StatusCode::NOT_FOUND) {
          foreign_not_found = status.error_message();
        }
        if (where == Where::kMissing && !foreign_not_found.empty()) {
          EXPECT_EQ(WithoutNumbers(foreign_not_found),
                    WithoutNumbers(status.error_message()))
              << what << ": another city's record is told from a missing one";
          ++foreign_like_missing;
        }
        // An in-scope answer names no record out of the caller's scope.
        if (where == Where::kOwn && status.ok()) {
          std::vector<std::string> outside;
          if (HasSibling(*scopes)) {
            outside = RecordNames(cities_[0].place[1]);
          }
          if (!scopes->Has(Scope::kAny) && !scopes->Has(Scope::kAnyCounts)) {
            for (const Place& place : cities_[1].place) {
              for (const std::string& name : RecordNames(place)) {
                outside.push_back(name);
              }
            }
          }
          // Aggregates name no child's record at all, the caller's own
          // municipality's included.
          if (scopes->Has(Scope::kCounts) || scopes->Has(Scope::kAnyCounts)) {
            for (const City* city : {&cities_[0], &cities_[1]}) {
              for (const Place& place : city->place) {
                for (const std::string& name : RecordNames(place)) {
                  outside.push_back(name);
                }
              }
            }
          }
          for (const std::string& name : outside) {
            EXPECT_FALSE(Mentions(response, name))
                << what << ": the answer names " << name;
          }
          for (const std::string& name : RecordNames(cities_[0].place[0])) {
            answers_naming_own_records += Mentions(response, name) ? 1 : 0;
          }
          // The operator's own monthly report names its children's usages,
          // which the analyst's (aggregates) must not.
          if (method ==
                  "kosapo.reporting.v1.ReportingService/GetHubMonthlyReport" &&
              role == Role::kHubOperator) {
            EXPECT_TRUE(Mentions(response, cities_[0].place[0].usage)) << what;
          }
        }
      }
      EXPECT_TRUE(walked_in)
          << method << " as " << auth::RoleName(role) << ": no in-scope call";
      if (!scopes->Has(Scope::kAny) && !scopes->Has(Scope::kAnyCounts)) {
        EXPECT_GT(walked_out, 0) << method << " as " << auth::RoleName(role)
                                 << ": no out-of-scope call";
      }
    }
  }
  std::cout << "scope walk: " << calls << " calls, " << out_of_scope
            << " refused (out of scope or missing), "
            << answers_naming_own_records
            << " in-scope answers naming the caller's records, "
            << foreign_like_missing
            << " of another city's records answered as missing ones\n";
  EXPECT_GT(out_of_scope, 0);
  EXPECT_GT(answers_naming_own_records, 0);
  EXPECT_GT(foreign_like_missing, 0);
}

// Request ids are the client's: another user may send one already used
// (a shared generator, a guess). Idempotency must not hand them the record
// the first request made when it is outside their scope; the same user's
// retry still gets it back.
TEST_F(ScopeWalk, AReplayedRequestIdDoesNotHandBackAnotherUsersRecord) {
  ASSERT_EQ(setup_error_, nullptr) << *setup_error_;
  const City& city = cities_[0];
  const Target own{Where::kOwn, &city, 0};
  const Target sibling{Where::kSibling, &city, 1};
  const int year = FiscalYearOf(*today_);
  auto new_case = [&](const Target& t, const std::string& request_id) {
    cv1::CreateCaseRequest r;
    r.set_parent(city.parent);
    r.set_request_id(request_id);
    cv1::Case* c = r.mutable_case_();
    c->set_area_code(t.p().area);
    c->set_source(cv1::CASE_SOURCE_AGENCY);
    *c->mutable_opened_date() = Today();
    c->mutable_child()->set_name("試験 四郎");
    c->mutable_child()->set_kana(UniqueKana());
    *c->mutable_child()->mutable_birth_date() =
        DateToProto(absl::CivilDay(year - 7, 8, 1));
    return r;
  };
  // The ward officer of A2 reuses the request id of A1's new case.
  const std::string case_id = RequestId();
  cv1::Case first;
  ASSERT_TRUE(Cases()
                  .CreateCase(As(Person(Role::kWardOfficer, city, 0)).get(),
                              new_case(own, case_id), &first)
                  .ok());
  cv1::Case replayed;
  grpc::Status status =
      Cases().CreateCase(As(Person(Role::kWardOfficer, city, 1)).get(),
                         new_case(sibling, case_id), &replayed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << "CreateCase replayed by another ward: got " << replayed.name() << " "
      << status.error_message();
  cv1::Case retried;
  ASSERT_TRUE(Cases()
                  .CreateCase(As(Person(Role::kWardOfficer, city, 0)).get(),
                              new_case(own, case_id), &retried)
                  .ok());
  EXPECT_EQ(retried.name(), first.name());

  // The desk of side b reuses the request id of side a's referral and hub
  // application, each for a case of its own.
  for (const std::string method : {"CreateReferral", "CreateHubApplication"}) {
    SCOPED_TRACE(method);
    const std::string request_id = RequestId();
    auto request = [&](const Target& t, const std::string& case_name) {
      if (method == "CreateReferral") {
        rv1::CreateReferralRequest r;
        r.set_parent(city.parent);
        r.set_request_id(request_id);
        r.mutable_referral()->set_case_(case_name);
        r.mutable_referral()->set_support(city.support);
        *r.mutable_referral()->mutable_proposed_date() = Today();
        return r.SerializeAsString();
      }
      rv1::CreateHubApplicationRequest r;
      r.set_parent(city.parent);
      r.set_request_id(request_id);
      r.mutable_usage()->set_hub_code(t.p().hub);
      r.mutable_usage()->set_case_(case_name);
      r.mutable_usage()->mutable_application()->set_applicant(
          rv1::APPLICANT_CITY);
      *r.mutable_usage()->mutable_application()->mutable_application_date() =
          Today();
      return r.SerializeAsString();
    };
    const std::string full = "kosapo.referral.v1.ReferralService/" + method;
    const std::string a_case = FreshCase(own, Role::kConsultationDesk);
    const std::string b_case = FreshCase(sibling, Role::kConsultationDesk);
    auto call = [&](int side, const std::string& body, std::string* answer) {
      return testing::CallWithBytes(
          services_->at("referral").channel(), full,
          tokens_->Sign(Person(Role::kConsultationDesk, city, side)), body,
          std::chrono::seconds(10), answer);
    };
    std::string answer;
    ASSERT_TRUE(call(0, request(own, a_case), &answer).ok());
    const std::string first_answer = answer;
    answer.clear();
    status = call(1, request(sibling, b_case), &answer);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << status.error_message();
    EXPECT_EQ(answer.find(a_case), std::string::npos)
        << "the replay handed back side a's record";
    answer.clear();
    ASSERT_TRUE(call(0, request(own, a_case), &answer).ok());
    EXPECT_EQ(answer, first_answer);
  }

  // Two who may raise urgent reports on one case (its ward and its hub)
  // pick the same request id: the hub's operator does not get the ward's
  // report, whose description is not theirs to read; the ward's retry does.
  cv1::RaiseUrgentReportRequest urgent;
  urgent.set_parent(own.p().case_name);
  urgent.set_request_id(RequestId());
  urgent.mutable_report()->set_category(cv1::URGENT_CATEGORY_OTHER);
  urgent.mutable_report()->set_description("区役所だけが知る事情");
  cv1::UrgentReport raised;
  ASSERT_TRUE(
      Cases()
          .RaiseUrgentReport(As(Person(Role::kWardOfficer, city, 0)).get(),
                             urgent, &raised)
          .ok());
  cv1::UrgentReport by_hub;
  status = Cases().RaiseUrgentReport(
      As(Person(Role::kHubOperator, city, 0)).get(), urgent, &by_hub);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS)
      << status.error_message();
  EXPECT_TRUE(by_hub.name().empty()) << by_hub.name();
  EXPECT_EQ(by_hub.description(), "");
  cv1::UrgentReport retried_report;
  ASSERT_TRUE(
      Cases()
          .RaiseUrgentReport(As(Person(Role::kWardOfficer, city, 0)).get(),
                             urgent, &retried_report)
          .ok());
  EXPECT_EQ(retried_report.name(), raised.name());
}

// A record out of scope is refused before anything about its state is
// said: an answer that a step does not follow from the record's state, or
// that a date is before the record's own, would tell the caller about a
// record they may not see. Each request is first sent on the caller's own
// record, where it must fail for the record's state (so the probe is one),
// then on the out-of-scope record, where it must be PERMISSION_DENIED (or
// NOT_FOUND for another city's record found by its id).
TEST_F(ScopeWalk, OutOfScopeIsRefusedBeforeTheRecordsStateIsChecked) {
  ASSERT_EQ(setup_error_, nullptr) << *setup_error_;
  const auth::PermissionMatrix& matrix = auth::PermissionMatrix::Embedded();
  const std::string rp = "kosapo.referral.v1.ReferralService/";
  const std::string cp = "kosapo.cases.v1.CaseService/";
  const kosapo::type::Date yesterday = DateToProto(*today_ - 1);
  struct Probe {
    Role role;
    std::string method;
    // The other side of municipality 1, else the other municipality.
    bool sibling;
    std::function<std::string(const City&, const Place&)> request;
  };
  const std::vector<Probe> probes = {
      // interviewed already, and in use
      {Role::kHubOperator, rp + "RecordPreUseInterview", true,
       [](const City&, const Place& p) {
         rv1::RecordPreUseInterviewRequest r;
         r.set_name(p.usage);
         r.set_request_id(RequestId());
         *r.mutable_interview()->mutable_interview_date() = Today();
         r.mutable_interview()->set_notes("面談した");
         return r.SerializeAsString();
       }},
      // assessed already
      {Role::kConsultationDesk, rp + "RecordHubAssessment", true,
       [](const City&, const Place& p) {
         rv1::RecordHubAssessmentRequest r;
         r.set_name(p.usage);
         r.set_request_id(RequestId());
         *r.mutable_assessment()->mutable_hearing_date() = Today();
         r.mutable_assessment()->set_summary("聞き取り");
         return r.SerializeAsString();
       }},
      // decided already
      {Role::kCentreDirector, rp + "DecideHubUsage", false,
       [](const City&, const Place& p) {
         rv1::DecideHubUsageRequest r;
         r.set_name(p.usage);
         r.set_request_id(RequestId());
         r.mutable_decision()->set_approved(true);
         *r.mutable_decision()->mutable_decision_date() = Today();
         *r.mutable_decision()->mutable_start_date() = Today();
         return r.SerializeAsString();
       }},
      // no such plan version
      {Role::kCityOperations, rp + "ReviewHubSupportPlan", false,
       [](const City&, const Place& p) {
         rv1::ReviewHubSupportPlanRequest r;
         r.set_name(p.usage);
         r.set_version(99);
         *r.mutable_review()->mutable_review_date() = Today();
         r.set_request_id(RequestId());
         return r.SerializeAsString();
       }},
      // visited today already
      {Role::kHubOperator, rp + "RecordHubVisit", true,
       [](const City&, const Place& p) {
         rv1::RecordHubVisitRequest r;
         r.set_parent(p.usage);
         r.set_request_id(RequestId());
         *r.mutable_visit()->mutable_visit_date() = Today();
         r.mutable_visit()->set_arrival_time("01:00");
         r.mutable_visit()->set_departure_time("01:10");
         return r.SerializeAsString();
       }},
      // ended before the visit of today
      {Role::kHubOperator, rp + "EndHubUsage", true,
       [yesterday](const City&, const Place& p) {
         rv1::EndHubUsageRequest r;
         r.set_name(p.usage);
         *r.mutable_end()->mutable_end_date() = yesterday;
         r.mutable_end()->set_reason(rv1::HUB_USAGE_END_REASON_MOVED_AWAY);
         r.set_request_id(RequestId());
         return r.SerializeAsString();
       }},
      // planned before the decision of today
      {Role::kHubOperator, rp + "RecordHubSupportPlan", true,
       [yesterday](const City&, const Place& p) {
         rv1::RecordHubSupportPlanRequest r;
         r.set_name(p.usage);
         r.set_request_id(RequestId());
         *r.mutable_plan()->mutable_plan_date() = yesterday;
         r.mutable_plan()->add_goals("目標");
         return r.SerializeAsString();
       }},
      // connected straight from proposed
      {Role::kWardOfficer, rp + "ChangeReferralState", true,
       [](const City&, const Place& p) {
         rv1::ChangeReferralStateRequest r;
         r.set_name(p.referral);
         r.set_state(rv1::REFERRAL_STATE_CONNECTED);
         *r.mutable_effective_date() = Today();
         r.set_request_id(RequestId());
         return r.SerializeAsString();
       }},
      // proposed before the case opened today
      {Role::kWardOfficer, rp + "CreateReferral", true,
       [yesterday](const City& city, const Place& p) {
         rv1::CreateReferralRequest r;
         r.set_parent(city.parent);
         r.set_request_id(RequestId());
         r.mutable_referral()->set_case_(p.case_name);
         r.mutable_referral()->set_support(city.support);
         *r.mutable_referral()->mutable_proposed_date() = yesterday;
         return r.SerializeAsString();
       }},
      // the case is open: nothing to reopen
      {Role::kWardOfficer, cp + "ReopenCase", true,
       [](const City&, const Place& p) {
         cv1::ReopenCaseRequest r;
         r.set_name(p.case_name);
         *r.mutable_effective_date() = Today();
         r.set_reason("再開");
         r.set_request_id(RequestId());
         return r.SerializeAsString();
       }},
      // resolved needs the outreach done, which it is not
      {Role::kWardOfficer, cp + "RecordOutcome", true,
       [](const City&, const Place& p) {
         cv1::RecordOutcomeRequest r;
         r.set_name(p.case_name);
         r.set_outcome(cv1::OUTCOME_IMPROVED_RESOLVED);
         *r.mutable_effective_date() = Today();
         r.set_request_id(RequestId());
         return r.SerializeAsString();
       }},
      // effective before the case opened today
      {Role::kWardOfficer, cp + "ChangeApproachStatus", true,
       [yesterday](const City&, const Place& p) {
         cv1::ChangeApproachStatusRequest r;
         r.set_name(p.case_name);
         r.set_status(cv1::APPROACH_STATUS_OUTREACH_DONE);
         *r.mutable_effective_date() = yesterday;
         r.set_request_id(RequestId());
         return r.SerializeAsString();
       }},
  };
  const City& city = cities_[0];
  for (const Probe& probe : probes) {
    const std::string what = absl::StrCat(
        probe.method, " as ", std::string(auth::RoleName(probe.role)));
    const grpc::Status own = CallAs(city, probe.role, probe.method,
                                    probe.request(city, city.place[0]));
    EXPECT_NE(own.error_code(), grpc::StatusCode::OK)
        << what << " on the own record: not a probe of its state";
    EXPECT_NE(own.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << what << " on the own record: " << own.error_message();
    const City& other = probe.sibling ? city : cities_[1];
    const std::string body =
        probe.request(other, other.place[probe.sibling ? 1 : 0]);
    const grpc::Status outside = CallAs(city, probe.role, probe.method, body);
    EXPECT_EQ(outside.error_code(),
              probe.sibling || RefusedByTheToken(
                                   body, other,
                                   *matrix.Allowed(probe.method, probe.role))
                  ? grpc::StatusCode::PERMISSION_DENIED
                  : grpc::StatusCode::NOT_FOUND)
        << what << " on the out-of-scope record: " << outside.error_message();
  }
  // Moving the sibling's case into the caller's own area is a write to
  // that case: refused like any other.
  cv1::UpdateCaseRequest move;
  move.mutable_case_()->set_name(city.place[1].case_name);
  move.mutable_case_()->set_area_code(city.place[0].area);
  move.add_update_mask("area_code");
  EXPECT_EQ(CallAs(city, Role::kWardOfficer, cp + "UpdateCase",
                   move.SerializeAsString())
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// The hub scope reaches the child of a case enrolled at the caller's hub,
// never the household or who works on the case; the case's ward sees both.
TEST_F(ScopeWalk, HubOperatorsSeeTheChildOnly) {
  ASSERT_EQ(setup_error_, nullptr) << *setup_error_;
  const City& city = cities_[0];
  cv1::GetCaseRequest request;
  request.set_name(city.place[0].case_name);
  cv1::Case full;
  ASSERT_TRUE(Cases()
                  .GetCase(As(Person(Role::kWardOfficer, city, 0)).get(),
                           request, &full)
                  .ok());
  EXPECT_GT(full.assignees_size(), 0);
  cv1::Case child_only;
  ASSERT_TRUE(Cases()
                  .GetCase(As(Person(Role::kHubOperator, city, 0)).get(),
                           request, &child_only)
                  .ok());
  EXPECT_EQ(child_only.child().kana(), full.child().kana());
  EXPECT_EQ(child_only.assignees_size(), 0);
  EXPECT_FALSE(child_only.has_household());
  EXPECT_TRUE(child_only.source_detail().empty());
}

// ListReferrals without a case lists the referrals the caller made ("own"):
// side a's ward officer made side a's, side b's made side b's.
TEST_F(ScopeWalk, ListReferralsWithoutACaseListsTheCallersOwn) {
  ASSERT_EQ(setup_error_, nullptr) << *setup_error_;
  const City& city = cities_[0];
  rv1::ListReferralsRequest request;
  request.set_parent(city.parent);
  rv1::ListReferralsResponse listed;
  ASSERT_TRUE(Referrals()
                  .ListReferrals(As(Person(Role::kWardOfficer, city, 0)).get(),
                                 request, &listed)
                  .ok());
  std::set<std::string> names;
  for (const rv1::Referral& referral : listed.referrals()) {
    names.insert(referral.name());
    EXPECT_EQ(referral.referred_by(),
              Person(Role::kWardOfficer, city, 0).subject);
  }
  EXPECT_EQ(names.count(city.place[0].referral), 1u);
  EXPECT_EQ(names.count(city.place[1].referral), 0u);
}

}  // namespace
}  // namespace kosapo
