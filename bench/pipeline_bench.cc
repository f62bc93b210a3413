// Event propagation and resident memory, with the four real service
// binaries running as their own processes on one PostgreSQL:
//
// 4. From an extraction committed in screening (RecordDecision returned) to
//    (a) the case opened by the case service (its CaseOpened event arriving
//    on the case feed's WatchEvents stream) and (b) the reporting
//    projection updated (reporting's GetProjectionStatus showing the case
//    feed applied up to that event). Extractions are paced at --rate per
//    second; first with nothing else running (the baseline), then under
//    load: ward staff recording contacts and reading cases (--callers
//    each), a dashboard reading the ward comparison back to back, and
//    directory reads on referral. Median and p99, and the ratio of each to
//    the baseline's.
// 5. Each service's resident memory (VmRSS): idle once set up, and the
//    most sampled (every 100 ms) while the load runs.
//
//   pipeline_bench [--extractions=300] [--rate=20] [--callers=8] [--out=FILE]
#include <grpcpp/client_context.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/bench_support.h"
#include "common/types/api_types.h"
#include "kosapo/cases/v1/cases.grpc.pb.h"
#include "kosapo/cases/v1/events.pb.h"
#include "kosapo/events/v1/events.grpc.pb.h"
#include "kosapo/referral/v1/referral.grpc.pb.h"
#include "kosapo/reporting/v1/reporting.grpc.pb.h"
#include "kosapo/screening/v1/screening.grpc.pb.h"

namespace {

namespace sv1 = kosapo::screening::v1;
namespace cv1 = kosapo::cases::v1;
namespace rv1 = kosapo::referral::v1;
namespace pv1 = kosapo::reporting::v1;
namespace ev1 = kosapo::events::v1;
using kosapo::auth::Role;
using kosapo::bench::Check;

constexpr char kCity[] = "27100";
constexpr char kArea[] = "27127";
constexpr char kSchool[] = "E1";
const char* const kServices[] = {"screening", "case", "referral", "reporting"};

class Tokens {
 public:
  explicit Tokens(const kosapo::testing::TestTokens& tokens) {
    for (Role role : {Role::kCityOperations, Role::kSchoolStaff,
                      Role::kWardOfficer, Role::kAnalyst}) {
      kosapo::auth::Principal principal;
      principal.subject = absl::StrCat(
          "user:bench-", std::string(kosapo::auth::RoleName(role)));
      principal.role = role;
      principal.municipality = kCity;
      principal.areas = {kArea};
      principal.schools = {kSchool};
      by_role_[role] = tokens.Sign(principal);
    }
    by_role_[Role::kService] = tokens.Sign(Role::kService, "service:bench");
  }
  void As(grpc::ClientContext& context, Role role) const {
    context.AddMetadata("authorization", "Bearer " + by_role_.at(role));
  }

 private:
  std::map<Role, std::string> by_role_;
};

// Load callers ride over a connection blip as a real client would, waiting
// for the channel to be ready instead of failing fast for the whole
// reconnect backoff; a service that stays away still fails every call
// within the deadline.
void Patient(grpc::ClientContext& context) {
  context.set_wait_for_ready(true);
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
}

void Ok(const grpc::Status& status, const std::string& what) {
  Check(status.ok(), absl::StrCat(what, ": ", status.error_code(), " ",
                                  status.error_message()));
}

// Distinct kana for pupil `p`: its decimal digits as kana.
std::string Kana(int p) {
  static const char* const kDigits[] = {"あ", "い", "う", "え", "お",
                                        "か", "き", "く", "け", "こ"};
  std::string out;
  for (const char digit : std::to_string(p)) {
    out += kDigits[digit - '0'];
  }
  return out;
}

// A city with one ward and school, a round of this fiscal year, `pupils`
// sheets and a meeting I of today; returns the meeting.
std::string SeedScreening(sv1::ScreeningService::Stub& stub,
                          const Tokens& tokens, int pupils) {
  const std::string parent = absl::StrCat("municipalities/", kCity);
  {
    sv1::UpsertMunicipalityRequest request;
    request.mutable_municipality()->set_code(kCity);
    request.mutable_municipality()->set_display_name("大阪市");
    grpc::ClientContext context;
    tokens.As(context, Role::kCityOperations);
    sv1::Municipality response;
    Ok(stub.UpsertMunicipality(&context, request, &response), "municipality");
  }
  {
    sv1::UpsertAreaRequest request;
    request.set_parent(parent);
    request.mutable_area()->set_code(kArea);
    request.mutable_area()->set_display_name("北区");
    request.mutable_area()->set_display_order(1);
    grpc::ClientContext context;
    tokens.As(context, Role::kCityOperations);
    sv1::Area response;
    Ok(stub.UpsertArea(&context, request, &response), "area");
  }
  {
    sv1::UpsertSchoolRequest request;
    request.set_parent(parent);
    request.mutable_school()->set_code(kSchool);
    request.mutable_school()->set_display_name("北小学校");
    request.mutable_school()->set_kind(sv1::SCHOOL_KIND_ELEMENTARY);
    request.mutable_school()->set_area_code(kArea);
    grpc::ClientContext context;
    tokens.As(context, Role::kCityOperations);
    sv1::School response;
    Ok(stub.UpsertSchool(&context, request, &response), "school");
  }
  const absl::CivilDay today = *kosapo::DayIn(absl::Now(), "Asia/Tokyo");
  const int year = kosapo::FiscalYearOf(today);
  sv1::Round round;
  {
    sv1::CreateRoundRequest request;
    request.set_parent(parent);
    request.set_request_id("bench-round");
    request.mutable_round()->set_fiscal_year(year);
    request.mutable_round()->set_title("第1回");
    request.mutable_round()->set_template_("templates/default/versions/1");
    *request.mutable_round()->mutable_open_date() =
        kosapo::DateToProto(absl::CivilDay(year, 4, 1));
    *request.mutable_round()->mutable_close_date() =
        kosapo::DateToProto(absl::CivilDay(year + 1, 3, 31));
    grpc::ClientContext context;
    tokens.As(context, Role::kCityOperations);
    Ok(stub.CreateRound(&context, request, &round), "round");
  }
  for (int p = 1; p <= pupils; ++p) {
    sv1::UpsertSheetRequest request;
    request.set_parent(round.name());
    sv1::Sheet* sheet = request.mutable_sheet();
    sheet->set_school_code(kSchool);
    sheet->set_pupil_id(absl::StrCat("P", p));
    sheet->set_grade(1 + p % 6);
    sheet->set_pupil_name(absl::StrCat("児童 ", p));
    sheet->set_pupil_kana(absl::StrCat("じどう ", Kana(p)));
    *sheet->mutable_birth_date() =
        kosapo::DateToProto(absl::CivilDay(year - 12, 4, 2) + p % 2000);
    sheet->set_sex(p % 2 == 0 ? sv1::SEX_FEMALE : sv1::SEX_MALE);
    grpc::ClientContext context;
    tokens.As(context, Role::kSchoolStaff);
    sv1::UpsertSheetResponse response;
    Ok(stub.UpsertSheet(&context, request, &response), "sheet");
  }
  sv1::RecordMeetingRequest request;
  request.set_parent(round.name());
  request.set_request_id("bench-meeting");
  request.mutable_meeting()->set_school_code(kSchool);
  *request.mutable_meeting()->mutable_meeting_date() =
      kosapo::DateToProto(today);
  sv1::Attendee* attendee = request.mutable_meeting()->add_attendees();
  attendee->set_role("principal");
  attendee->set_count(1);
  grpc::ClientContext context;
  tokens.As(context, Role::kSchoolStaff);
  sv1::Meeting meeting;
  Ok(stub.RecordMeeting(&context, request, &meeting), "meeting");
  return meeting.name();
}

// When each extraction was committed, its case opened and reporting
// caught up with it.
class Tracker {
 public:
  void Committed(const std::string& extraction, absl::Time at) {
    std::lock_guard<std::mutex> lock(mutex_);
    entries_[extraction].committed = at;
  }
  void CaseOpened(const std::string& extraction, const std::string& name,
                  int64_t sequence, absl::Time at) {
    std::lock_guard<std::mutex> lock(mutex_);
    Entry& entry = entries_[extraction];
    if (entry.sequence == 0) {
      entry.opened = at;
      entry.sequence = sequence;
      entry.case_name = name;
      by_sequence_[sequence] = extraction;
      cases_.push_back(name);
    }
    ResolveLocked(at);
  }
  void ReportingAt(int64_t applied, absl::Time at) {
    std::lock_guard<std::mutex> lock(mutex_);
    applied_ = std::max(applied_, applied);
    ResolveLocked(at);
    changed_.notify_all();
  }
  // Waits until every extraction in `ids` reached reporting.
  bool WaitAll(const std::vector<std::string>& ids, absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, absl::ToChronoMilliseconds(timeout), [&] {
      for (const std::string& id : ids) {
        auto it = entries_.find(id);
        if (it == entries_.end() || it->second.reported == absl::Time()) {
          return false;
        }
      }
      return true;
    });
  }
  // Milliseconds from commit to case opened and to reporting, for `ids`.
  void Latencies(const std::vector<std::string>& ids,
                 std::vector<double>* to_case, std::vector<double>* to_report) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const std::string& id : ids) {
      const Entry& e = entries_.at(id);
      to_case->push_back(absl::ToDoubleMilliseconds(e.opened - e.committed));
      to_report->push_back(
          absl::ToDoubleMilliseconds(e.reported - e.committed));
    }
  }
  std::vector<std::string> Cases() {
    std::lock_guard<std::mutex> lock(mutex_);
    return cases_;
  }

 private:
  struct Entry {
    absl::Time committed;
    absl::Time opened;
    absl::Time reported;
    int64_t sequence = 0;
    std::string case_name;
  };
  void ResolveLocked(absl::Time at) {
    for (auto it = by_sequence_.begin();
         it != by_sequence_.end() && it->first <= applied_;) {
      entries_[it->second].reported = at;
      it = by_sequence_.erase(it);
    }
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, Entry> entries_;
  std::map<int64_t, std::string> by_sequence_;  // opened, not yet reported
  std::vector<std::string> cases_;
  int64_t applied_ = 0;
};

struct Phase {
  std::string name;
  std::vector<double> to_case;
  std::vector<double> to_report;
};

}  // namespace

int main(int argc, char** argv) {
  kosapo::bench::Flags flags(
      argc, argv,
      {{"extractions", "300"}, {"rate", "20"}, {"callers", "8"}, {"out", ""}});
  const int extractions = flags.Int("extractions");
  const double rate = flags.Double("rate");
  const int callers = flags.Int("callers");
  Check(extractions > 0 && rate > 0 && callers > 0, "arguments");

  auto suite = kosapo::bench::Suite::Create(
      {"screening", "case", "referral", "reporting"});
  kosapo::bench::CheckOk(suite.status(), "start the cluster");
  for (const char* service : kServices) {
    kosapo::bench::CheckOk((*suite)->Start(service).status(),
                           absl::StrCat("start ", service));
  }
  const Tokens tokens((*suite)->tokens());
  auto screening = sv1::ScreeningService::NewStub(
      (*suite)->OwnChannel((*suite)->address("screening")));
  const std::string meeting =
      SeedScreening(*screening, tokens, 2 * extractions);

  Tracker tracker;
  std::atomic<bool> stop{false};
  // The case feed, as it commits.
  grpc::ClientContext watch_context;
  tokens.As(watch_context, Role::kService);
  auto feed = ev1::EventFeed::NewStub(
      (*suite)->OwnChannel((*suite)->address("case"), /*as_service=*/true));
  ev1::WatchEventsRequest watch_request;
  auto watch = feed->WatchEvents(&watch_context, watch_request);
  std::thread watcher([&] {
    ev1::WatchEventsResponse batch;
    while (watch->Read(&batch)) {
      const absl::Time now = absl::Now();
      for (const ev1::Event& event : batch.events()) {
        cv1::CaseOpened opened;
        if (event.payload().UnpackTo(&opened) &&
            event.payload().Is<cv1::CaseOpened>()) {
          tracker.CaseOpened(opened.extraction_id(), opened.case_(),
                             event.sequence(), now);
        }
      }
    }
  });
  // How far reporting has applied the case feed, every 2 ms.
  std::thread poller([&] {
    auto stub = pv1::ReportingService::NewStub((*suite)->OwnChannel(
        (*suite)->address("reporting"), /*as_service=*/true));
    while (!stop) {
      grpc::ClientContext context;
      tokens.As(context, Role::kService);
      pv1::GetProjectionStatusRequest request;
      pv1::ProjectionStatus status;
      if (stub->GetProjectionStatus(&context, request, &status).ok()) {
        const absl::Time now = absl::Now();
        for (const pv1::FeedPosition& position : status.feeds()) {
          if (position.source() == "case") {
            tracker.ReportingAt(position.applied_sequence(), now);
          }
        }
      }
      absl::SleepFor(absl::Milliseconds(2));
    }
  });

  int next_pupil = 1;
  auto run_phase = [&](const std::string& name) {
    std::vector<std::string> ids;
    const absl::Duration interval = absl::Seconds(1.0 / rate);
    absl::Time next = absl::Now();
    for (int i = 0; i < extractions; ++i, ++next_pupil) {
      absl::SleepFor(next - absl::Now());
      next += interval;
      sv1::RecordDecisionRequest request;
      request.set_meeting(meeting);
      request.set_pupil_id(absl::StrCat("P", next_pupil));
      request.set_outcome(sv1::DECISION_OUTCOME_EXTRACT);
      request.set_reason("欠席が続き、きょうだいの世話をしている");
      grpc::ClientContext context;
      tokens.As(context, Role::kSchoolStaff);
      sv1::RecordDecisionResponse response;
      Ok(screening->RecordDecision(&context, request, &response), "decision");
      tracker.Committed(response.decision().name(), absl::Now());
      ids.push_back(response.decision().name());
    }
    Check(tracker.WaitAll(ids, absl::Seconds(120)),
          name + ": extractions did not all reach reporting");
    Phase phase{name, {}, {}};
    tracker.Latencies(ids, &phase.to_case, &phase.to_report);
    return phase;
  };

  std::vector<Phase> phases;
  phases.push_back(run_phase("nothing else running (baseline)"));
  std::map<std::string, double> idle_mib;
  for (const char* service : kServices) {
    idle_mib[service] = kosapo::bench::ResidentMiB((*suite)->pid(service));
  }

  // The load: staff on the cases just opened, a dashboard, directory reads.
  const std::vector<std::string> cases = tracker.Cases();
  Check(!cases.empty(), "cases opened");
  std::atomic<bool> loading{true};
  std::atomic<int64_t> load_calls{0};
  std::atomic<int64_t> load_errors{0};
  std::string load_error;
  std::mutex load_error_mutex;
  // Errors per service, and the first one of each, so a failure names who.
  std::map<std::string, int64_t> errors_by_service;
  auto count = [&](const char* service, const grpc::Status& status) {
    if (status.ok()) {
      ++load_calls;
    } else {
      ++load_errors;
      std::lock_guard<std::mutex> lock(load_error_mutex);
      if (errors_by_service[service]++ == 0) {
        absl::StrAppend(&load_error, load_error.empty() ? "" : "; ", service,
                        ": ", status.error_code(), " ", status.error_message());
      }
    }
  };
  const kosapo::type::Date today =
      kosapo::DateToProto(*kosapo::DayIn(absl::Now(), "Asia/Tokyo"));
  std::vector<std::thread> load;
  for (int c = 0; c < callers; ++c) {
    load.emplace_back([&, c] {
      auto stub = cv1::CaseService::NewStub(
          (*suite)->OwnChannel((*suite)->address("case")));
      for (int64_t i = 0; loading; ++i) {
        const std::string& name = cases[(c * 31 + i) % cases.size()];
        grpc::ClientContext context;
        tokens.As(context, Role::kWardOfficer);
        Patient(context);
        if (i % 2 == 0) {
          cv1::RecordContactRequest request;
          request.set_parent(name);
          request.set_request_id(absl::StrCat("load-", c, "-", i));
          request.mutable_contact()->set_kind(cv1::CONTACT_KIND_PHONE_CALL);
          *request.mutable_contact()->mutable_contact_date() = today;
          request.mutable_contact()->set_summary("保護者に電話した");
          cv1::Contact response;
          count("case", stub->RecordContact(&context, request, &response));
        } else {
          cv1::GetCaseRequest request;
          request.set_name(name);
          cv1::Case response;
          count("case", stub->GetCase(&context, request, &response));
        }
      }
    });
  }
  load.emplace_back([&] {
    auto stub = pv1::ReportingService::NewStub(
        (*suite)->OwnChannel((*suite)->address("reporting")));
    const int year =
        kosapo::FiscalYearOf(*kosapo::DayIn(absl::Now(), "Asia/Tokyo"));
    while (loading) {
      grpc::ClientContext context;
      tokens.As(context, Role::kAnalyst);
      Patient(context);
      pv1::GetWardComparisonRequest request;
      request.set_parent(absl::StrCat("municipalities/", kCity));
      request.set_fiscal_year(year);
      pv1::WardComparison response;
      count("reporting", stub->GetWardComparison(&context, request, &response));
    }
  });
  for (int c = 0; c < 2; ++c) {
    load.emplace_back([&] {
      auto stub = rv1::ReferralService::NewStub(
          (*suite)->OwnChannel((*suite)->address("referral")));
      while (loading) {
        grpc::ClientContext context;
        tokens.As(context, Role::kWardOfficer);
        Patient(context);
        rv1::ListOrganizationsRequest request;
        request.set_parent(absl::StrCat("municipalities/", kCity));
        rv1::ListOrganizationsResponse response;
        count("referral",
              stub->ListOrganizations(&context, request, &response));
      }
    });
  }
  std::map<std::string, double> peak_mib = idle_mib;
  std::thread sampler([&] {
    while (loading) {
      for (const char* service : kServices) {
        peak_mib[service] =
            std::max(peak_mib[service],
                     kosapo::bench::ResidentMiB((*suite)->pid(service)));
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  });
  absl::SleepFor(absl::Seconds(1));  // the load gets going
  const int64_t calls_before = load_calls;
  const absl::Time load_start = absl::Now();
  phases.push_back(run_phase(absl::StrCat(
      "under load (", callers,
      " staff recording contacts and reading cases, a dashboard, 2 "
      "directory readers)")));
  const double load_rate = (load_calls - calls_before) /
                           absl::ToDoubleSeconds(absl::Now() - load_start);
  loading = false;
  for (std::thread& thread : load) {
    thread.join();
  }
  sampler.join();
  stop = true;
  poller.join();
  watch_context.TryCancel();
  watcher.join();

  std::string table = absl::StrFormat(
      "%d extractions per phase, paced at %.0f/s. Under load the other "
      "callers made %.0f calls/s (%d failed%s%s).\n\n",
      extractions, rate, load_rate, load_errors.load(),
      load_error.empty() ? "" : "; first of each: ", load_error);
  absl::StrAppend(
      &table,
      "| phase | to case opened: median ms | p99 ms | to reporting updated: "
      "median ms | p99 ms | ratio to baseline (median, p99 to reporting) "
      "|\n|---|---:|---:|---:|---:|---:|\n");
  std::vector<double> base_case = phases[0].to_case;
  std::vector<double> base_report = phases[0].to_report;
  const double base_median = kosapo::bench::Quantile(base_report, 0.5);
  const double base_p99 = kosapo::bench::Quantile(base_report, 0.99);
  for (Phase& phase : phases) {
    const double report_median = kosapo::bench::Quantile(phase.to_report, 0.5);
    const double report_p99 = kosapo::bench::Quantile(phase.to_report, 0.99);
    absl::StrAppendFormat(
        &table, "| %s | %.1f | %.1f | %.1f | %.1f | %.2f, %.2f |\n", phase.name,
        kosapo::bench::Quantile(phase.to_case, 0.5),
        kosapo::bench::Quantile(phase.to_case, 0.99), report_median, report_p99,
        base_median > 0 ? report_median / base_median : 0,
        base_p99 > 0 ? report_p99 / base_p99 : 0);
  }
  absl::StrAppend(&table,
                  "\nResident memory (VmRSS) of each service process:\n\n"
                  "| service | idle MiB | under load MiB (most sampled) |\n"
                  "|---|---:|---:|\n");
  for (const char* service : kServices) {
    absl::StrAppendFormat(&table, "| %s | %.1f | %.1f |\n", service,
                          idle_mib[service], peak_mib[service]);
  }
  kosapo::bench::Emit(flags.String("out"), table);
  if (load_errors != 0) {
    for (const auto& [service, errors] : errors_by_service) {
      std::fprintf(stderr, "%s: %lld load calls failed\n", service.c_str(),
                   static_cast<long long>(errors));
    }
    std::fprintf(stderr, "%s", (*suite)->Postmortem().c_str());
  }
  Check(load_errors == 0,
        absl::StrCat(load_errors.load(), " load calls failed"));
  return 0;
}
