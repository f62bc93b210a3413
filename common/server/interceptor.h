// The server interceptor every kosapo service installs. For each call it:
// takes or makes the request id (x-request-id, echoed back) and continues the
// W3C trace (traceparent); reads the caller's stated purpose
// (x-kosapo-purpose-bin or x-kosapo-purpose; see PurposeOf); authenticates
// the bearer token into a principal; records the call in the CallRegistry
// for the handler (see Serve()); counts and times it in Prometheus; and
// writes one access-log line when it ends (never with the purpose, which
// may name people).
#ifndef KOSAPO_COMMON_SERVER_INTERCEPTOR_H_
#define KOSAPO_COMMON_SERVER_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>

#include "common/auth/jwt.h"
#include "common/server/call_context.h"
#include "common/server/metrics.h"

namespace kosapo::server {

class CallInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // All three must outlive the server.
  CallInterceptorFactory(CallRegistry* calls, Metrics* metrics,
                         const auth::TokenVerifier* verifier)
      : calls_(calls), metrics_(metrics), verifier_(verifier) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  CallRegistry* calls_;
  Metrics* metrics_;
  const auth::TokenVerifier* verifier_;
};

}  // namespace kosapo::server

#endif  // KOSAPO_COMMON_SERVER_INTERCEPTOR_H_
