// kosapo health: every service's gRPC health (grpc.health.v1) in one line
// each, the way Kubernetes' native gRPC probes ask it; or one address and
// service name, as the kosapo-health probe it replaces did.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/status.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tools/cli/cli.h"
#include "tools/cli/client.h"
#include "tools/cli/exit_codes.h"

namespace kosapo::cli {
namespace {

using ::grpc::health::v1::HealthCheckResponse;

struct Probe {
  Probe(std::string label, std::string address, std::string grpc_service)
      : label(std::move(label)),
        address(std::move(address)),
        grpc_service(std::move(grpc_service)) {}
  std::string label;
  std::string address;
  std::string grpc_service;
  // Filled by Check.
  bool serving = false;
  bool reachable = false;
  std::string status;
  std::string detail;
};

void Check(Probe& probe, absl::Duration timeout,
           const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(probe.address, credentials));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(timeout));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(probe.grpc_service);
  HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, request, &response);
  probe.reachable =
      status.ok() || status.error_code() == grpc::StatusCode::NOT_FOUND;
  if (status.ok()) {
    probe.serving = response.status() == HealthCheckResponse::SERVING;
    probe.status = HealthCheckResponse::ServingStatus_Name(response.status());
    probe.detail.clear();
  } else if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    // The server runs, but does not know the name: the wrong service at
    // this address.
    probe.serving = false;
    probe.status = "UNKNOWN_SERVICE";
    probe.detail = absl::StrCat("no ", probe.grpc_service, " here");
  } else if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    probe.serving = false;
    probe.status = "UNREACHABLE";
    probe.detail =
        absl::StrCat("no answer within ", absl::FormatDuration(timeout));
  } else {
    probe.serving = false;
    probe.status = "UNREACHABLE";
    // "failed to connect to all addresses; last error: UNKNOWN: ipv4:...:
    // Failed to connect to remote host: Connection refused": the last part
    // says it.
    const std::string& message = status.error_message();
    const size_t last = message.rfind(": ");
    probe.detail =
        last == std::string::npos ? message : message.substr(last + 2);
  }
}

// Checks every probe at once (an unreachable one costs at most the timeout,
// not the sum), again every 200ms until all serve or `wait` is over.
void CheckAll(std::vector<Probe>& probes, absl::Duration timeout,
              absl::Duration wait,
              const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
  const absl::Time give_up = absl::Now() + wait;
  while (true) {
    std::vector<std::thread> threads;
    for (Probe& probe : probes) {
      if (!probe.serving) {
        threads.emplace_back([&probe, timeout, &credentials] {
          Check(probe, timeout, credentials);
        });
      }
    }
    for (std::thread& thread : threads) {
      thread.join();
    }
    bool all = true;
    for (const Probe& probe : probes) {
      all = all && probe.serving;
    }
    if (all || absl::Now() >= give_up) {
      return;
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
}

CommandResult RunHealth(const Args& args, Io& io) {
  KOSAPO_ASSIGN_OR_RETURN(absl::Duration timeout, GetDuration(args, "timeout"));
  absl::Duration wait = absl::ZeroDuration();
  if (args.Has("wait")) {
    KOSAPO_ASSIGN_OR_RETURN(absl::Duration parsed, GetDuration(args, "wait"));
    wait = parsed;
  }
  if (args.Has("service") && !args.Has("address")) {
    return absl::InvalidArgumentError("--service needs --address=HOST:PORT");
  }
  if (args.Has("address")) {
    // One probe, with kosapo-health's output: "ADDRESS SERVICE: STATUS".
    KOSAPO_ASSIGN_OR_RETURN(auto credentials, TransportCredentials(args));
    std::vector<Probe> probes = {
        {"", args.Get("address"), args.Get("service")}};
    CheckAll(probes, timeout, wait, credentials);
    const Probe& probe = probes[0];
    if (probe.reachable) {
      io.out << probe.address << " "
             << (probe.grpc_service.empty() ? "(server)" : probe.grpc_service)
             << ": " << probe.status << "\n";
    } else {
      io.out << probe.address << ": unreachable (" << probe.detail << ")\n";
    }
    return probe.serving ? kExitOk : kExitUnavailable;
  }
  KOSAPO_ASSIGN_OR_RETURN(Session session, Session::Open(args, io.env, false));
  std::vector<Probe> probes;
  for (const ServiceInfo& info : AllServices()) {
    probes.push_back(
        {info.name, session.Address(info.service), info.grpc_name});
  }
  CheckAll(probes, timeout, wait, session.credentials());
  size_t address_width = 0;
  for (const Probe& probe : probes) {
    address_width = std::max(address_width, probe.address.size());
  }
  int failing = 0;
  for (const Probe& probe : probes) {
    failing += probe.serving ? 0 : 1;
    io.out << probe.label << std::string(10 - probe.label.size(), ' ')
           << probe.address
           << std::string(address_width + 2 - probe.address.size(), ' ')
           << probe.status;
    if (!probe.detail.empty()) {
      io.out << "  (" << probe.detail << ")";
    }
    io.out << "\n";
  }
  if (failing > 0) {
    io.err << "kosapo health: " << failing << " of " << probes.size()
           << " services not serving. Is the suite running? Start it with "
              "scripts/run.sh --keep-running, or point --<service>-address "
              "/ KOSAPO_<SERVICE>_ADDRESS at it.\n";
    return kExitUnavailable;
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> HealthCommands() {
  Command health;
  health.name = "health";
  health.synopsis = "[--address=HOST:PORT [--service=NAME]] [--wait=DURATION]";
  health.summary =
      "every service's gRPC health, one line each; exit 3 unless all serve";
  health.details =
      "Asks each service's grpc.health.v1 endpoint for its own name (SERVING\n"
      "only while its database answers), all at once. No token is needed.\n"
      "With --address it asks one server (the empty name, or --service) and\n"
      "prints \"ADDRESS SERVICE: STATUS\", for probes and scripts; a\n"
      "service's plaintext --health_port answers with --plaintext.\n";
  health.flags = AddressFlags({Service::kScreening, Service::kCase,
                               Service::kReferral, Service::kReporting});
  health.flags.push_back(
      {"address", "HOST:PORT", "ask only this server", "", ""});
  health.flags.push_back({"service", "NAME",
                          "with --address: the gRPC service name to ask "
                          "about, e.g. kosapo.cases.v1.CaseService",
                          "", ""});
  health.flags.push_back({"wait", "DURATION",
                          "keep asking until every one is SERVING or this "
                          "long has passed, e.g. 60s",
                          "", ""});
  health.flags.push_back(TimeoutFlag("3s"));
  health.run = RunHealth;
  return {health};
}

}  // namespace kosapo::cli
