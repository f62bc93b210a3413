#include "common/server/health_port.h"

namespace kosapo::server {

using grpc::health::v1::HealthCheckResponse;

void HealthPortService::Set(const std::string& name, bool serving) {
  std::lock_guard<std::mutex> lock(mutex_);
  serving_[name] = serving;
}

HealthCheckResponse::ServingStatus HealthPortService::StatusOf(
    const std::string& name) const {
  auto it = serving_.find(name);
  if (it == serving_.end()) {
    return HealthCheckResponse::SERVICE_UNKNOWN;
  }
  return it->second ? HealthCheckResponse::SERVING
                    : HealthCheckResponse::NOT_SERVING;
}

grpc::Status HealthPortService::Check(
    grpc::ServerContext*, const grpc::health::v1::HealthCheckRequest* request,
    HealthCheckResponse* response) {
  std::lock_guard<std::mutex> lock(mutex_);
  const HealthCheckResponse::ServingStatus status =
      StatusOf(request->service());
  if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service");
  }
  response->set_status(status);
  return grpc::Status::OK;
}

}  // namespace kosapo::server
