#include "services/case/domain/case_rules.h"

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/types/api_types.h"
#include "common/types/text.h"
#include "services/case/domain/enum_text.h"

namespace kosapo::cases {
namespace {

using auth::Role;

// A positive decimal id as printed by StrCat: digits only, no sign, no
// leading zero, no spaces.
bool ParseId(absl::string_view text, int64_t* id) {
  if (text.empty() || text[0] == '0' ||
      !std::all_of(text.begin(), text.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  return absl::SimpleAtoi(text, id) && *id > 0;
}

// Appends `code`, below U+10000 (the kana KanaKey keeps), as UTF-8.
void AppendUtf8(int32_t code, std::string* out) {
  if (code < 0x80) {
    out->push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (code >> 6)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xE0 | (code >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
  }
}

bool Contains(const std::vector<std::string>& values, absl::string_view v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

bool ValidAssigneeRole(absl::string_view role) {
  const auto parsed = auth::ParseRole(std::string(role));
  return parsed.has_value() &&
         (IsAreaStaff(*parsed) || *parsed == Role::kCaseWorker ||
          *parsed == Role::kConsultationDesk);
}

// Sorted by effective date, then record time.
template <typename Entry>
std::vector<const Entry*> Ordered(const std::vector<Entry>& history) {
  std::vector<const Entry*> ordered;
  for (const Entry& entry : history) {
    ordered.push_back(&entry);
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const Entry* a, const Entry* b) {
                     if (a->effective_date != b->effective_date) {
                       return a->effective_date < b->effective_date;
                     }
                     return a->record_time < b->record_time;
                   });
  return ordered;
}

}  // namespace

std::string CaseName(int64_t id) { return absl::StrCat("cases/", id); }

absl::StatusOr<int64_t> ParseCaseName(absl::string_view name,
                                      absl::string_view field) {
  const std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  int64_t id = 0;
  if (parts.size() != 2 || parts[0] != "cases" || !ParseId(parts[1], &id)) {
    return Invalid(field, "expected cases/{id}");
  }
  return id;
}

absl::StatusOr<std::pair<int64_t, int64_t>> ParseChildName(
    absl::string_view name, absl::string_view collection,
    absl::string_view field) {
  const std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  int64_t id = 0;
  int64_t n = 0;
  if (parts.size() != 4 || parts[0] != "cases" || !ParseId(parts[1], &id) ||
      parts[2] != collection || !ParseId(parts[3], &n)) {
    return Invalid(
        field, absl::StrCat("expected cases/{id}/", collection, "/{number}"));
  }
  return std::make_pair(id, n);
}

std::string ChildName(int64_t case_id, absl::string_view collection,
                      int64_t n) {
  return absl::StrCat("cases/", case_id, "/", collection, "/", n);
}

absl::StatusOr<std::string> KanaKey(absl::string_view kana,
                                    absl::string_view field) {
  std::string key;
  for (size_t pos = 0; pos < kana.size();) {
    const int32_t code = NextCodePoint(kana, &pos);
    if (code < 0) {
      return Invalid(field, "not valid UTF-8");
    }
    if (code == ' ' || code == 0x3000) {
      continue;  // spaces between family and given name
    }
    if (code >= 0x3041 && code <= 0x3096) {  // hiragana -> katakana
      AppendUtf8(code + 0x60, &key);
    } else if ((code >= 0x30A1 && code <= 0x30FA) || code == 0x30FC ||
               code == 0x30FB) {
      AppendUtf8(code, &key);
    } else {
      return Invalid(field,
                     "only kana (hiragana or full-width katakana) and spaces");
    }
  }
  if (key.empty()) {
    return Invalid(field, "required");
  }
  return key;
}

v1::Lead LeadOf(bool youtaikyo_registered) {
  return youtaikyo_registered ? v1::LEAD_CASE_WORKER
                              : v1::LEAD_CONSULTATION_DESK;
}

absl::string_view LeadRole(v1::Lead lead) {
  return lead == v1::LEAD_CASE_WORKER ? "case_worker" : "consultation_desk";
}

absl::Status ValidateChild(const v1::Child& child, absl::CivilDay today,
                           absl::string_view field) {
  const std::string f(field);
  if (absl::Status s = ValidateText(child.name(), 100, true, f + ".name");
      !s.ok()) {
    return s;
  }
  if (auto key = KanaKey(child.kana(), f + ".kana"); !key.ok()) {
    return key.status();
  }
  auto birth = DateFromProto(child.birth_date(), f + ".birth_date");
  if (!birth.ok()) {
    return birth.status();
  }
  if (*birth > today || *birth < today - 365 * 25) {
    return Invalid(f + ".birth_date",
                   "must be in the past 25 years and not after today");
  }
  if (child.grade() < 0 || child.grade() > 9) {
    return Invalid(f + ".grade", "0 (not at school) or 1-9");
  }
  if (absl::Status s =
          ValidateText(child.school_code(), 20, false, f + ".school_code");
      !s.ok()) {
    return s;
  }
  if (!v1::Sex_IsValid(child.sex())) {
    return Invalid(f + ".sex", "unknown value");
  }
  return absl::OkStatus();
}

absl::Status ValidateHousehold(const v1::Household& household,
                               absl::string_view field) {
  const std::string f(field);
  if (household.guardians_size() > 10) {
    return Invalid(f + ".guardians", "at most 10");
  }
  for (int i = 0; i < household.guardians_size(); ++i) {
    const v1::Guardian& g = household.guardians(i);
    const std::string gf = absl::StrCat(f, ".guardians[", i, "]");
    if (absl::Status s = ValidateText(g.name(), 100, true, gf + ".name");
        !s.ok()) {
      return s;
    }
    if (!g.kana().empty()) {
      if (auto key = KanaKey(g.kana(), gf + ".kana"); !key.ok()) {
        return key.status();
      }
    }
    if (absl::Status s =
            ValidateText(g.relationship(), 50, false, gf + ".relationship");
        !s.ok()) {
      return s;
    }
    if (absl::Status s = ValidateText(g.phone(), 30, false, gf + ".phone");
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s =
          ValidateText(household.address(), 300, false, f + ".address");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateText(household.phone(), 30, false, f + ".phone");
      !s.ok()) {
    return s;
  }
  return ValidateText(household.note(), 2000, false, f + ".note");
}

absl::Status ValidateNewCase(const v1::Case& c, absl::CivilDay today) {
  if (absl::Status s = ValidateText(c.area_code(), 20, true, "case.area_code");
      !s.ok()) {
    return s;
  }
  if (c.source() == v1::CASE_SOURCE_UNSPECIFIED ||
      !v1::CaseSource_IsValid(c.source())) {
    return Invalid("case.source",
                   "required: school, local group, agency or other");
  }
  if (c.source() == v1::CASE_SOURCE_SCREENING) {
    return Invalid("case.source",
                   "screening cases open from the school's extraction, not "
                   "by hand");
  }
  if (absl::Status s =
          ValidateText(c.source_detail(), 200, false, "case.source_detail");
      !s.ok()) {
    return s;
  }
  auto opened = DateFromProto(c.opened_date(), "case.opened_date");
  if (!opened.ok()) {
    return opened.status();
  }
  if (*opened > today) {
    return Invalid("case.opened_date", "must not be after today");
  }
  if (absl::Status s = ValidateChild(c.child(), today, "case.child"); !s.ok()) {
    return s;
  }
  return ValidateHousehold(c.household(), "case.household");
}

absl::Status ValidateUpdateMask(const std::vector<std::string>& paths) {
  static const std::set<std::string>* const kAllowed =
      new std::set<std::string>{"child.name",        "child.kana",
                                "child.birth_date",  "child.sex",
                                "child.school_code", "child.grade",
                                "household",         "youtaikyo_registered",
                                "area_code",         "source_detail"};
  if (paths.empty()) {
    return Invalid("update_mask", "name at least one field to change");
  }
  for (const std::string& path : paths) {
    if (kAllowed->count(path) == 0) {
      return Invalid("update_mask",
                     absl::StrCat("\"", path, "\" cannot be changed here"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::CivilDay> EffectiveDate(const kosapo::type::Date& date,
                                             absl::string_view field,
                                             absl::CivilDay today,
                                             absl::CivilDay opened) {
  auto day = DateFromProto(date, field);
  if (!day.ok()) {
    return day.status();
  }
  if (*day > today) {
    return Invalid(field, absl::StrCat("must not be after today (",
                                       absl::FormatCivilTime(today), ")"));
  }
  if (*day < opened) {
    return Invalid(field, absl::StrCat("must not be before the case opened (",
                                       absl::FormatCivilTime(opened), ")"));
  }
  return *day;
}

absl::Status ValidateConference(const v1::Conference& conference) {
  if (conference.kind() == v1::CONFERENCE_KIND_UNSPECIFIED ||
      !v1::ConferenceKind_IsValid(conference.kind())) {
    return Invalid("conference.kind",
                   "required: screening meeting II or individual case "
                   "conference");
  }
  if (conference.attendees().empty()) {
    return Invalid("conference.attendees", "at least one");
  }
  for (int i = 0; i < conference.attendees_size(); ++i) {
    const v1::ConferenceAttendee& a = conference.attendees(i);
    const std::string f = absl::StrCat("conference.attendees[", i, "]");
    if (absl::Status s = ValidateText(a.role(), 50, true, f + ".role");
        !s.ok()) {
      return s;
    }
    if (a.count() < 1 || a.count() > 100) {
      return Invalid(f + ".count", "1-100");
    }
  }
  if (absl::Status s = ValidateText(conference.assessment(), 4000, false,
                                    "conference.assessment");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateText(conference.support_policy(), 4000, false,
                                    "conference.support_policy");
      !s.ok()) {
    return s;
  }
  std::set<std::string> subjects;
  for (int i = 0; i < conference.persons_in_charge_size(); ++i) {
    const v1::Assignee& person = conference.persons_in_charge(i);
    const std::string f = absl::StrCat("conference.persons_in_charge[", i, "]");
    if (absl::Status s =
            ValidateText(person.subject(), 200, true, f + ".subject");
        !s.ok()) {
      return s;
    }
    if (!ValidAssigneeRole(person.role())) {
      return Invalid(f + ".role",
                     "one of case_worker, consultation_desk, ssw, "
                     "support_promoter, ward_officer");
    }
    if (!subjects.insert(person.subject()).second) {
      return Invalid(f + ".subject", "named twice");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateAssessment(const v1::Assessment& assessment) {
  if (assessment.needs().empty()) {
    return Invalid("assessment.needs", "at least one");
  }
  std::set<int> domains;
  for (int i = 0; i < assessment.needs_size(); ++i) {
    const v1::Need& need = assessment.needs(i);
    const std::string f = absl::StrCat("assessment.needs[", i, "]");
    if (need.domain() == v1::NEED_DOMAIN_UNSPECIFIED ||
        !v1::NeedDomain_IsValid(need.domain())) {
      return Invalid(f + ".domain", "required");
    }
    if (!domains.insert(need.domain()).second) {
      return Invalid(f + ".domain", "assessed twice");
    }
    if (need.level() == v1::NEED_LEVEL_UNSPECIFIED ||
        !v1::NeedLevel_IsValid(need.level())) {
      return Invalid(f + ".level", "required: none, low, medium or high");
    }
    if (absl::Status s = ValidateText(need.note(), 1000, false, f + ".note");
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSupportPlan(const v1::SupportPlan& plan) {
  if (plan.goals().empty() || plan.goals_size() > 20) {
    return Invalid("plan.goals", "1-20 goals");
  }
  for (int i = 0; i < plan.goals_size(); ++i) {
    if (absl::Status s = ValidateText(plan.goals(i), 500, true,
                                      absl::StrCat("plan.goals[", i, "]"));
        !s.ok()) {
      return s;
    }
  }
  if (plan.supports_size() > 50) {
    return Invalid("plan.supports", "at most 50");
  }
  for (int i = 0; i < plan.supports_size(); ++i) {
    const v1::PlannedSupport& support = plan.supports(i);
    const std::string f = absl::StrCat("plan.supports[", i, "]");
    if (absl::Status s =
            ValidateText(support.description(), 500, true, f + ".description");
        !s.ok()) {
      return s;
    }
    if (absl::Status s =
            ValidateText(support.provider(), 200, false, f + ".provider");
        !s.ok()) {
      return s;
    }
    if (absl::Status s =
            ValidateText(support.frequency(), 100, false, f + ".frequency");
        !s.ok()) {
      return s;
    }
  }
  auto plan_date = DateFromProto(plan.plan_date(), "plan.plan_date");
  if (!plan_date.ok()) {
    return plan_date.status();
  }
  auto review = DateFromProto(plan.review_date(), "plan.review_date");
  if (!review.ok()) {
    return review.status();
  }
  if (*review < *plan_date) {
    return Invalid("plan.review_date", "must not be before plan.plan_date");
  }
  return absl::OkStatus();
}

absl::Status ValidateContact(const v1::Contact& contact) {
  if (contact.kind() == v1::CONTACT_KIND_UNSPECIFIED ||
      !v1::ContactKind_IsValid(contact.kind())) {
    return Invalid("contact.kind",
                   "required: home visit, phone call, school interview, "
                   "guardian interview or other");
  }
  return ValidateText(contact.summary(), 1000, true, "contact.summary");
}

absl::Status ValidateUrgentReport(const v1::UrgentReport& report) {
  if (report.category() == v1::URGENT_CATEGORY_UNSPECIFIED ||
      !v1::UrgentCategory_IsValid(report.category())) {
    return Invalid("report.category",
                   "required: signs of abuse, urgent medical need, missing or "
                   "other");
  }
  return ValidateText(report.description(), 2000, true, "report.description");
}

// ---- Access -------------------------------------------------------------

bool IsAreaStaff(Role role) {
  return role == Role::kWardOfficer || role == Role::kSsw ||
         role == Role::kSupportPromoter;
}

bool MayOpenCases(Role role) {
  return IsAreaStaff(role) || role == Role::kCaseWorker ||
         role == Role::kConsultationDesk;
}

bool InAreas(const auth::Principal& principal, absl::string_view area) {
  return Contains(principal.areas, area);
}

Access AccessTo(const auth::Principal& principal, const CaseScope& scope) {
  if (principal.municipality != scope.municipality) {
    return Access::kNone;
  }
  if (IsAreaStaff(principal.role) && InAreas(principal, scope.area_code)) {
    return Access::kFull;
  }
  if (MayOpenCases(principal.role) &&
      Contains(scope.assignees, principal.subject)) {
    return Access::kFull;
  }
  if (principal.role == Role::kHubOperator) {
    for (const std::string& hub : scope.hubs) {
      if (Contains(principal.hubs, hub)) {
        return Access::kChild;
      }
    }
  }
  return Access::kNone;
}

void Redact(v1::Case& c, Access access) {
  if (access == Access::kFull) {
    return;
  }
  c.clear_household();
  c.clear_source_detail();
  c.clear_duplicate_override();
  c.clear_assignees();
  if (access == Access::kNone) {
    c.clear_child();
  }
}

bool MayRaiseUrgentReport(const auth::Principal& principal,
                          const CaseScope& scope) {
  if (AccessTo(principal, scope) != Access::kNone) {
    return true;
  }
  return principal.municipality == scope.municipality &&
         (principal.role == Role::kSchoolStaff ||
          principal.role == Role::kSchoolManager) &&
         !scope.school_code.empty() &&
         Contains(principal.schools, scope.school_code);
}

// ---- Histories ------------------------------------------------------------

const ApproachEntry* ApproachAsOf(const std::vector<ApproachEntry>& history,
                                  absl::CivilDay day, absl::Time known_at) {
  const ApproachEntry* in_force = nullptr;
  for (const ApproachEntry* entry : Ordered(history)) {
    if (entry->effective_date > day) {
      break;
    }
    if (entry->record_time <= known_at) {
      in_force = entry;
    }
  }
  return in_force;
}

absl::Status CheckApproachChange(const std::vector<ApproachEntry>& history,
                                 v1::ApproachStatus status,
                                 v1::NotPossibleReason reason,
                                 absl::CivilDay effective_date) {
  if (status == v1::APPROACH_STATUS_UNSPECIFIED ||
      !v1::ApproachStatus_IsValid(status)) {
    return Invalid("status",
                   "required: in preparation, outreach done or not possible");
  }
  if (!v1::NotPossibleReason_IsValid(reason)) {
    return Invalid("reason", "unknown value");
  }
  if (status == v1::APPROACH_STATUS_NOT_POSSIBLE &&
      reason == v1::NOT_POSSIBLE_REASON_UNSPECIFIED) {
    return Invalid("reason",
                   "required when the approach is not possible: refused, "
                   "unreachable or moved");
  }
  if (status != v1::APPROACH_STATUS_NOT_POSSIBLE &&
      reason != v1::NOT_POSSIBLE_REASON_UNSPECIFIED) {
    return Invalid("reason", "only for an approach that is not possible");
  }
  const ApproachEntry* current =
      ApproachAsOf(history, effective_date, absl::InfiniteFuture());
  if (current != nullptr && current->status == status &&
      current->reason == reason) {
    return Invalid("status", absl::StrCat("already ", ToText(status), " as of ",
                                          absl::FormatCivilTime(effective_date),
                                          ": nothing changes"));
  }
  return absl::OkStatus();
}

absl::Status CheckOutcome(const std::vector<OutcomeEntry>& outcomes,
                          const std::vector<ApproachEntry>& approach,
                          v1::Outcome outcome, absl::CivilDay effective_date) {
  if (outcome == v1::OUTCOME_UNSPECIFIED || !v1::Outcome_IsValid(outcome)) {
    return Invalid("outcome", "required");
  }
  const std::vector<const OutcomeEntry*> ordered = Ordered(outcomes);
  if (!ordered.empty()) {
    const OutcomeEntry& last = *ordered.back();
    if (last.outcome != v1::OUTCOME_UNSPECIFIED) {
      return absl::FailedPreconditionError(
          "the case is closed: reopen it before recording another outcome");
    }
    if (effective_date < last.effective_date) {
      return Invalid(
          "effective_date",
          absl::StrCat("must not be before the case was reopened (",
                       absl::FormatCivilTime(last.effective_date), ")"));
    }
  }
  if (outcome == v1::OUTCOME_IMPROVED_RESOLVED) {
    const ApproachEntry* current =
        ApproachAsOf(approach, effective_date, absl::InfiniteFuture());
    if (current == nullptr ||
        current->status != v1::APPROACH_STATUS_OUTREACH_DONE) {
      return absl::FailedPreconditionError(
          absl::StrCat("improved/resolved needs the outreach done as of ",
                       absl::FormatCivilTime(effective_date),
                       ": record the approach status first"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckReopen(const std::vector<OutcomeEntry>& outcomes,
                         absl::CivilDay effective_date) {
  const std::vector<const OutcomeEntry*> ordered = Ordered(outcomes);
  if (ordered.empty() || ordered.back()->outcome == v1::OUTCOME_UNSPECIFIED) {
    return absl::FailedPreconditionError("the case is not closed");
  }
  if (effective_date < ordered.back()->effective_date) {
    return Invalid(
        "effective_date",
        absl::StrCat("must not be before the case was closed (",
                     absl::FormatCivilTime(ordered.back()->effective_date),
                     ")"));
  }
  return absl::OkStatus();
}

}  // namespace kosapo::cases
