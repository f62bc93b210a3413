// kosapo-sample: puts the sample city into a running suite and checks what
// the reporting service makes of it. The run command's loader; a developer
// tool, not for city data.
//
//   kosapo-sample load  --table=FILE [--seed=2024] --private_key_file=KEY
//                       [--screening=ADDR --case=ADDR --referral=ADDR]
//   kosapo-sample load  --pupils=N [--areas=A] [--municipality=99999] ...
//   kosapo-sample check --table=FILE --private_key_file=KEY
//                       [--reporting=ADDR] [--wait=5m]
//
// `load` generates the city reproducing the ward table in FILE (any table
// of the published shape, ../shared/data/) and loads it through the public
// gRPC APIs, showing progress: every year's sheets and meetings I (a year
// that has ended into a past-record round), the cases the case service
// opens from the extractions, and what followed; then each year's sheets
// and cases opened from extractions. Loading it again changes nothing. With
// --pupils instead of --table it makes a plausible city of that size with
// no table: screened this fiscal year through the screening service's
// intake and meeting I, its cases opened from the extractions, followed
// up to yesterday. `check`
// waits until the reporting service has applied every event the other
// services' feeds hold, then compares its ward comparison with the table:
// every published value and every flag.
//
// Exit status: 0 done (check: the table is reproduced), 1 a call failed or
// the comparison differs, 2 bad usage.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/auth/jwt.h"
#include "common/tls/tls.h"
#include "common/types/api_types.h"
#include "kosapo/reporting/v1/reporting.grpc.pb.h"
#include "tools/sample/case_census.h"
#include "tools/sample/compare.h"
#include "tools/sample/generator.h"
#include "tools/sample/loader.h"
#include "tools/sample/wait.h"
#include "tools/sample/ward_spec.h"

ABSL_FLAG(std::string, table, "",
          "The ward table to reproduce (TSV of the published shape).");
ABSL_FLAG(uint64_t, seed, 2024, "Seed of the generator: same seed, same city.");
ABSL_FLAG(int64_t, pupils, 0,
          "load: instead of --table, a city of this many pupils screened "
          "this fiscal year (10 to 2,000,000).");
ABSL_FLAG(int, areas, 0,
          "load --pupils: the number of areas (0: one per about 6,000 "
          "pupils, at most 24).");
ABSL_FLAG(std::string, municipality, "99999",
          "load --pupils: the city's 5-digit code (keep it apart from the "
          "table's city).");
ABSL_FLAG(std::string, private_key_file, "",
          "PEM private key the services' public key verifies (development "
          "keys: scripts/dev-keys.sh).");
ABSL_FLAG(std::string, issuer, "kosapo-dev", "\"iss\" of the tokens.");
ABSL_FLAG(std::string, audience, "kosapo", "\"aud\" of the tokens.");
ABSL_FLAG(std::string, screening, "127.0.0.1:50051", "Screening service.");
ABSL_FLAG(std::string, case_service, "127.0.0.1:50052", "Case service.");
ABSL_FLAG(std::string, referral, "127.0.0.1:50053", "Referral service.");
ABSL_FLAG(std::string, reporting, "127.0.0.1:50054", "Reporting service.");
ABSL_FLAG(std::string, tls_ca_file, "",
          "CA certificate (PEM) the services' certificates chain to.");
ABSL_FLAG(std::string, tls_cert_file, "",
          "This tool's certificate (PEM): a service certificate "
          "(spiffe://kosapo/service/<--service_name>), since reading the "
          "feeds' heads is for services.");
ABSL_FLAG(std::string, tls_key_file, "",
          "Private key (PEM) of --tls_cert_file.");
ABSL_FLAG(bool, plaintext, false,
          "No TLS: only for services started with --insecure_plaintext.");
ABSL_FLAG(std::string, service_name, "sample",
          "The service its certificate names; its service token says the "
          "same (\"service:<name>\").");
ABSL_FLAG(int, concurrency, 4, "Parallel callers for case-level writes.");
ABSL_FLAG(absl::Duration, wait, absl::Minutes(5),
          "check: how long to wait for the reporting service to apply the "
          "feeds before giving up.");

namespace kosapo::sample {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "kosapo-sample: %s\n", status.ToString().c_str());
  return status.code() == absl::StatusCode::kInvalidArgument ? kExitUsage
                                                             : kExitFailed;
}

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     const std::string& flag) {
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": required"));
  }
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": cannot read ", path));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<std::shared_ptr<auth::TokenSigner>> Signer() {
  auth::SignerOptions options;
  auto pem =
      ReadFile(absl::GetFlag(FLAGS_private_key_file), "private_key_file");
  if (!pem.ok()) {
    return pem.status();
  }
  options.private_key_pem = *std::move(pem);
  options.issuer = absl::GetFlag(FLAGS_issuer);
  options.audience = absl::GetFlag(FLAGS_audience);
  auto signer = auth::TokenSigner::Create(options);
  if (!signer.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--private_key_file: ", signer.status().message()));
  }
  return std::shared_ptr<auth::TokenSigner>(*std::move(signer));
}

std::function<std::string(const auth::Principal&)> SignWith(
    std::shared_ptr<auth::TokenSigner> signer) {
  return [signer](const auth::Principal& principal) {
    return signer->Sign(principal, absl::Now(), absl::Hours(1)).value();
  };
}

// Mutual TLS from --tls_*, or plaintext with --plaintext; anything else
// stops the tool naming the flags (exit 2).
std::shared_ptr<grpc::ChannelCredentials> Credentials() {
  if (absl::GetFlag(FLAGS_plaintext)) {
    return grpc::InsecureChannelCredentials();
  }
  tls::TlsFiles files;
  files.ca_file = absl::GetFlag(FLAGS_tls_ca_file);
  files.cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  files.key_file = absl::GetFlag(FLAGS_tls_key_file);
  if (absl::Status checked = tls::CheckTlsFiles(files, "--tls_");
      !checked.ok()) {
    std::fprintf(stderr,
                 "kosapo-sample: %s (or --plaintext for services started "
                 "with --insecure_plaintext)\n",
                 std::string(checked.message()).c_str());
    std::exit(2);
  }
  return tls::ChannelCredentials(files);
}

std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address) {
  static const std::shared_ptr<grpc::ChannelCredentials> credentials =
      Credentials();
  return grpc::CreateChannel(address, credentials);
}

// Shows how far the load is, every half second on a terminal (one line,
// rewritten), every ten seconds otherwise, until stopped.
class ProgressDisplay {
 public:
  ProgressDisplay(const SampleCity& city, const LoadProgress& progress)
      : progress_(progress),
        totals_(TotalsOf(city)),
        tty_(isatty(STDERR_FILENO) != 0),
        start_(absl::Now()) {
    thread_ = std::thread([this] { Run(); });
  }

  ~ProgressDisplay() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    thread_.join();
    Show(true);
  }

 private:
  void Run() {
    const absl::Duration every =
        tty_ ? absl::Milliseconds(500) : absl::Seconds(10);
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, absl::ToChronoMilliseconds(every),
                           [this] { return done_; })) {
      Show(false);
    }
  }

  void Show(bool last) const {
    std::string line = absl::StrFormat(
        "schools %d/%d  pupils %d/%d", progress_.schools.load(),
        totals_.schools, progress_.pupils.load(), totals_.pupils);
    const std::pair<const char*, std::pair<int64_t, int64_t>> steps[] = {
        {"sheets", {progress_.sheets.load(), totals_.sheets}},
        {"supports", {progress_.supports.load(), totals_.supports}},
        {"cases", {progress_.cases.load(), totals_.cases}},
        {"referrals", {progress_.referrals.load(), totals_.referrals}},
        {"hub usages", {progress_.hub_usages.load(), totals_.hub_usages}},
        {"visits", {progress_.visits.load(), totals_.visits}},
        {"urgent reports",
         {progress_.urgent_reports.load(), totals_.urgent_reports}}};
    for (const auto& [label, counts] : steps) {
      if (counts.second > 0) {
        absl::StrAppendFormat(&line, "  %s %d/%d", label, counts.first,
                              counts.second);
      }
    }
    absl::StrAppendFormat(
        &line, "  %ds",
        static_cast<int64_t>(absl::ToInt64Seconds(absl::Now() - start_)));
    if (tty_) {
      std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), last ? "\n" : "");
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
  }

  const LoadProgress& progress_;
  const LoadTotals totals_;
  const bool tty_;
  const absl::Time start_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  std::thread thread_;
};

absl::StatusOr<WardSpec> Spec() {
  auto tsv = ReadFile(absl::GetFlag(FLAGS_table), "table");
  if (!tsv.ok()) {
    return tsv.status();
  }
  auto spec = ParseWardSpec(*tsv);
  if (!spec.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--table: ", absl::GetFlag(FLAGS_table), ": ",
                     spec.status().message()));
  }
  return spec;
}

// The city to load: from --table, or of --pupils size (exclusive).
absl::StatusOr<SampleCity> City() {
  const int64_t pupils = absl::GetFlag(FLAGS_pupils);
  const bool table = !absl::GetFlag(FLAGS_table).empty();
  if (table == (pupils != 0)) {
    return absl::InvalidArgumentError(
        "give either --table=FILE (reproduce a ward table) or --pupils=N (a "
        "city of that size)");
  }
  if (table) {
    auto spec = Spec();
    if (!spec.ok()) {
      return spec.status();
    }
    return CityFromSpec(*spec, absl::GetFlag(FLAGS_seed));
  }
  auto today = DayIn(absl::Now(), "Asia/Tokyo");
  if (!today.ok()) {
    return today.status();
  }
  auto city =
      CityOfSize(pupils, absl::GetFlag(FLAGS_areas), *today,
                 absl::GetFlag(FLAGS_seed), absl::GetFlag(FLAGS_municipality));
  if (!city.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--pupils/--areas/--municipality: ", city.status().message()));
  }
  return city;
}

int Load() {
  auto city = City();
  if (!city.ok()) {
    return Fail(city.status());
  }
  auto signer = Signer();
  if (!signer.ok()) {
    return Fail(signer.status());
  }
  LoadTargets targets;
  targets.screening = ChannelTo(absl::GetFlag(FLAGS_screening));
  targets.cases = ChannelTo(absl::GetFlag(FLAGS_case_service));
  targets.referral = ChannelTo(absl::GetFlag(FLAGS_referral));
  targets.sign = SignWith(*signer);
  targets.concurrency = absl::GetFlag(FLAGS_concurrency);
  if (targets.concurrency < 1 || targets.concurrency > 64) {
    return Fail(absl::InvalidArgumentError("--concurrency: 1 to 64"));
  }
  LoadProgress progress;
  const absl::Time start = absl::Now();
  absl::Status loaded;
  {
    ProgressDisplay display(*city, progress);
    loaded = LoadCity(*city, targets, &progress);
  }
  if (!loaded.ok()) {
    return Fail(loaded);
  }
  std::printf(
      "loaded %d schools, %d pupils, %d sheets, %d supports, %d cases, %d "
      "referrals, %d hub usages with %d visits, %d urgent reports in %s\n",
      static_cast<int>(progress.schools.load()),
      static_cast<int>(progress.pupils.load()),
      static_cast<int>(progress.sheets.load()),
      static_cast<int>(progress.supports.load()),
      static_cast<int>(progress.cases.load()),
      static_cast<int>(progress.referrals.load()),
      static_cast<int>(progress.hub_usages.load()),
      static_cast<int>(progress.visits.load()),
      static_cast<int>(progress.urgent_reports.load()),
      absl::FormatDuration(
          absl::Trunc(absl::Now() - start, absl::Milliseconds(100)))
          .c_str());
  // Each year's screening, and how its cases came, as the case service
  // tells.
  std::vector<std::string> areas;
  for (const SampleArea& area : city->areas) {
    areas.push_back(area.code);
  }
  auto census =
      TakeCaseCensus(targets.cases, targets.sign, city->municipality, areas);
  if (!census.ok()) {
    return Fail(census.status());
  }
  for (const SampleScreening& screening : city->screenings) {
    const YearCensus& year = (*census)[screening.fiscal_year];
    std::printf(
        "FY%d screening: %zu sheets, %zu meetings I; %lld of the year's %lld "
        "cases opened from a school's extraction\n",
        screening.fiscal_year, screening.pupils.size(),
        screening.meetings.size(), static_cast<long long>(year.from_extraction),
        static_cast<long long>(year.cases));
  }
  return 0;
}

int Check() {
  auto spec = Spec();
  if (!spec.ok()) {
    return Fail(spec.status());
  }
  auto signer = Signer();
  if (!signer.ok()) {
    return Fail(signer.status());
  }
  const auto sign = SignWith(*signer);
  auth::Principal analyst;
  analyst.subject = "sample-check:analyst";
  analyst.role = auth::Role::kAnalyst;
  analyst.municipality = spec->municipality;
  FeedSources sources;
  sources.producers = {{"screening", ChannelTo(absl::GetFlag(FLAGS_screening))},
                       {"case", ChannelTo(absl::GetFlag(FLAGS_case_service))},
                       {"referral", ChannelTo(absl::GetFlag(FLAGS_referral))}};
  sources.reporting = ChannelTo(absl::GetFlag(FLAGS_reporting));
  sources.sign = sign;
  sources.municipality = spec->municipality;
  sources.service_name = absl::GetFlag(FLAGS_service_name);
  const absl::Time start = absl::Now();
  if (absl::Status caught_up =
          WaitForReporting(sources, absl::GetFlag(FLAGS_wait));
      !caught_up.ok()) {
    return Fail(caught_up);
  }
  std::fprintf(stderr, "reporting has applied every feed (waited %s)\n",
               absl::FormatDuration(
                   absl::Trunc(absl::Now() - start, absl::Milliseconds(100)))
                   .c_str());

  reporting::v1::GetWardComparisonRequest request;
  request.set_parent(absl::StrCat("municipalities/", spec->municipality));
  request.set_fiscal_year(spec->area_year);
  reporting::v1::WardComparison comparison;
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + sign(analyst));
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(60));
  const grpc::Status status =
      reporting::v1::ReportingService::NewStub(sources.reporting)
          ->GetWardComparison(&context, request, &comparison);
  if (!status.ok()) {
    return Fail(absl::Status(
        static_cast<absl::StatusCode>(status.error_code()),
        absl::StrCat("GetWardComparison: ", status.error_message())));
  }
  const SpecComparison compared = CompareWithSpec(*spec, comparison);
  if (!compared.differences.empty()) {
    std::fprintf(stderr,
                 "the reporting service differs from %s in %d places:\n",
                 absl::GetFlag(FLAGS_table).c_str(),
                 static_cast<int>(compared.differences.size()));
    for (size_t i = 0; i < compared.differences.size() && i < 20; ++i) {
      std::fprintf(stderr, "  %s\n", compared.differences[i].c_str());
    }
    return kExitFailed;
  }
  std::printf(
      "the reporting service reproduces %s: %d published values and %d flags "
      "(%d cells flagged) equal\n",
      absl::GetFlag(FLAGS_table).c_str(), compared.cells, compared.flags,
      compared.flagged);
  return 0;
}

}  // namespace
}  // namespace kosapo::sample

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "puts the sample city into a running suite and checks the reports.\n"
      "  kosapo-sample load  --table=FILE --private_key_file=KEY [--seed=N]\n"
      "  kosapo-sample load  --pupils=N [--areas=A] --private_key_file=KEY\n"
      "  kosapo-sample check --table=FILE --private_key_file=KEY [--wait=5m]\n"
      "Addresses: --screening, --case_service, --referral, --reporting "
      "(defaults: the run command's 127.0.0.1:50051-50054).");
  const std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  const std::string command = args.size() == 2 ? args[1] : "";
  if (command == "load") {
    return kosapo::sample::Load();
  }
  if (command == "check") {
    return kosapo::sample::Check();
  }
  std::fprintf(stderr, "%s\nRun with --help for the flags.\n",
               absl::ProgramUsageMessage().data());
  return kosapo::sample::kExitUsage;
}
