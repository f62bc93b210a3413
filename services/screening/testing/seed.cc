#include "services/screening/testing/seed.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/types/api_types.h"

namespace kosapo::screening::testing {
namespace {

absl::Status Check(const grpc::Status& status, absl::string_view what) {
  if (status.ok()) {
    return absl::OkStatus();
  }
  return absl::InternalError(absl::StrCat(what, ": ", status.error_message()));
}

}  // namespace

std::unique_ptr<grpc::ClientContext> ContextAs(
    const kosapo::testing::TestTokens& tokens, auth::Role role,
    const std::string& city) {
  auth::Principal principal;
  principal.subject =
      absl::StrCat("user:seed-", std::string(auth::RoleName(role)));
  principal.role = role;
  principal.municipality = city;
  principal.areas = {"A1"};
  principal.schools = {"E1"};
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", "Bearer " + tokens.Sign(principal));
  return context;
}

v1::CreateRoundRequest RoundRequest(const std::string& parent,
                                    const std::string& request_id,
                                    int fiscal_year, const std::string& title,
                                    std::optional<absl::CivilDay> open,
                                    std::optional<absl::CivilDay> close) {
  v1::CreateRoundRequest request;
  request.set_parent(parent);
  request.set_request_id(request_id);
  v1::Round* round = request.mutable_round();
  round->set_fiscal_year(fiscal_year);
  round->set_title(title);
  round->set_template_("templates/default/versions/1");
  *round->mutable_open_date() =
      DateToProto(open.value_or(absl::CivilDay(fiscal_year, 4, 1)));
  *round->mutable_close_date() =
      DateToProto(close.value_or(absl::CivilDay(fiscal_year + 1, 3, 31)));
  return request;
}

absl::Status SeedCity(v1::ScreeningService::Stub& stub,
                      const kosapo::testing::TestTokens& tokens,
                      const std::string& city,
                      const std::vector<std::string>& schools) {
  const std::string parent = absl::StrCat("municipalities/", city);
  auto ops = [&] {
    return ContextAs(tokens, auth::Role::kCityOperations, city);
  };
  v1::UpsertMunicipalityRequest municipality;
  municipality.mutable_municipality()->set_code(city);
  municipality.mutable_municipality()->set_display_name("試験市");
  v1::Municipality m;
  if (absl::Status s =
          Check(stub.UpsertMunicipality(ops().get(), municipality, &m),
                "municipality");
      !s.ok()) {
    return s;
  }
  v1::UpsertAreaRequest area;
  area.set_parent(parent);
  area.mutable_area()->set_code("A1");
  area.mutable_area()->set_display_name("北区");
  area.mutable_area()->set_display_order(1);
  v1::Area a;
  if (absl::Status s = Check(stub.UpsertArea(ops().get(), area, &a), "area");
      !s.ok()) {
    return s;
  }
  for (const std::string& code : schools) {
    v1::UpsertSchoolRequest school;
    school.set_parent(parent);
    school.mutable_school()->set_code(code);
    school.mutable_school()->set_display_name(absl::StrCat("小学校", code));
    school.mutable_school()->set_kind(v1::SCHOOL_KIND_ELEMENTARY);
    school.mutable_school()->set_area_code("A1");
    v1::School registered;
    if (absl::Status s = Check(
            stub.UpsertSchool(ops().get(), school, &registered), "school");
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SeedMeeting(
    v1::ScreeningService::Stub& stub, const kosapo::testing::TestTokens& tokens,
    const std::string& city) {
  const std::string parent = absl::StrCat("municipalities/", city);
  auto ops = [&] {
    return ContextAs(tokens, auth::Role::kCityOperations, city);
  };
  if (absl::Status s = SeedCity(stub, tokens, city); !s.ok()) {
    return s;
  }

  auto today = DayIn(absl::Now(), "Asia/Tokyo");
  if (!today.ok()) {
    return today.status();
  }
  const int year = FiscalYearOf(*today);
  const v1::CreateRoundRequest round =
      RoundRequest(parent, "seed-round", year, "第1回");
  v1::Round created;
  if (absl::Status st =
          Check(stub.CreateRound(ops().get(), round, &created), "round");
      !st.ok()) {
    return st;
  }

  auto staff = [&] {
    return ContextAs(tokens, auth::Role::kSchoolStaff, city);
  };
  v1::UpsertSheetRequest sheet;
  sheet.set_parent(created.name());
  v1::Sheet* pupil = sheet.mutable_sheet();
  pupil->set_school_code("E1");
  pupil->set_pupil_id("P1");
  pupil->set_grade(3);
  pupil->set_pupil_name(kPupilName);
  pupil->set_pupil_kana(kPupilKana);
  *pupil->mutable_birth_date() = DateToProto(PupilBirthDate(year));
  pupil->set_sex(v1::SEX_MALE);
  v1::UpsertSheetResponse stored;
  if (absl::Status st =
          Check(stub.UpsertSheet(staff().get(), sheet, &stored), "sheet");
      !st.ok()) {
    return st;
  }

  v1::RecordMeetingRequest meeting;
  meeting.set_parent(created.name());
  meeting.set_request_id("seed-meeting");
  meeting.mutable_meeting()->set_school_code("E1");
  *meeting.mutable_meeting()->mutable_meeting_date() = DateToProto(*today);
  v1::Attendee* attendee = meeting.mutable_meeting()->add_attendees();
  attendee->set_role("principal");
  attendee->set_count(1);
  v1::Meeting recorded;
  if (absl::Status st = Check(
          stub.RecordMeeting(staff().get(), meeting, &recorded), "meeting");
      !st.ok()) {
    return st;
  }
  return recorded.name();
}

absl::StatusOr<std::string> DecidePupil(
    v1::ScreeningService::Stub& stub, const kosapo::testing::TestTokens& tokens,
    const std::string& city, const std::string& meeting,
    v1::DecisionOutcome outcome) {
  v1::RecordDecisionRequest decide;
  decide.set_meeting(meeting);
  decide.set_pupil_id("P1");
  decide.set_outcome(outcome);
  decide.set_reason("欠席が続き、きょうだいの世話をしている");
  v1::RecordDecisionResponse decision;
  if (absl::Status st =
          Check(stub.RecordDecision(
                    ContextAs(tokens, auth::Role::kSchoolStaff, city).get(),
                    decide, &decision),
                "decision");
      !st.ok()) {
    return st;
  }
  return decision.decision().name();
}

}  // namespace kosapo::screening::testing
