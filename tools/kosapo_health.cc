// kosapo-health: checks a gRPC server's health endpoint (grpc.health.v1), the
// way Kubernetes' native gRPC probes do, for scripts and operators.
//
//   kosapo-health --address=127.0.0.1:50051
//       [--service=kosapo.cases.v1.CaseService] [--timeout_ms=3000]
//       [--wait_ms=0]
//
// Prints the status and exits 0 when SERVING, 1 when not serving or
// unreachable, 2 on bad usage. With --wait_ms it polls until SERVING or the
// wait is over.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"

namespace {

bool ParseFlag(const char* arg, const char* name, std::string* value) {
  const size_t length = std::strlen(name);
  if (std::strncmp(arg, name, length) == 0 && arg[length] == '=') {
    *value = arg + length + 1;
    return true;
  }
  return false;
}

bool ParseMillis(const std::string& text, long* out) {
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value < 0) {
    return false;
  }
  *out = value;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string address;
  std::string service;
  std::string timeout_text = "3000";
  std::string wait_text = "0";
  for (int i = 1; i < argc; ++i) {
    if (!ParseFlag(argv[i], "--address", &address) &&
        !ParseFlag(argv[i], "--service", &service) &&
        !ParseFlag(argv[i], "--timeout_ms", &timeout_text) &&
        !ParseFlag(argv[i], "--wait_ms", &wait_text)) {
      std::fprintf(stderr, "kosapo-health: unknown argument '%s'\n", argv[i]);
      return 2;
    }
  }
  long timeout_ms = 0;
  long wait_ms = 0;
  if (address.empty()) {
    std::fprintf(stderr, "kosapo-health: --address=host:port is required\n");
    return 2;
  }
  if (!ParseMillis(timeout_text, &timeout_ms) || timeout_ms == 0) {
    std::fprintf(stderr,
                 "kosapo-health: --timeout_ms must be a positive integer\n");
    return 2;
  }
  if (!ParseMillis(wait_text, &wait_ms)) {
    std::fprintf(stderr,
                 "kosapo-health: --wait_ms must be a non-negative integer\n");
    return 2;
  }
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  const auto give_up =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (true) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(timeout_ms));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status = stub->Check(&context, request, &response);
    const bool serving =
        status.ok() &&
        response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
    if (serving || std::chrono::steady_clock::now() >= give_up) {
      if (status.ok()) {
        std::printf("%s %s: %s\n", address.c_str(),
                    service.empty() ? "(server)" : service.c_str(),
                    grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                        response.status())
                        .c_str());
      } else {
        std::printf("%s: unreachable (%s)\n", address.c_str(),
                    status.error_message().c_str());
      }
      return serving ? 0 : 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}
