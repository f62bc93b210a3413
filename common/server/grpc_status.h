// The one place where absl::Status becomes grpc::Status and back: both use
// the same canonical codes, so only the representation changes.
#ifndef KOSAPO_COMMON_SERVER_GRPC_STATUS_H_
#define KOSAPO_COMMON_SERVER_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace kosapo::server {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// "OK", "INVALID_ARGUMENT", ...: the names Prometheus labels use.
absl::string_view GrpcCodeName(grpc::StatusCode code);

}  // namespace kosapo::server

#endif  // KOSAPO_COMMON_SERVER_GRPC_STATUS_H_
