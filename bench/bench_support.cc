#include "bench/bench_support.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/tls/tls.h"

namespace kosapo::bench {
namespace {

// The benchmark's own identity: client "bench" for users' calls, service
// "bench" for the feeds, and the baseline echo server's certificate.
constexpr char kIdentity[] = "bench";

}  // namespace

void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "bench: %s\n", what.c_str());
    std::exit(1);
  }
}

void CheckOk(const absl::Status& status, const std::string& what) {
  Check(status.ok(), absl::StrCat(what, ": ", status.ToString()));
}

double Quantile(std::vector<double>& values, double q) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  const size_t index = std::min(
      values.size() - 1,
      static_cast<size_t>(std::ceil(q * static_cast<double>(values.size()))) -
          (q > 0 ? 1 : 0));
  return values[index];
}

double LoadResult::Millis(double q) { return Quantile(latencies, q) * 1000.0; }

LoadResult ClosedLoop(int callers, absl::Duration warmup,
                      absl::Duration duration, const Call& call) {
  std::atomic<bool> measuring{false};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  LoadResult result;
  std::vector<std::thread> threads;
  for (int caller = 0; caller < callers; ++caller) {
    threads.emplace_back([&, caller] {
      std::vector<double> latencies;
      int64_t errors = 0;
      std::string first_error;
      for (int64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        const bool counted = measuring.load(std::memory_order_relaxed);
        const absl::Time start = absl::Now();
        std::string error = call(caller, i);
        const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
        if (!counted || stop.load(std::memory_order_relaxed)) {
          continue;
        }
        if (error.empty()) {
          latencies.push_back(seconds);
        } else {
          if (first_error.empty()) {
            first_error = std::move(error);
          }
          ++errors;
        }
      }
      std::lock_guard<std::mutex> lock(mutex);
      result.calls += static_cast<int64_t>(latencies.size());
      result.latencies.insert(result.latencies.end(), latencies.begin(),
                              latencies.end());
      result.errors += errors;
      if (result.first_error.empty()) {
        result.first_error = first_error;
      }
    });
  }
  absl::SleepFor(warmup);
  const absl::Time start = absl::Now();
  measuring = true;
  absl::SleepFor(duration);
  stop = true;
  result.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  for (std::thread& thread : threads) {
    thread.join();
  }
  return result;
}

double ResidentMiB(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "VmRSS:")) {
      std::vector<std::string> parts =
          absl::StrSplit(line, ' ', absl::SkipEmpty());
      return parts.size() >= 2 ? std::atof(parts[1].c_str()) / 1024.0 : 0;
    }
  }
  return 0;
}

Flags::Flags(int argc, char** argv, std::map<std::string, std::string> defaults)
    : values_(std::move(defaults)) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    const std::string name =
        arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    if (!absl::StartsWith(arg, "--") || eq == std::string::npos ||
        values_.count(name) == 0) {
      std::string usage = absl::StrCat("usage: ", argv[0]);
      for (const auto& [flag, value] : values_) {
        absl::StrAppend(&usage, " [--", flag, "=", value, "]");
      }
      std::fprintf(stderr, "%s\n", usage.c_str());
      std::exit(2);
    }
    values_[name] = arg.substr(eq + 1);
  }
}

int Flags::Int(const std::string& name) const {
  return std::atoi(values_.at(name).c_str());
}
double Flags::Double(const std::string& name) const {
  return std::atof(values_.at(name).c_str());
}
std::string Flags::String(const std::string& name) const {
  return values_.at(name);
}

void Emit(const std::string& path, const std::string& text) {
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  if (!path.empty()) {
    std::ofstream out(path);
    out << text;
    Check(static_cast<bool>(out), absl::StrCat("write ", path));
  }
}

std::string MachineLine() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  std::string model = "unknown CPU";
  while (std::getline(cpuinfo, line)) {
    if (absl::StartsWith(line, "model name")) {
      model = std::string(
          absl::StripAsciiWhitespace(line.substr(line.find(':') + 1)));
      break;
    }
  }
  return absl::StrCat(std::thread::hardware_concurrency(), " cores, ", model);
}

const ServiceBinary& Binary(const std::string& name) {
  static const auto* const kBinaries = new std::map<std::string, ServiceBinary>{
      {"screening",
       {"screening", "kosapo.screening.v1.ScreeningService",
        KOSAPO_SCREENING_BIN}},
      {"case", {"case", "kosapo.cases.v1.CaseService", KOSAPO_CASE_BIN}},
      {"referral",
       {"referral", "kosapo.referral.v1.ReferralService", KOSAPO_REFERRAL_BIN}},
      {"reporting",
       {"reporting", "kosapo.reporting.v1.ReportingService",
        KOSAPO_REPORTING_BIN}},
  };
  return kBinaries->at(name);
}

absl::StatusOr<std::unique_ptr<Suite>> Suite::Create(
    const std::vector<std::string>& services) {
  std::unique_ptr<Suite> suite(new Suite());
  auto cluster = testing::PgCluster::Start("kosapo", services);
  if (!cluster.ok()) {
    return cluster.status();
  }
  suite->cluster_ = *std::move(cluster);
  suite->work_dir_ = suite->cluster_->data_dir() + "-bench";
  if (std::system(absl::StrCat("mkdir -p '", suite->work_dir_, "'").c_str()) !=
      0) {
    return absl::InternalError("cannot create the work directory");
  }
  auto tokens = testing::TestTokens::Create();
  if (!tokens.ok()) {
    return tokens.status();
  }
  suite->tokens_ = *std::move(tokens);
  if (absl::Status written =
          suite->tokens_->WritePublicKey(suite->work_dir_ + "/jwt.pub");
      !written.ok()) {
    return written;
  }
  auto pki = testing::TestPki::InDir(suite->work_dir_ + "/pki");
  if (!pki.ok()) {
    return pki.status();
  }
  suite->pki_ = std::make_unique<testing::TestPki>(*std::move(pki));
  for (absl::Status issued : {suite->pki_->IssueService(kIdentity),
                              suite->pki_->IssueClient(kIdentity)}) {
    if (!issued.ok()) {
      return issued;
    }
  }
  auto field_key_id = testing::DevFieldKeys(suite->work_dir_ + "/field-keys");
  if (!field_key_id.ok()) {
    return field_key_id.status();
  }
  suite->field_key_id_ = *std::move(field_key_id);
  return suite;
}

Suite::~Suite() {
  processes_.clear();  // kills them
  if (!work_dir_.empty()) {
    std::system(absl::StrCat("rm -rf '", work_dir_, "'").c_str());
  }
}

absl::StatusOr<int> Suite::Start(const std::string& name,
                                 std::map<std::string, std::string> env) {
  testing::ProcessOptions options;
  options.binary = Binary(name).path;
  options.env = {
      {"PORT", "0"},
      {"KOSAPO_LISTEN_HOST", "127.0.0.1"},
      {"KOSAPO_METRICS_PORT", "0"},
      {"KOSAPO_DB_URL", cluster_->ServiceUrl(name)},
      {"KOSAPO_DB_MIGRATION_URL", cluster_->OwnerUrl(name)},
      {"KOSAPO_JWT_PUBLIC_KEY_FILE", work_dir_ + "/jwt.pub"},
      {"KOSAPO_TLS_CERT_FILE", pki_->Service(name).cert_file},
      {"KOSAPO_TLS_KEY_FILE", pki_->Service(name).key_file},
      {"KOSAPO_TLS_CA_FILE", pki_->ca_file()},
      {"KOSAPO_FIELD_KEYS_DIR", work_dir_ + "/field-keys"},
      {"KOSAPO_FIELD_KEY_ID", field_key_id_},
      {"KOSAPO_HEALTH_PORT", "0"},
      {"KOSAPO_DRAIN_DELAY", "0s"},
      {"KOSAPO_SCREENING_ADDRESS", "127.0.0.1:1"},
      {"KOSAPO_CASE_ADDRESS", "127.0.0.1:1"},
      {"KOSAPO_REFERRAL_ADDRESS", "127.0.0.1:1"},
  };
  for (const auto& [peer, port] : ports_) {
    options
        .env[absl::StrCat("KOSAPO_", absl::AsciiStrToUpper(peer), "_ADDRESS")] =
        absl::StrCat("127.0.0.1:", port);
  }
  for (auto& [key, value] : env) {
    options.env[key] = value;
  }
  options.log_path = absl::StrCat(work_dir_, "/", name, ".log");
  auto process = testing::ServiceProcess::Start(std::move(options));
  if (!process.ok()) {
    return process.status();
  }
  auto serving = (*process)->WaitForLog("serving", absl::Seconds(120));
  if (!serving.ok()) {
    return absl::Status(serving.status().code(),
                        absl::StrCat(name, ": ", serving.status().message(),
                                     " ", (*process)->Stderr()));
  }
  const int port = (*serving)["port"].get<int>();
  ports_[name] = port;
  processes_[name] = *std::move(process);
  return port;
}

pid_t Suite::pid(const std::string& name) const {
  return processes_.at(name)->pid();
}

std::string Suite::Postmortem() const {
  std::string out;
  for (const auto& [name, process] : processes_) {
    if (process->running()) {
      continue;
    }
    absl::StrAppend(&out, name, " exited with ",
                    process->Wait(absl::ZeroDuration()).value_or(-1), "\n");
    const std::vector<nlohmann::json> logs = process->Logs();
    const size_t from = logs.size() > 20 ? logs.size() - 20 : 0;
    for (size_t i = from; i < logs.size(); ++i) {
      absl::StrAppend(&out, "  ", logs[i].dump(), "\n");
    }
    std::string err = process->Stderr();
    if (err.size() > 4000) {
      err = err.substr(err.size() - 4000);
    }
    absl::StrAppend(&out, "  stderr: ", err, "\n");
  }
  return out;
}

std::string Suite::address(const std::string& name) const {
  return absl::StrCat("127.0.0.1:", ports_.at(name));
}

std::shared_ptr<grpc::Channel> Suite::OwnChannel(const std::string& address,
                                                 bool as_service) const {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(
      address,
      tls::ChannelCredentials(as_service ? pki_->Service(kIdentity)
                                         : pki_->Client(kIdentity)),
      args);
}

std::shared_ptr<grpc::ServerCredentials> Suite::BaselineServerCredentials()
    const {
  return tls::ServerCredentials(pki_->Service(kIdentity));
}

}  // namespace kosapo::bench
