// The service of the plaintext health port: grpc.health.v1.Health.Check
// alone (what probes call; the repository's health.proto has no Watch), with
// the statuses the runtime sets on its gRPC port.
// Kubelet's native gRPC probes ask here, as they cannot present a client
// certificate to the mutual-TLS port.
#ifndef KOSAPO_COMMON_SERVER_HEALTH_PORT_H_
#define KOSAPO_COMMON_SERVER_HEALTH_PORT_H_

#include <map>
#include <mutex>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"

namespace kosapo::server {

class HealthPortService final : public grpc::health::v1::Health::Service {
 public:
  void Set(const std::string& name, bool serving);
  // NOT_FOUND for a name never set, as the protocol says.
  grpc::Status Check(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override;

 private:
  grpc::health::v1::HealthCheckResponse::ServingStatus StatusOf(
      const std::string& name) const;  // requires mutex_

  mutable std::mutex mutex_;
  std::map<std::string, bool> serving_;  // guarded by mutex_
};

}  // namespace kosapo::server

#endif  // KOSAPO_COMMON_SERVER_HEALTH_PORT_H_
