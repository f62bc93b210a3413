// The rules of a case, apart from gRPC and SQL: names, validation of what
// staff record, who may see what, and the approach status and outcome "as
// of" a date computed from their histories.
#ifndef KOSAPO_SERVICES_CASE_DOMAIN_CASE_RULES_H_
#define KOSAPO_SERVICES_CASE_DOMAIN_CASE_RULES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/auth/principal.h"
#include "common/types/text.h"
#include "kosapo/cases/v1/cases.pb.h"

namespace kosapo::cases {

// "cases/{id}" and the names of records under a case.
std::string CaseName(int64_t id);
absl::StatusOr<int64_t> ParseCaseName(absl::string_view name,
                                      absl::string_view field);
// "cases/{id}/{collection}/{n}" -> (id, n).
absl::StatusOr<std::pair<int64_t, int64_t>> ParseChildName(
    absl::string_view name, absl::string_view collection,
    absl::string_view field);
std::string ChildName(int64_t case_id, absl::string_view collection, int64_t n);

// The kana reading as search compares it: hiragana turned to katakana,
// spaces (ASCII and ideographic) removed. INVALID_ARGUMENT naming `field`
// when it is empty or holds anything but kana, the prolonged sound mark and
// the middle dot.
absl::StatusOr<std::string> KanaKey(absl::string_view kana,
                                    absl::string_view field);

// The case worker leads children on the 要対協 register; the consultation
// desk leads the others.
v1::Lead LeadOf(bool youtaikyo_registered);
// The role wire name that works a lead ("case_worker", "consultation_desk").
absl::string_view LeadRole(v1::Lead lead);

// A new case from staff: area, source, opening date (not after today),
// child, household. `today` is the municipality's calendar day.
absl::Status ValidateNewCase(const v1::Case& c, absl::CivilDay today);
absl::Status ValidateChild(const v1::Child& child, absl::CivilDay today,
                           absl::string_view field);
absl::Status ValidateHousehold(const v1::Household& household,
                               absl::string_view field);
// The update mask paths UpdateCase accepts.
absl::Status ValidateUpdateMask(const std::vector<std::string>& paths);

// A staff-chosen business date: valid, not after `today`, not before the
// case opened (when `opened` is given).
absl::StatusOr<absl::CivilDay> EffectiveDate(const kosapo::type::Date& date,
                                             absl::string_view field,
                                             absl::CivilDay today,
                                             absl::CivilDay opened);

absl::Status ValidateConference(const v1::Conference& conference);
absl::Status ValidateAssessment(const v1::Assessment& assessment);
absl::Status ValidateSupportPlan(const v1::SupportPlan& plan);
absl::Status ValidateContact(const v1::Contact& contact);
absl::Status ValidateUrgentReport(const v1::UrgentReport& report);
// Free text of at most `max_chars` characters (UTF-8 code points); when
// `required`, not blank (common/types/text.h).
using ::kosapo::ValidateText;

// ---- Who may see and do what -------------------------------------------

// What decides access to one case.
struct CaseScope {
  int64_t case_id = 0;  // 0 for a case not stored yet
  std::string municipality;
  std::string area_code;
  std::string school_code;
  std::vector<std::string> assignees;  // subjects
  std::vector<std::string> hubs;
};

enum class Access {
  kNone,
  // The child's identity and school, never the household: hub operators of
  // the child's hub.
  kChild,
  // Everything, and the right to work on the case.
  kFull,
};

Access AccessTo(const auth::Principal& principal, const CaseScope& scope);
// Removes from `c` what `access` may not see (all of it for kNone).
void Redact(v1::Case& c, Access access);
// Hub operators of the child's hub, school staff of the child's school, and
// everyone with full access.
bool MayRaiseUrgentReport(const auth::Principal& principal,
                          const CaseScope& scope);
// The roles that run cases of their areas (and may open cases there).
bool IsAreaStaff(auth::Role role);
// Area staff, case workers and the consultation desk: may open cases in
// their areas and search for a child before doing so.
bool MayOpenCases(auth::Role role);
bool InAreas(const auth::Principal& principal, absl::string_view area);

// ---- Histories ---------------------------------------------------------

struct ApproachEntry {
  v1::ApproachStatus status = v1::APPROACH_STATUS_UNSPECIFIED;
  v1::NotPossibleReason reason = v1::NOT_POSSIBLE_REASON_UNSPECIFIED;
  absl::CivilDay effective_date;
  absl::Time record_time;
};

// The entry in force on `day` as known at `known_at`: the latest effective
// date not after `day`, the later record winning a tie. Null before the
// first entry. `history` in any order.
const ApproachEntry* ApproachAsOf(const std::vector<ApproachEntry>& history,
                                  absl::CivilDay day, absl::Time known_at);

// A change to record: the status is set, a reason comes with "not
// possible" only, and it changes something as of its date.
absl::Status CheckApproachChange(const std::vector<ApproachEntry>& history,
                                 v1::ApproachStatus status,
                                 v1::NotPossibleReason reason,
                                 absl::CivilDay effective_date);

struct OutcomeEntry {
  v1::Outcome outcome = v1::OUTCOME_UNSPECIFIED;  // UNSPECIFIED: reopened
  absl::CivilDay effective_date;
  absl::Time record_time;
};

// An outcome may be recorded on an open case on or after its last
// reopening; 好転・解決 needs the outreach done as of that date.
absl::Status CheckOutcome(const std::vector<OutcomeEntry>& outcomes,
                          const std::vector<ApproachEntry>& approach,
                          v1::Outcome outcome, absl::CivilDay effective_date);
// A reopening follows a closure, on or after its date.
absl::Status CheckReopen(const std::vector<OutcomeEntry>& outcomes,
                         absl::CivilDay effective_date);

}  // namespace kosapo::cases

#endif  // KOSAPO_SERVICES_CASE_DOMAIN_CASE_RULES_H_
