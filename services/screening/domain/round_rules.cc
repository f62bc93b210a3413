#include "services/screening/domain/round_rules.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/screening/domain/registry_rules.h"

namespace kosapo::screening {

absl::StatusOr<std::pair<std::string, int>> ParseTemplateName(
    absl::string_view name, absl::string_view field) {
  const std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  int version = 0;
  if (parts.size() != 4 || parts[0] != "templates" || parts[1].empty() ||
      parts[2] != "versions" || !absl::SimpleAtoi(parts[3], &version) ||
      version < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": expected templates/{key}/versions/{version}"));
  }
  return std::make_pair(std::string(parts[1]), version);
}

std::string TemplateName(absl::string_view key, int version) {
  return absl::StrCat("templates/", key, "/versions/", version);
}

absl::StatusOr<std::pair<std::string, int64_t>> ParseRoundName(
    absl::string_view name, absl::string_view field) {
  const std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  int64_t id = 0;
  if (parts.size() != 4 || parts[2] != "rounds" ||
      !absl::SimpleAtoi(parts[3], &id) || id < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": expected municipalities/{code}/rounds/{id}"));
  }
  auto municipality =
      ParseMunicipalityName(absl::StrCat(parts[0], "/", parts[1]), field);
  if (!municipality.ok()) {
    return municipality.status();
  }
  return std::make_pair(*municipality, id);
}

std::string RoundName(absl::string_view municipality, int64_t id) {
  return absl::StrCat("municipalities/", municipality, "/rounds/", id);
}

absl::Status ValidateNewRound(const v1::Round& round, absl::CivilDay today) {
  if (!v1::RoundKind_IsValid(round.kind())) {
    return absl::InvalidArgumentError("round.kind: unknown");
  }
  if (absl::Status s =
          ValidateFiscalYear(round.fiscal_year(), "round.fiscal_year");
      !s.ok()) {
    return s;
  }
  if (absl::StripAsciiWhitespace(round.title()).empty() ||
      round.title().size() > 200) {
    return absl::InvalidArgumentError(
        "round.title: required, at most 200 bytes");
  }
  if (auto name = ParseTemplateName(round.template_(), "round.template");
      !name.ok()) {
    return name.status();
  }
  auto open = DateFromProto(round.open_date(), "round.open_date");
  if (!open.ok()) {
    return open.status();
  }
  auto close = DateFromProto(round.close_date(), "round.close_date");
  if (!close.ok()) {
    return close.status();
  }
  if (*close < *open) {
    return absl::InvalidArgumentError(
        "round.close_date: must not be before round.open_date");
  }
  const absl::CivilDay year_start(round.fiscal_year(), 4, 1);
  const absl::CivilDay year_end(round.fiscal_year() + 1, 3, 31);
  if (*open < year_start || *close > year_end) {
    return absl::InvalidArgumentError(absl::StrCat(
        "round.open_date, round.close_date: must lie within fiscal year ",
        round.fiscal_year(), " (", absl::FormatCivilTime(year_start), " to ",
        absl::FormatCivilTime(year_end), ")"));
  }
  if (round.kind() == v1::ROUND_KIND_PAST_RECORD && today <= year_end) {
    return absl::InvalidArgumentError(absl::StrCat(
        "round.kind: a past-record round is for a fiscal year that has "
        "ended; fiscal year ",
        round.fiscal_year(), " ends ", absl::FormatCivilTime(year_end)));
  }
  return absl::OkStatus();
}

absl::Status CheckAcceptsSheets(const RoundWindow& round, absl::CivilDay today,
                                absl::string_view round_name) {
  if (round.closed) {
    return absl::FailedPreconditionError(
        absl::StrCat(round_name, " is closed: no more sheets"));
  }
  if (round.kind == v1::ROUND_KIND_PAST_RECORD) {
    if (today <= round.close_date) {
      return absl::FailedPreconditionError(absl::StrCat(
          round_name, " holds past records: it takes sheets after ",
          absl::FormatCivilTime(round.close_date)));
    }
    return absl::OkStatus();
  }
  if (today < round.open_date || today > round.close_date) {
    return absl::FailedPreconditionError(absl::StrCat(
        round_name, " does not accept sheets today (outside its dates)"));
  }
  return absl::OkStatus();
}

absl::string_view RoundKindToDb(v1::RoundKind kind) {
  return kind == v1::ROUND_KIND_PAST_RECORD ? "past_record" : "regular";
}

v1::RoundKind RoundKindFromDb(absl::string_view text) {
  return text == "past_record" ? v1::ROUND_KIND_PAST_RECORD
                               : v1::ROUND_KIND_REGULAR;
}

absl::Status ValidateMeeting(const v1::Meeting& meeting, int fiscal_year,
                             absl::CivilDay today) {
  if (meeting.school_code().empty()) {
    return absl::InvalidArgumentError("meeting.school_code: required");
  }
  auto date = DateFromProto(meeting.meeting_date(), "meeting.meeting_date");
  if (!date.ok()) {
    return date.status();
  }
  if (*date < absl::CivilDay(fiscal_year, 4, 1) ||
      *date > absl::CivilDay(fiscal_year + 1, 3, 31)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "meeting.meeting_date: must lie within fiscal year ", fiscal_year));
  }
  if (*date > today) {
    return absl::InvalidArgumentError(
        "meeting.meeting_date: must not be in the future");
  }
  if (meeting.attendees().empty()) {
    return absl::InvalidArgumentError("meeting.attendees: at least one");
  }
  for (int i = 0; i < meeting.attendees_size(); ++i) {
    const v1::Attendee& attendee = meeting.attendees(i);
    if (attendee.role().empty() || attendee.role().size() > 60 ||
        attendee.count() < 1 || attendee.count() > 100) {
      return absl::InvalidArgumentError(
          absl::StrCat("meeting.attendees[", i,
                       "]: a role (at most 60 bytes) and a count of 1-100"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateDecision(v1::DecisionOutcome outcome,
                              absl::string_view reason) {
  if (outcome == v1::DECISION_OUTCOME_UNSPECIFIED ||
      !v1::DecisionOutcome_IsValid(outcome)) {
    return absl::InvalidArgumentError("outcome: required");
  }
  if (absl::StripAsciiWhitespace(reason).empty() || reason.size() > 6000) {
    return absl::InvalidArgumentError(
        "reason: required, at most 2000 characters");
  }
  return absl::OkStatus();
}

}  // namespace kosapo::screening
