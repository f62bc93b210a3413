#include "tools/sample/loader.h"

#include <grpcpp/client_context.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/types/api_types.h"
#include "kosapo/cases/v1/cases.grpc.pb.h"
#include "kosapo/referral/v1/referral.grpc.pb.h"
#include "kosapo/screening/v1/screening.grpc.pb.h"

namespace kosapo::sample {
namespace {

namespace cv1 = ::kosapo::cases::v1;
namespace rv1 = ::kosapo::referral::v1;
namespace sv1 = ::kosapo::screening::v1;

// Turns a failed call into a status naming what was being loaded.
absl::Status Check(const grpc::Status& status, const std::string& what) {
  if (status.ok()) {
    return absl::OkStatus();
  }
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(what, ": ", status.error_message()));
}

std::string Clock(int minutes) {
  return absl::StrFormat("%02d:%02d", minutes / 60, minutes % 60);
}

std::string DayKey(absl::CivilDay day) { return absl::FormatCivilTime(day); }

void SetHours(const SampleHours& hours, rv1::OpeningHours* out) {
  out->set_weekday(static_cast<rv1::Weekday>(hours.weekday));
  out->set_opens(Clock(hours.opens));
  out->set_closes(Clock(hours.closes));
}

// The support as the referral service takes it.
rv1::Support SupportProto(const SampleSupport& support,
                          const std::string& organization,
                          const std::string& location) {
  rv1::Support out;
  out.set_organization(organization);
  out.set_display_name(support.name);
  out.set_category(static_cast<rv1::SupportCategory>(support.category));
  out.set_description(support.description);
  for (const std::string& area : support.area_codes) {
    out.add_service_area_codes(area);
  }
  if (!location.empty()) {
    out.add_locations(location);
  }
  for (const SampleHours& hours : support.weekly) {
    SetHours(hours, out.add_weekly_schedule());
  }
  if (support.hub.has_value()) {
    const SampleHub& hub = *support.hub;
    rv1::HubDetails* details = out.mutable_hub();
    details->set_hub_code(hub.hub_code);
    details->set_daily_capacity(hub.daily_capacity);
    for (rv1::HubOffering offering :
         {rv1::HUB_OFFERING_MEALS, rv1::HUB_OFFERING_LEARNING_SUPPORT,
          rv1::HUB_OFFERING_FREE_SPACE, rv1::HUB_OFFERING_DAILY_LIFE_HABITS,
          rv1::HUB_OFFERING_INDIVIDUAL_CONSULTATION,
          rv1::HUB_OFFERING_LIAISON}) {
      details->add_offerings(offering);
    }
    for (const SampleHours& hours : hub.holiday_hours) {
      SetHours(hours, details->add_school_holiday_schedule());
    }
    for (const SampleHoliday& period : hub.holidays) {
      rv1::HolidayPeriod* holiday = details->add_school_holidays();
      holiday->set_holiday(static_cast<rv1::SchoolHoliday>(period.kind));
      *holiday->mutable_start_date() = DateToProto(period.start);
      *holiday->mutable_end_date() = DateToProto(period.end);
    }
    for (const SampleContractService& service : hub.services) {
      rv1::ContractService* contract = details->add_contract_services();
      contract->set_code(service.code);
      contract->set_display_name(service.name);
    }
  }
  return out;
}

// 令和 year of a fiscal year (FY2019 is 令和元年度).
std::string EraYear(int fiscal_year) {
  const int reiwa = fiscal_year - 2018;
  return reiwa == 1 ? "令和元年度" : absl::StrCat("令和", reiwa, "年度");
}

absl::CivilDay TodayInTokyo() {
  absl::TimeZone tokyo;
  if (!absl::LoadTimeZone("Asia/Tokyo", &tokyo)) {
    tokyo = absl::FixedTimeZone(9 * 60 * 60);
  }
  return absl::ToCivilDay(absl::Now(), tokyo);
}

// Runs fn(i) for i in [0, n) on `workers` threads; the first failure stops
// the others and is returned.
absl::Status ForEach(size_t n, int workers,
                     const std::function<absl::Status(size_t)>& fn) {
  std::atomic<bool> failed{false};
  std::mutex mutex;
  absl::Status error;
  std::vector<std::thread> threads;
  const size_t stride = static_cast<size_t>(std::max(1, workers));
  for (size_t w = 0; w < stride; ++w) {
    threads.emplace_back([&, w] {
      for (size_t i = w; i < n && !failed; i += stride) {
        if (absl::Status s = fn(i); !s.ok()) {
          std::lock_guard<std::mutex> lock(mutex);
          if (!failed) {
            failed = true;
            error = s;
          }
          return;
        }
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  return error;
}

class Loader {
 public:
  Loader(const SampleCity& city, const LoadTargets& targets,
         LoadProgress* progress)
      : city_(city),
        targets_(targets),
        progress_(progress),
        parent_(absl::StrCat("municipalities/", city.municipality)),
        key_(city.request_prefix),
        case_names_(city.cases.size()),
        today_(targets.today.has_value() ? *targets.today : TodayInTokyo()),
        rounds_(city.screenings.size()),
        pupils_of_meeting_(city.screenings.size()) {
    for (size_t i = 0; i < city.cases.size(); ++i) {
      const SampleCase& c = city.cases[i];
      if (c.screening >= 0 && c.pupil >= 0) {
        case_of_pupil_[{static_cast<size_t>(c.screening),
                        static_cast<size_t>(c.pupil)}] = i;
      }
    }
    for (size_t s = 0; s < city.screenings.size(); ++s) {
      const std::vector<SamplePupil>& pupils = city.screenings[s].pupils;
      for (size_t p = 0; p < pupils.size(); ++p) {
        if (pupils[p].meeting >= 0) {
          pupils_of_meeting_[s][pupils[p].meeting].push_back(p);
        }
      }
    }
  }

  absl::Status Run() {
    progress_->cases_total = static_cast<int64_t>(city_.cases.size());
    progress_->referrals_total = TotalsOf(city_).referrals;
    if (absl::Status s = LoadRegistry(); !s.ok()) {
      return s;
    }
    if (absl::Status s = LoadEnrollment(); !s.ok()) {
      return s;
    }
    if (!city_.supports.empty()) {
      if (targets_.referral == nullptr) {
        return absl::FailedPreconditionError(
            "the city has a directory: a referral service is needed");
      }
      if (absl::Status s = LoadDirectory(); !s.ok()) {
        return s;
      }
    }
    if (!city_.screenings.empty()) {
      if (absl::Status s = LoadTemplate(); !s.ok()) {
        return s;
      }
      for (size_t s = 0; s < city_.screenings.size(); ++s) {
        if (absl::Status status = LoadScreening(s); !status.ok()) {
          return status;
        }
      }
      if (absl::Status s = FindScreenedCases(); !s.ok()) {
        return s;
      }
    }
    if (absl::Status s = LoadCases(); !s.ok()) {
      return s;
    }
    if (absl::Status s = ForEach(city_.hub_usages.size(), targets_.concurrency,
                                 [this](size_t u) { return LoadHubUsage(u); });
        !s.ok()) {
      return s;
    }
    return ForEach(city_.urgent_reports.size(), targets_.concurrency,
                   [this](size_t r) { return LoadUrgentReport(r); });
  }

 private:
  std::unique_ptr<grpc::ClientContext> As(
      auth::Role role, std::vector<std::string> schools = {},
      std::vector<std::string> hubs = {}) const {
    auth::Principal principal;
    principal.subject = Subject(role);
    principal.role = role;
    principal.municipality = city_.municipality;
    for (const SampleArea& area : city_.areas) {
      principal.areas.push_back(area.code);
    }
    principal.schools = std::move(schools);
    principal.hubs = std::move(hubs);
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization",
                         absl::StrCat("Bearer ", targets_.sign(principal)));
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(60));
    return context;
  }

  static std::string Subject(auth::Role role) {
    return absl::StrCat("sample-loader:", std::string(auth::RoleName(role)));
  }

  absl::Status LoadRegistry() {
    auto stub = sv1::ScreeningService::NewStub(targets_.screening);
    sv1::UpsertMunicipalityRequest municipality;
    municipality.mutable_municipality()->set_code(city_.municipality);
    municipality.mutable_municipality()->set_display_name(city_.display_name);
    sv1::Municipality m;
    if (absl::Status s =
            Check(stub->UpsertMunicipality(
                      As(auth::Role::kCityOperations).get(), municipality, &m),
                  "municipality");
        !s.ok()) {
      return s;
    }
    for (const SampleArea& area : city_.areas) {
      sv1::UpsertAreaRequest request;
      request.set_parent(parent_);
      request.mutable_area()->set_code(area.code);
      request.mutable_area()->set_display_name(area.name);
      request.mutable_area()->set_display_order(area.display_order);
      sv1::Area out;
      if (absl::Status s =
              Check(stub->UpsertArea(As(auth::Role::kCityOperations).get(),
                                     request, &out),
                    absl::StrCat("area ", area.code));
          !s.ok()) {
        return s;
      }
    }
    for (const SampleSchool& school : city_.schools) {
      sv1::UpsertSchoolRequest request;
      request.set_parent(parent_);
      request.mutable_school()->set_code(school.code);
      request.mutable_school()->set_display_name(school.name);
      request.mutable_school()->set_kind(school.junior_high
                                             ? sv1::SCHOOL_KIND_JUNIOR_HIGH
                                             : sv1::SCHOOL_KIND_ELEMENTARY);
      request.mutable_school()->set_area_code(school.area_code);
      sv1::School out;
      if (absl::Status s =
              Check(stub->UpsertSchool(As(auth::Role::kCityOperations).get(),
                                       request, &out),
                    absl::StrCat("school ", school.code));
          !s.ok()) {
        return s;
      }
      ++progress_->schools;
    }
    return absl::OkStatus();
  }

  absl::Status LoadEnrollment() {
    auto stub = sv1::ScreeningService::NewStub(targets_.screening);
    std::map<int, sv1::ImportEnrollmentRequest> years;
    for (const SampleEnrollment& e : city_.enrollment) {
      sv1::ImportEnrollmentRequest& request = years[e.fiscal_year];
      request.set_parent(parent_);
      request.set_fiscal_year(e.fiscal_year);
      sv1::EnrollmentRow* row = request.mutable_rows()->add_rows();
      row->set_school_code(e.school_code);
      row->set_pupils(static_cast<int32_t>(e.pupils));
      progress_->pupils += e.pupils;
    }
    for (const auto& [year, request] : years) {
      sv1::ImportEnrollmentResponse response;
      if (absl::Status s = Check(
              stub->ImportEnrollment(As(auth::Role::kCityOperations).get(),
                                     request, &response),
              absl::StrCat("enrollment FY", year));
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  // ---- Directory ----------------------------------------------------------

  absl::Status LoadDirectory() {
    auto stub = rv1::ReferralService::NewStub(targets_.referral);
    std::vector<std::string> organizations;
    std::vector<std::string> locations;
    for (const SampleOrganization& o : city_.organizations) {
      rv1::CreateOrganizationRequest request;
      request.set_parent(parent_);
      request.set_request_id(absl::StrCat(key_, "organization-", o.key));
      request.mutable_organization()->set_display_name(o.name);
      request.mutable_organization()->set_kind(
          static_cast<rv1::OrganizationKind>(o.kind));
      rv1::Organization created;
      if (absl::Status s = Check(
              stub->CreateOrganization(As(auth::Role::kCityOperations).get(),
                                       request, &created),
              absl::StrCat("organization ", o.key));
          !s.ok()) {
        return s;
      }
      organizations.push_back(created.name());
      locations.emplace_back();
      if (o.area_code.empty()) {
        continue;
      }
      rv1::CreateLocationRequest location;
      location.set_request_id(absl::StrCat(key_, "location-", o.key));
      location.mutable_location()->set_organization(created.name());
      location.mutable_location()->set_display_name(o.name);
      location.mutable_location()->set_area_code(o.area_code);
      location.mutable_location()->set_address(o.address);
      rv1::Location where;
      if (absl::Status s =
              Check(stub->CreateLocation(As(auth::Role::kCityOperations).get(),
                                         location, &where),
                    absl::StrCat("location of ", o.key));
          !s.ok()) {
        return s;
      }
      locations.back() = where.name();
    }
    for (const SampleSupport& support : city_.supports) {
      const size_t o = static_cast<size_t>(support.organization);
      rv1::CreateSupportRequest request;
      request.set_request_id(absl::StrCat(key_, "support-", support.key));
      *request.mutable_support() =
          SupportProto(support, organizations[o], locations[o]);
      rv1::Support out;
      if (absl::Status s =
              Check(stub->CreateSupport(As(auth::Role::kCityOperations).get(),
                                        request, &out),
                    absl::StrCat("support ", support.key));
          !s.ok()) {
        return s;
      }
      support_names_.push_back(out.name());
      ++progress_->supports;
    }
    return absl::OkStatus();
  }

  // ---- Screening ---------------------------------------------------------

  // The shipped default template, which every round uses.
  absl::Status LoadTemplate() {
    auto stub = sv1::ScreeningService::NewStub(targets_.screening);
    sv1::ListTemplatesResponse templates;
    if (absl::Status s =
            Check(stub->ListTemplates(As(auth::Role::kCityOperations).get(),
                                      sv1::ListTemplatesRequest(), &templates),
                  "templates");
        !s.ok()) {
      return s;
    }
    for (const sv1::Template& t : templates.templates()) {
      if (t.key() == "default") {
        template_ = t;
      }
    }
    if (template_.name().empty()) {
      return absl::FailedPreconditionError(
          "the screening service has no default template");
    }
    for (const sv1::TemplateItem& item : template_.items()) {
      items_.push_back({item.code(), item.kind() == sv1::ANSWER_KIND_FLAG,
                        item.max_level(), item.weight(), item.always_review()});
      flags_[item.code()] = item.kind() == sv1::ANSWER_KIND_FLAG;
    }
    return absl::OkStatus();
  }

  // A fiscal year's round, its sheets and its meetings I. A year that has
  // ended goes into a past-record round. Loading again finds the round by
  // its request id, whatever kind it was given then: a regular round that
  // has since stopped taking sheets (the fiscal year ended in between) is
  // only checked to hold as many sheets of each school as the city has
  // (GetRoundProgress gives counts, not contents).
  absl::Status LoadScreening(size_t s) {
    auto stub = sv1::ScreeningService::NewStub(targets_.screening);
    const SampleScreening& screening = city_.screenings[s];
    const int year = screening.fiscal_year;
    const bool past = today_ > absl::CivilDay(year + 1, 3, 31);
    sv1::CreateRoundRequest create;
    create.set_parent(parent_);
    create.set_request_id(absl::StrCat(key_, "round-fy", year));
    sv1::Round* round = create.mutable_round();
    round->set_fiscal_year(year);
    round->set_title(
        absl::StrCat(EraYear(year), past ? " 記録の移行" : " 第1回"));
    round->set_template_(template_.name());
    *round->mutable_open_date() = DateToProto(absl::CivilDay(year, 4, 1));
    *round->mutable_close_date() = DateToProto(absl::CivilDay(year + 1, 3, 31));
    round->set_kind(past ? sv1::ROUND_KIND_PAST_RECORD
                         : sv1::ROUND_KIND_REGULAR);
    sv1::Round created;
    if (absl::Status status =
            Check(stub->CreateRound(As(auth::Role::kCityOperations).get(),
                                    create, &created),
                  absl::StrCat("round FY", year));
        !status.ok()) {
      return status;
    }
    rounds_[s] = created.name();
    // Each school sends its sheets in one stream, as its system would.
    std::map<std::string, std::vector<size_t>> by_school;
    for (size_t p = 0; p < screening.pupils.size(); ++p) {
      by_school[screening.pupils[p].child.school_code].push_back(p);
    }
    if (TakesSheets(created)) {
      std::vector<std::pair<std::string, std::vector<size_t>>> schools(
          by_school.begin(), by_school.end());
      if (absl::Status status = ForEach(schools.size(), targets_.concurrency,
                                        [&](size_t k) {
                                          return LoadSheets(s, schools[k].first,
                                                            schools[k].second);
                                        });
          !status.ok()) {
        return status;
      }
    } else if (absl::Status status = CheckSheetsIn(created, by_school);
               !status.ok()) {
      return status;
    } else {
      progress_->sheets += static_cast<int64_t>(screening.pupils.size());
    }
    return ForEach(screening.meetings.size(), targets_.concurrency,
                   [this, s](size_t m) { return LoadMeeting(s, m); });
  }

  // Whether `round` takes sheets today, by the screening service's rules.
  bool TakesSheets(const sv1::Round& round) const {
    if (round.state() == sv1::ROUND_STATE_CLOSED) {
      return false;
    }
    const absl::CivilDay open = DayOf(round.open_date());
    const absl::CivilDay close = DayOf(round.close_date());
    if (round.kind() == sv1::ROUND_KIND_PAST_RECORD) {
      return today_ > close;
    }
    return today_ >= open && today_ <= close;
  }

  static absl::CivilDay DayOf(const kosapo::type::Date& date) {
    return absl::CivilDay(date.year(), date.month(), date.day());
  }

  // A round that no longer takes sheets must already hold every school's.
  absl::Status CheckSheetsIn(
      const sv1::Round& round,
      const std::map<std::string, std::vector<size_t>>& by_school) {
    auto stub = sv1::ScreeningService::NewStub(targets_.screening);
    sv1::GetRoundProgressRequest request;
    request.set_name(round.name());
    sv1::RoundProgress progress;
    if (absl::Status s =
            Check(stub->GetRoundProgress(As(auth::Role::kCityOperations).get(),
                                         request, &progress),
                  absl::StrCat("progress of ", round.name()));
        !s.ok()) {
      return s;
    }
    std::map<std::string, int64_t> submitted;
    for (const sv1::SchoolProgress& school : progress.schools()) {
      submitted[school.progress().code()] = school.progress().submitted();
    }
    for (const auto& [school, pupils] : by_school) {
      if (submitted[school] < static_cast<int64_t>(pupils.size())) {
        return absl::FailedPreconditionError(absl::StrCat(
            round.name(), " (fiscal year ", round.fiscal_year(),
            ") no longer takes sheets and holds ", submitted[school], " of ",
            pupils.size(), " of school ", school,
            "'s: this city was loaded in part before its fiscal year ended"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status LoadSheets(size_t s, const std::string& school,
                          const std::vector<size_t>& pupils) {
    auto stub = sv1::ScreeningService::NewStub(targets_.screening);
    auto context = As(auth::Role::kSchoolStaff, {school});
    sv1::ImportSheetsResponse response;
    auto writer = stub->ImportSheets(context.get(), &response);
    constexpr size_t kBatch = 500;
    for (size_t from = 0; from < pupils.size(); from += kBatch) {
      sv1::ImportSheetsRequest batch;
      batch.set_parent(rounds_[s]);
      for (size_t k = from; k < pupils.size() && k < from + kBatch; ++k) {
        const SamplePupil& pupil = city_.screenings[s].pupils[pupils[k]];
        sv1::Sheet* sheet = batch.add_sheets();
        sheet->set_school_code(school);
        sheet->set_pupil_id(pupil.pupil_id);
        // Junior highs count their own grades 1-3.
        sheet->set_grade(pupil.child.grade > 6 ? pupil.child.grade - 6
                                               : pupil.child.grade);
        sheet->set_class_name(absl::StrCat(1 + k % 3, "組"));
        sheet->set_pupil_name(pupil.child.name);
        sheet->set_pupil_kana(pupil.child.kana);
        *sheet->mutable_birth_date() = DateToProto(pupil.child.birth_date);
        sheet->set_sex(pupil.child.male ? sv1::SEX_MALE : sv1::SEX_FEMALE);
        for (const SheetAnswer& answer :
             DrawAnswers(items_, template_.review_threshold(), pupil.concern,
                         pupil.answer_seed)) {
          sv1::Answer* out = sheet->add_answers();
          out->set_item(answer.item);
          if (flags_.at(answer.item)) {
            out->set_flag(true);
          } else {
            out->set_level(answer.value);
          }
        }
      }
      if (!writer->Write(batch)) {
        break;  // the server ended the call: its status says why
      }
    }
    writer->WritesDone();
    if (absl::Status s =
            Check(writer->Finish(), absl::StrCat("sheets of ", school));
        !s.ok()) {
      return s;
    }
    if (response.rejected() > 0) {
      for (const sv1::SheetRowResult& row : response.rows()) {
        if (row.outcome() == sv1::ROW_OUTCOME_REJECTED) {
          return absl::InternalError(
              absl::StrCat("sheets of ", school, ": ", response.rejected(),
                           " rejected, e.g. row ", row.line(), " ", row.field(),
                           ": ", row.message()));
        }
      }
    }
    progress_->sheets += static_cast<int64_t>(pupils.size());
    return absl::OkStatus();
  }

  // Meeting I of a school and its decisions: extraction for the pupils
  // whose case the city has, watching in school for the other candidates.
  absl::Status LoadMeeting(size_t s, size_t m) {
    auto stub = sv1::ScreeningService::NewStub(targets_.screening);
    const SampleScreening& screening = city_.screenings[s];
    const SampleMeeting& meeting = screening.meetings[m];
    sv1::RecordMeetingRequest request;
    request.set_parent(rounds_[s]);
    request.set_request_id(
        absl::StrCat(key_, "meeting-fy", screening.fiscal_year, "-", m));
    request.mutable_meeting()->set_school_code(meeting.school_code);
    *request.mutable_meeting()->mutable_meeting_date() =
        DateToProto(meeting.date);
    for (const auto& [role, count] :
         std::vector<std::pair<std::string, int>>{{"principal", 1},
                                                  {"teacher", 3},
                                                  {"school_counsellor", 1},
                                                  {"ssw", 1}}) {
      sv1::Attendee* attendee = request.mutable_meeting()->add_attendees();
      attendee->set_role(role);
      attendee->set_count(count);
    }
    sv1::Meeting recorded;
    if (absl::Status s = Check(
            stub->RecordMeeting(
                As(auth::Role::kSchoolStaff, {meeting.school_code}).get(),
                request, &recorded),
            absl::StrCat("meeting I ", m, " of FY", screening.fiscal_year));
        !s.ok()) {
      return s;
    }
    const std::vector<SamplePupil>& pupils = screening.pupils;
    const auto decided_here = pupils_of_meeting_[s].find(static_cast<int>(m));
    if (decided_here == pupils_of_meeting_[s].end()) {
      return absl::OkStatus();
    }
    for (size_t p : decided_here->second) {
      const auto extracted = case_of_pupil_.find({s, p});
      sv1::RecordDecisionRequest decision;
      decision.set_meeting(recorded.name());
      decision.set_pupil_id(pupils[p].pupil_id);
      decision.set_outcome(extracted != case_of_pupil_.end()
                               ? sv1::DECISION_OUTCOME_EXTRACT
                               : sv1::DECISION_OUTCOME_WATCH_IN_SCHOOL);
      decision.set_reason(extracted != case_of_pupil_.end()
                              ? "欠席・食事・衛生面の気になる様子が重なり、"
                                "区役所との合同アセスメントが必要"
                              : "学校で見守り、次回の会議で様子を共有する");
      sv1::RecordDecisionResponse decided;
      if (absl::Status s = Check(
              stub->RecordDecision(
                  As(auth::Role::kSchoolStaff, {meeting.school_code}).get(),
                  decision, &decided),
              absl::StrCat("meeting I ", m, " decision"));
          !s.ok()) {
        return s;
      }
      if (extracted != case_of_pupil_.end()) {
        std::lock_guard<std::mutex> lock(mutex_);
        extraction_of_case_[extracted->second] = decided.decision().name();
      }
    }
    return absl::OkStatus();
  }

  // Waits until the case service has opened a case for every extraction
  // (it follows the screening feed), asking it through ListCases.
  absl::Status FindScreenedCases() {
    std::map<std::string, size_t> wanted;
    for (const auto& [index, extraction] : extraction_of_case_) {
      wanted[extraction] = index;
    }
    auto stub = cv1::CaseService::NewStub(targets_.cases);
    const absl::Time deadline = absl::Now() + targets_.case_feed_timeout;
    absl::Duration pause = absl::Milliseconds(50);
    while (true) {
      size_t found = 0;
      for (const SampleArea& area : city_.areas) {
        std::string token;
        do {
          cv1::ListCasesRequest request;
          request.set_parent(parent_);
          request.set_area_code(area.code);
          request.set_page_size(500);
          request.set_page_token(token);
          cv1::ListCasesResponse response;
          if (absl::Status s =
                  Check(stub->ListCases(As(auth::Role::kWardOfficer).get(),
                                        request, &response),
                        absl::StrCat("cases of area ", area.code));
              !s.ok()) {
            return s;
          }
          for (const cv1::Case& c : response.cases()) {
            const auto it = wanted.find(c.extraction_id());
            if (it != wanted.end()) {
              case_names_[it->second] = c.name();
            }
          }
          token = response.next_page_token();
        } while (!token.empty());
      }
      for (const auto& [extraction, index] : wanted) {
        found += case_names_[index].empty() ? 0 : 1;
      }
      if (found == wanted.size()) {
        return absl::OkStatus();
      }
      if (absl::Now() + pause > deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("the case service opened ", found, " of ",
                         wanted.size(), " cases from the extractions within ",
                         absl::FormatDuration(targets_.case_feed_timeout),
                         " (is it following the screening feed? see its log)"));
      }
      absl::SleepFor(pause);
      pause = std::min(pause * 2, absl::Seconds(1));
    }
  }

  // ---- Cases --------------------------------------------------------------

  absl::Status LoadCases() {
    return ForEach(city_.cases.size(), targets_.concurrency, [this](size_t i) {
      if (absl::Status s = LoadCase(i, city_.cases[i]); !s.ok()) {
        return s;
      }
      ++progress_->cases;
      return absl::OkStatus();
    });
  }

  absl::Status OpenCase(size_t index, const SampleCase& c) {
    auto stub = cv1::CaseService::NewStub(targets_.cases);
    cv1::CreateCaseRequest create;
    create.set_parent(parent_);
    create.set_request_id(absl::StrCat(key_, index));
    cv1::Case* out = create.mutable_case_();
    out->set_area_code(c.area_code);
    out->set_source(cv1::CASE_SOURCE_SCHOOL);
    *out->mutable_opened_date() = DateToProto(c.opened);
    cv1::Child* child = out->mutable_child();
    child->set_name(c.child.name);
    child->set_kana(c.child.kana);
    *child->mutable_birth_date() = DateToProto(c.child.birth_date);
    child->set_sex(c.child.male ? cv1::SEX_MALE : cv1::SEX_FEMALE);
    child->set_school_code(c.child.school_code);
    child->set_grade(c.child.grade);
    cv1::Case opened;
    if (absl::Status s =
            Check(stub->CreateCase(As(auth::Role::kWardOfficer).get(), create,
                                   &opened),
                  absl::StrCat("case ", index));
        !s.ok()) {
      return s;
    }
    case_names_[index] = opened.name();
    return absl::OkStatus();
  }

  absl::Status LoadCase(size_t index, const SampleCase& c) {
    auto stub = cv1::CaseService::NewStub(targets_.cases);
    const std::string key = absl::StrCat(key_, index);
    if (c.pupil < 0) {
      if (absl::Status s = OpenCase(index, c); !s.ok()) {
        return s;
      }
    }
    const std::string& name = case_names_[index];
    if (c.approach != Approach::kInPreparation) {
      cv1::ChangeApproachStatusRequest change;
      change.set_name(name);
      change.set_request_id(key + "-approach");
      *change.mutable_effective_date() = DateToProto(c.approach_date);
      if (c.approach == Approach::kOutreachDone) {
        change.set_status(cv1::APPROACH_STATUS_OUTREACH_DONE);
      } else {
        change.set_status(cv1::APPROACH_STATUS_NOT_POSSIBLE);
        change.set_reason(
            static_cast<cv1::NotPossibleReason>(c.not_possible_reason));
      }
      cv1::Case changed;
      if (absl::Status s =
              Check(stub->ChangeApproachStatus(
                        As(auth::Role::kWardOfficer).get(), change, &changed),
                    absl::StrCat("case ", index, " approach"));
          !s.ok()) {
        return s;
      }
    }
    if (c.work.has_value()) {
      if (absl::Status s = RecordWork(index, name, *c.work); !s.ok()) {
        return s;
      }
    }
    if (c.connected.has_value()) {
      if (absl::Status s = Connect(index, name, c); !s.ok()) {
        return s;
      }
      ++progress_->referrals;
    }
    if (c.resolved.has_value()) {
      cv1::RecordOutcomeRequest outcome;
      outcome.set_name(name);
      outcome.set_outcome(cv1::OUTCOME_IMPROVED_RESOLVED);
      *outcome.mutable_effective_date() = DateToProto(*c.resolved);
      outcome.set_request_id(key + "-outcome");
      cv1::Case closed;
      if (absl::Status s =
              Check(stub->RecordOutcome(As(auth::Role::kWardOfficer).get(),
                                        outcome, &closed),
                    absl::StrCat("case ", index, " outcome"));
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  // Meeting II names the ward officer and the consultation desk in charge
  // (the desk then holds a hub hearing), an assessment, and the contacts.
  absl::Status RecordWork(size_t index, const std::string& name,
                          const SampleCaseWork& work) {
    auto stub = cv1::CaseService::NewStub(targets_.cases);
    const std::string key = absl::StrCat(key_, index);
    cv1::RecordConferenceRequest conference;
    conference.set_parent(name);
    conference.set_request_id(key + "-conference");
    cv1::Conference* meeting = conference.mutable_conference();
    meeting->set_kind(cv1::CONFERENCE_KIND_SCREENING_MEETING_II);
    *meeting->mutable_conference_date() = DateToProto(work.conference);
    for (const auto& [role, count] : std::vector<std::pair<std::string, int>>{
             {"ssw", 1},
             {"support_promoter", 1},
             {"teacher", 2},
             {"commissioned_volunteer", 1}}) {
      cv1::ConferenceAttendee* attendee = meeting->add_attendees();
      attendee->set_role(role);
      attendee->set_count(count);
    }
    meeting->set_assessment("生活リズムの乱れと食事の不安定さが続いている");
    meeting->set_support_policy(
        "家庭訪問で保護者の困りごとを聞き、制度と地域資源につなぐ");
    for (auth::Role role :
         {auth::Role::kWardOfficer, auth::Role::kConsultationDesk}) {
      cv1::Assignee* assignee = meeting->add_persons_in_charge();
      assignee->set_subject(Subject(role));
      assignee->set_role(std::string(auth::RoleName(role)));
    }
    cv1::Conference recorded;
    if (absl::Status s =
            Check(stub->RecordConference(As(auth::Role::kWardOfficer).get(),
                                         conference, &recorded),
                  absl::StrCat("case ", index, " conference"));
        !s.ok()) {
      return s;
    }
    cv1::RecordAssessmentRequest assessment;
    assessment.set_parent(name);
    assessment.set_request_id(key + "-assessment");
    *assessment.mutable_assessment()->mutable_assessed_date() =
        DateToProto(work.assessed);
    const std::pair<cv1::NeedDomain, cv1::NeedLevel> needs[] = {
        {cv1::NEED_DOMAIN_ECONOMIC, cv1::NEED_LEVEL_HIGH},
        {cv1::NEED_DOMAIN_LEARNING, cv1::NEED_LEVEL_MEDIUM},
        {cv1::NEED_DOMAIN_FAMILY_RELATIONS, cv1::NEED_LEVEL_LOW}};
    for (const auto& [domain, level] : needs) {
      cv1::Need* need = assessment.mutable_assessment()->add_needs();
      need->set_domain(domain);
      need->set_level(level);
    }
    cv1::Assessment assessed;
    if (absl::Status s =
            Check(stub->RecordAssessment(As(auth::Role::kWardOfficer).get(),
                                         assessment, &assessed),
                  absl::StrCat("case ", index, " assessment"));
        !s.ok()) {
      return s;
    }
    for (size_t k = 0; k < work.contacts.size(); ++k) {
      cv1::RecordContactRequest contact;
      contact.set_parent(name);
      contact.set_request_id(absl::StrCat(key, "-contact-", k));
      contact.mutable_contact()->set_kind(
          k == 0 ? cv1::CONTACT_KIND_HOME_VISIT : cv1::CONTACT_KIND_PHONE_CALL);
      *contact.mutable_contact()->mutable_contact_date() =
          DateToProto(work.contacts[k]);
      contact.mutable_contact()->set_summary(
          k == 0 ? "家庭訪問。保護者と面談し、困りごとを聞き取った。"
                 : "電話で様子を確認した。");
      cv1::Contact recorded_contact;
      if (absl::Status s =
              Check(stub->RecordContact(As(auth::Role::kWardOfficer).get(),
                                        contact, &recorded_contact),
                    absl::StrCat("case ", index, " contact"));
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  // A referral to the case's support, from proposal to connection:
  // proposed, consented and sent on the day of the outreach, accepted and
  // connected on the day the support started.
  absl::Status Connect(size_t index, const std::string& case_name,
                       const SampleCase& c) {
    auto stub = rv1::ReferralService::NewStub(targets_.referral);
    const std::string key = absl::StrCat(key_, index, "-referral");
    rv1::CreateReferralRequest create;
    create.set_parent(parent_);
    create.set_request_id(key);
    create.mutable_referral()->set_case_(case_name);
    create.mutable_referral()->set_support(
        support_names_.at(static_cast<size_t>(c.support)));
    *create.mutable_referral()->mutable_proposed_date() =
        DateToProto(c.approach_date);
    rv1::Referral referral;
    if (absl::Status s =
            Check(stub->CreateReferral(As(auth::Role::kWardOfficer).get(),
                                       create, &referral),
                  absl::StrCat("case ", index, " referral"));
        !s.ok()) {
      return s;
    }
    rv1::RecordReferralConsentRequest consent;
    consent.set_name(referral.name());
    consent.set_request_id(key + "-consent");
    consent.mutable_consent()->set_basis(rv1::SHARING_BASIS_HOUSEHOLD_CONSENT);
    *consent.mutable_consent()->mutable_given_date() =
        DateToProto(c.approach_date);
    if (absl::Status s =
            Check(stub->RecordReferralConsent(
                      As(auth::Role::kWardOfficer).get(), consent, &referral),
                  absl::StrCat("case ", index, " consent"));
        !s.ok()) {
      return s;
    }
    const std::pair<rv1::ReferralState, absl::CivilDay> steps[] = {
        {rv1::REFERRAL_STATE_SENT, c.approach_date},
        {rv1::REFERRAL_STATE_ACCEPTED, *c.connected},
        {rv1::REFERRAL_STATE_CONNECTED, *c.connected}};
    for (const auto& [state, day] : steps) {
      rv1::ChangeReferralStateRequest change;
      change.set_name(referral.name());
      change.set_state(state);
      *change.mutable_effective_date() = DateToProto(day);
      change.set_request_id(absl::StrCat(key, "-", state));
      if (absl::Status s =
              Check(stub->ChangeReferralState(
                        As(auth::Role::kWardOfficer).get(), change, &referral),
                    absl::StrCat("case ", index, " referral step ", state));
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  // ---- Hubs ---------------------------------------------------------------

  // One child's hub usage, step by step, each as the role that takes it.
  absl::Status LoadHubUsage(size_t u) {
    const SampleHubUsage& usage = city_.hub_usages[u];
    const SampleSupport& hub =
        city_.supports[static_cast<size_t>(usage.support)];
    const std::string& hub_code = hub.hub->hub_code;
    const std::vector<std::string> hubs = {hub_code};
    const std::string key = absl::StrCat(key_, usage.case_index, "-hub");
    const std::string what =
        absl::StrCat("hub usage of case ", usage.case_index);
    auto stub = rv1::ReferralService::NewStub(targets_.referral);
    rv1::CreateHubApplicationRequest apply;
    apply.set_parent(parent_);
    apply.set_request_id(key);
    apply.mutable_usage()->set_hub_code(hub_code);
    apply.mutable_usage()->set_case_(case_names_[usage.case_index]);
    rv1::HubApplication* application =
        apply.mutable_usage()->mutable_application();
    application->set_applicant(rv1::APPLICANT_SCHOOL);
    application->set_applicant_detail("在籍校");
    *application->mutable_application_date() = DateToProto(usage.applied);
    application->set_reason("放課後の居場所と夕食、学習の支援が必要");
    rv1::HubUsage state;
    if (absl::Status s =
            Check(stub->CreateHubApplication(As(auth::Role::kWardOfficer).get(),
                                             apply, &state),
                  what + " application");
        !s.ok()) {
      return s;
    }
    const std::string name = state.name();
    rv1::RecordHubAssessmentRequest hearing;
    hearing.set_name(name);
    hearing.set_request_id(key + "-hearing");
    *hearing.mutable_assessment()->mutable_hearing_date() =
        DateToProto(usage.hearing);
    hearing.mutable_assessment()->set_summary(
        "本人・保護者から聞き取り。放課後を一人で過ごすことが多い。");
    if (absl::Status s =
            Check(stub->RecordHubAssessment(
                      As(auth::Role::kConsultationDesk).get(), hearing, &state),
                  what + " hearing");
        !s.ok()) {
      return s;
    }
    rv1::DecideHubUsageRequest decide;
    decide.set_name(name);
    decide.set_request_id(key + "-decision");
    decide.mutable_decision()->set_approved(true);
    *decide.mutable_decision()->mutable_decision_date() =
        DateToProto(usage.decided);
    *decide.mutable_decision()->mutable_start_date() = DateToProto(usage.start);
    if (absl::Status s =
            Check(stub->DecideHubUsage(As(auth::Role::kCentreDirector).get(),
                                       decide, &state),
                  what + " decision");
        !s.ok()) {
      return s;
    }
    rv1::RecordPreUseInterviewRequest interview;
    interview.set_name(name);
    interview.set_request_id(key + "-interview");
    *interview.mutable_interview()->mutable_interview_date() =
        DateToProto(usage.interview);
    interview.mutable_interview()->set_notes(
        "保護者と面談。利用の流れと約束ごとを説明した。");
    interview.mutable_interview()->set_troubles_beyond_hub(
        "家計の困りごとがあり、区の担当と共有する。");
    if (absl::Status s = Check(stub->RecordPreUseInterview(
                                   As(auth::Role::kHubOperator, {}, hubs).get(),
                                   interview, &state),
                               what + " interview");
        !s.ok()) {
      return s;
    }
    rv1::RecordHubSupportPlanRequest plan;
    plan.set_name(name);
    plan.set_request_id(key + "-plan");
    *plan.mutable_plan()->mutable_plan_date() = DateToProto(usage.planned);
    plan.mutable_plan()->add_goals("週2回以上来所し、夕食をとる");
    plan.mutable_plan()->add_goals("宿題を終えてから帰宅する習慣をつける");
    plan.mutable_plan()->set_child_wishes("友だちと遊びたい");
    plan.mutable_plan()->set_guardian_wishes("勉強を見てもらいたい");
    if (absl::Status s = Check(
            stub->RecordHubSupportPlan(
                As(auth::Role::kHubOperator, {}, hubs).get(), plan, &state),
            what + " plan");
        !s.ok()) {
      return s;
    }
    rv1::ReviewHubSupportPlanRequest review;
    review.set_name(name);
    review.set_request_id(key + "-review");
    review.set_version(1);
    *review.mutable_review()->mutable_review_date() =
        DateToProto(usage.planned);
    review.mutable_review()->set_advice("学校と来所状況を共有すること");
    if (absl::Status s =
            Check(stub->ReviewHubSupportPlan(
                      As(auth::Role::kCityOperations).get(), review, &state),
                  what + " plan review");
        !s.ok()) {
      return s;
    }
    ++progress_->hub_usages;
    for (const SampleVisit& visit : usage.visits) {
      rv1::RecordHubVisitRequest request;
      request.set_parent(name);
      request.set_request_id(absl::StrCat(key, "-visit-", DayKey(visit.day)));
      *request.mutable_visit()->mutable_visit_date() = DateToProto(visit.day);
      request.mutable_visit()->set_arrival_time(Clock(visit.arrival));
      request.mutable_visit()->set_departure_time(Clock(visit.departure));
      for (const std::string& service : visit.services) {
        request.mutable_visit()->add_services_delivered(service);
      }
      rv1::HubVisit recorded;
      if (absl::Status s = Check(
              stub->RecordHubVisit(As(auth::Role::kHubOperator, {}, hubs).get(),
                                   request, &recorded),
              absl::StrCat(what, " visit ", DayKey(visit.day)));
          !s.ok()) {
        return s;
      }
      ++progress_->visits;
    }
    if (usage.ended.has_value()) {
      rv1::EndHubUsageRequest end;
      end.set_name(name);
      end.set_request_id(key + "-end");
      *end.mutable_end()->mutable_end_date() = DateToProto(*usage.ended);
      end.mutable_end()->set_reason(
          static_cast<rv1::HubUsageEndReason>(usage.end_reason));
      if (absl::Status s = Check(
              stub->EndHubUsage(As(auth::Role::kHubOperator, {}, hubs).get(),
                                end, &state),
              what + " end");
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  // The hub operator raises; the ward officer acknowledges some.
  absl::Status LoadUrgentReport(size_t r) {
    const SampleUrgentReport& report = city_.urgent_reports[r];
    const SampleHubUsage& usage = city_.hub_usages[report.usage];
    const std::string& hub_code =
        city_.supports[static_cast<size_t>(usage.support)].hub->hub_code;
    auto stub = cv1::CaseService::NewStub(targets_.cases);
    cv1::RaiseUrgentReportRequest raise;
    raise.set_parent(case_names_[usage.case_index]);
    raise.set_request_id(absl::StrCat(key_, usage.case_index, "-urgent"));
    raise.mutable_report()->set_category(
        static_cast<cv1::UrgentCategory>(report.category));
    raise.mutable_report()->set_description(report.description);
    cv1::UrgentReport raised;
    const std::string what =
        absl::StrCat("urgent report on case ", usage.case_index);
    if (absl::Status s =
            Check(stub->RaiseUrgentReport(
                      As(auth::Role::kHubOperator, {}, {hub_code}).get(), raise,
                      &raised),
                  what);
        !s.ok()) {
      return s;
    }
    if (report.acknowledged) {
      cv1::AcknowledgeUrgentReportRequest ack;
      ack.set_name(raised.name());
      ack.set_note("区の担当が家庭訪問し、安全を確認した。");
      if (absl::Status s =
              Check(stub->AcknowledgeUrgentReport(
                        As(auth::Role::kWardOfficer).get(), ack, &raised),
                    what + " acknowledgement");
          !s.ok()) {
        return s;
      }
    }
    ++progress_->urgent_reports;
    return absl::OkStatus();
  }

  const SampleCity& city_;
  const LoadTargets& targets_;
  LoadProgress* progress_;
  const std::string parent_;
  const std::string key_;
  // By case index: the case service's name, once opened.
  std::vector<std::string> case_names_;
  // By support index.
  std::vector<std::string> support_names_;
  // Today in the city: which fiscal years have ended.
  const absl::CivilDay today_;
  // The rounds by screening; the template they use and its items; which
  // case each extracted pupil's decision opens (by screening and pupil);
  // the pupils each meeting decides about (by screening and meeting).
  std::vector<std::string> rounds_;
  sv1::Template template_;
  std::vector<TemplateItemShape> items_;
  std::map<std::string, bool> flags_;
  std::map<std::pair<size_t, size_t>, size_t> case_of_pupil_;
  std::vector<std::map<int, std::vector<size_t>>> pupils_of_meeting_;
  std::mutex mutex_;
  std::map<size_t, std::string> extraction_of_case_;
};

}  // namespace

LoadTotals TotalsOf(const SampleCity& city) {
  LoadTotals totals;
  totals.schools = static_cast<int64_t>(city.schools.size());
  for (const SampleEnrollment& e : city.enrollment) {
    totals.pupils += e.pupils;
  }
  for (const SampleScreening& screening : city.screenings) {
    totals.sheets += static_cast<int64_t>(screening.pupils.size());
  }
  totals.supports = static_cast<int64_t>(city.supports.size());
  totals.cases = static_cast<int64_t>(city.cases.size());
  for (const SampleCase& c : city.cases) {
    totals.referrals += c.connected.has_value() ? 1 : 0;
  }
  totals.hub_usages = static_cast<int64_t>(city.hub_usages.size());
  for (const SampleHubUsage& usage : city.hub_usages) {
    totals.visits += static_cast<int64_t>(usage.visits.size());
  }
  totals.urgent_reports = static_cast<int64_t>(city.urgent_reports.size());
  return totals;
}

absl::Status LoadCity(const SampleCity& city, const LoadTargets& targets,
                      LoadProgress* progress) {
  LoadProgress ignored;
  return Loader(city, targets, progress != nullptr ? progress : &ignored).Run();
}

}  // namespace kosapo::sample
