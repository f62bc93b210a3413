// A deterministic sample city: areas, schools with enrollment, every fiscal
// year's screening (pupils' sheets and school meetings I about every two
// months), and cases opened from the meetings' extractions with their
// outreach, connection and outcome dates, made so that the city's ward
// comparison computed from them equals a given published table (every
// count, hence every rate), or, given only a size, a plausible city of that
// size screened in the current fiscal year. Around the cases: a
// directory of supports (public systems, agencies, local resources and
// drop-in hubs with their schedules), the referrals' targets, a few months
// of hub usage and attendance, urgent reports, conferences, assessments and
// contacts, none of which changes the ward table. The same seed gives the
// same city on every machine (no std:: distributions, whose output differs
// between standard libraries). Loading it into the services is separate
// (loader.h).
#ifndef KOSAPO_TOOLS_SAMPLE_GENERATOR_H_
#define KOSAPO_TOOLS_SAMPLE_GENERATOR_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "services/reporting/domain/ward_table.h"
#include "tools/sample/ward_spec.h"

namespace kosapo::sample {

struct SampleArea {
  std::string code;
  std::string name;
  int display_order = 0;
};

struct SampleSchool {
  std::string code;
  std::string area_code;
  std::string name;
  bool junior_high = false;
};

struct SampleEnrollment {
  int fiscal_year = 0;
  std::string school_code;
  int64_t pupils = 0;
};

struct SampleChild {
  std::string name;
  std::string kana;
  absl::CivilDay birth_date;
  bool male = false;
  std::string school_code;
  int grade = 0;
};

enum class Approach { kInPreparation, kOutreachDone, kNotPossible };

// A pupil with the sheet the school fills in.
struct SamplePupil {
  std::string pupil_id;
  SampleChild child;
  // 0 no signs, 1 some signs (below the review threshold), 2 a meeting-I
  // candidate: how many and which items the sheet marks (DrawAnswers).
  int concern = 0;
  uint64_t answer_seed = 0;
  // The meeting-I decision (index into SampleScreening::meetings) for
  // candidates: extracted when the pupil has a case, else watched in school.
  int meeting = -1;
};

// Screening meeting I of one school.
struct SampleMeeting {
  std::string school_code;
  absl::CivilDay date;
};

// One fiscal year's screening round: the sheets and the meetings I. A city
// made from a table records, for each year, the sheets of the pupils with
// signs (every extracted pupil among them), as a city migrating its paper
// records would; a size-only city the sheet of every pupil.
struct SampleScreening {
  int fiscal_year = 0;
  std::vector<SamplePupil> pupils;
  std::vector<SampleMeeting> meetings;
};

// One observation item of a screening template, as far as answering goes.
struct TemplateItemShape {
  std::string code;
  bool flag = true;
  int max_level = 1;
  double weight = 1;
  bool always_review = false;
};

struct SheetAnswer {
  std::string item;
  // 1 for a marked flag; 1..max_level for a level.
  int value = 0;
};

// The answers of a pupil's sheet: none for concern 0; for concern 1 a
// total below `review_threshold` with no always-review item; for concern 2
// a total at or above it. Deterministic in (items, concern, seed).
std::vector<SheetAnswer> DrawAnswers(
    const std::vector<TemplateItemShape>& items, double review_threshold,
    int concern, uint64_t seed);

// The case-level extras: a conference (screening meeting II) naming the
// persons in charge, an assessment and contact log entries.
struct SampleCaseWork {
  absl::CivilDay conference;
  absl::CivilDay assessed;
  // Days of contacts (home visits, calls, interviews), in order.
  std::vector<absl::CivilDay> contacts;
};

struct SampleCase {
  std::string area_code;
  int fiscal_year = 0;
  absl::CivilDay opened;
  SampleChild child;
  Approach approach = Approach::kInPreparation;
  // When the approach reached its final state (not for kInPreparation).
  absl::CivilDay approach_date;
  // 1 refused, 2 unreachable, 3 moved (for kNotPossible).
  int not_possible_reason = 0;
  // The day a support actually started.
  std::optional<absl::CivilDay> connected;
  // The day the case closed as improved/resolved.
  std::optional<absl::CivilDay> resolved;
  // The support the connecting referral went to (index into
  // SampleCity::supports); set with `connected`.
  int support = -1;
  // The screening (index into SampleCity::screenings, of the case's fiscal
  // year) and its pupil (index into SampleScreening::pupils) whose
  // extraction opened the case; -1 for a case opened by staff.
  int screening = -1;
  int pupil = -1;
  std::optional<SampleCaseWork> work;
};

// Opening hours of one weekday (1 Monday .. 7 Sunday), minutes since
// local midnight, [opens, closes).
struct SampleHours {
  int weekday = 0;
  int opens = 0;
  int closes = 0;
};

// A school-holiday period: 1 summer, 2 winter, 3 spring.
struct SampleHoliday {
  int kind = 0;
  absl::CivilDay start;
  absl::CivilDay end;
};

struct SampleContractService {
  std::string code;
  std::string name;
};

// What makes a support a drop-in hub (児童育成支援拠点).
struct SampleHub {
  std::string hub_code;
  int daily_capacity = 0;
  std::vector<SampleHours> holiday_hours;
  std::vector<SampleHoliday> holidays;
  std::vector<SampleContractService> services;
};

// Organization kinds and support categories use the numbers of
// kosapo.referral.v1.OrganizationKind and SupportCategory.
struct SampleOrganization {
  std::string key;  // stable within the city, for request ids
  std::string name;
  int kind = 0;
  // Where it works from (a location), empty for none.
  std::string area_code;
  std::string address;
};

struct SampleSupport {
  std::string key;
  int organization = 0;  // index into SampleCity::organizations
  std::string name;
  int category = 0;
  std::string description;
  // Empty: the whole city.
  std::vector<std::string> area_codes;
  std::vector<SampleHours> weekly;
  std::optional<SampleHub> hub;
};

struct SampleVisit {
  absl::CivilDay day;
  int arrival = 0;
  int departure = 0;
  std::vector<std::string> services;
};

// A child's use of a hub, the whole Toyonaka flow: application, hearing,
// the centre director's decision, the interview, the plan, visits from
// the start date, and maybe the end. Its first visit is a connected
// support in the ward table, so it is only made for cases already
// connected by then.
struct SampleHubUsage {
  size_t case_index = 0;
  int support = 0;  // the hub
  absl::CivilDay applied;
  absl::CivilDay hearing;
  absl::CivilDay decided;
  absl::CivilDay start;
  absl::CivilDay interview;
  absl::CivilDay planned;
  std::vector<SampleVisit> visits;
  std::optional<absl::CivilDay> ended;
  // kosapo.referral.v1.HubUsageEndReason.
  int end_reason = 0;
};

// An urgent report a hub operator raised about a child of its hub.
struct SampleUrgentReport {
  size_t usage = 0;  // index into SampleCity::hub_usages
  // kosapo.cases.v1.UrgentCategory.
  int category = 0;
  std::string description;
  bool acknowledged = false;
};

struct SampleCity {
  std::string municipality;
  std::string display_name = "見本市";
  // Prefix of every request id the loader sends: derived from the city, so
  // loading it again changes nothing and two cities do not collide.
  std::string request_prefix = "sample-";
  std::vector<SampleArea> areas;
  std::vector<SampleSchool> schools;
  std::vector<SampleEnrollment> enrollment;
  std::vector<SampleCase> cases;
  std::vector<SampleOrganization> organizations;
  std::vector<SampleSupport> supports;
  std::vector<SampleHubUsage> hub_usages;
  std::vector<SampleUrgentReport> urgent_reports;
  // By fiscal year; cases with a pupil open from the screening feed.
  std::vector<SampleScreening> screenings;
};

// A city whose ward comparison for every row of `spec` (as of the row's
// date) has the row's counts. Areas are named by the area rows' labels;
// years with only a city total spread their cases and pupils over the same
// areas. Every case is opened by a school meeting I's extraction dated in
// its fiscal year, 30 days or more before the row's date.
absl::StatusOr<SampleCity> CityFromSpec(const WardSpec& spec, uint64_t seed);

// A plausible city of `pupils` pupils (over `areas` areas; 0 picks a
// number by size) screened in the fiscal year of `today`, with what
// happened so far: sheets for every pupil from the default template,
// meeting-I extractions, then outreach, referrals, outcomes, hub usage
// and the rest, every date before `today`. `municipality` is its 5-digit
// code.
absl::StatusOr<SampleCity> CityOfSize(
    int64_t pupils, int areas, absl::CivilDay today, uint64_t seed,
    const std::string& municipality = "99999");

// Adds the directory, the referrals' targets, hub usage, urgent reports
// and case work to a city whose cases are made, for the cases of its
// latest fiscal year up to `horizon`. Never changes what the ward table
// counts. Called by CityFromSpec and CityOfSize.
void AddExtras(SampleCity& city, absl::CivilDay horizon, uint64_t seed);

// Children at the hub on each day (visits of `hub`, a support index).
std::map<absl::CivilDay, int> HubDayCounts(const SampleCity& city, int hub);

// The counts the ward comparison takes from `city` for `fiscal_year` as of
// `as_of`, for one area (or the whole city when `area_code` is empty):
// the rules the reporting service applies, restated to check the generator.
reporting::WardCounts CountAsOf(const SampleCity& city, int fiscal_year,
                                absl::CivilDay as_of,
                                const std::string& area_code);

}  // namespace kosapo::sample

#endif  // KOSAPO_TOOLS_SAMPLE_GENERATOR_H_
