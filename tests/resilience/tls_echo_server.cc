// A minimal mutual-TLS gRPC server for tls_channel_test: the repo's server
// credentials (common/tls), a health service that answers SERVING, and
// every other method held open until the client cancels (calls in flight).
// Usage: tls_echo_server <port> <cert> <key> <ca>. Logs one JSON line,
// {"message":"serving","port":N}, once it listens, then serves until killed.
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/tls/tls.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace {

class Health final : public grpc::health::v1::Health::Service {
  grpc::Status Check(grpc::ServerContext*,
                     const grpc::health::v1::HealthCheckRequest*,
                     grpc::health::v1::HealthCheckResponse* response) override {
    response->set_status(grpc::health::v1::HealthCheckResponse::SERVING);
    return grpc::Status::OK;
  }
};

// Every other method is held open until the client cancels it (or the
// process dies): calls in flight.
class Hold final : public grpc::CallbackGenericService {
  class Reactor final : public grpc::ServerGenericBidiReactor {
    void OnCancel() override { Finish(grpc::Status::CANCELLED); }
    void OnDone() override { delete this; }
  };
  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext*) override {
    return new Reactor;
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s <port> <cert> <key> <ca>\n", argv[0]);
    return 2;
  }
  // Dies with the test that started it, also when the test crashes.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) {
    return 1;
  }
  kosapo::tls::TlsFiles files;
  files.cert_file = argv[2];
  files.key_file = argv[3];
  files.ca_file = argv[4];
  Health health;
  Hold hold;
  grpc::ServerBuilder builder;
  builder.RegisterService(&health);
  builder.RegisterCallbackGenericService(&hold);
  int port = 0;
  builder.AddListeningPort(std::string("127.0.0.1:") + argv[1],
                           kosapo::tls::ServerCredentials(files), &port);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "cannot listen on port %s\n", argv[1]);
    return 1;
  }
  std::printf("{\"message\":\"serving\",\"port\":%d}\n", port);
  std::fflush(stdout);
  server->Wait();
  return 0;
}
