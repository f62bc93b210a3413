// What the server knows about the call a handler is serving: its method,
// request id, trace, authenticated principal and stated purpose. The
// interceptor builds it from the call's metadata before the handler runs;
// handlers reach it through Serve(), which refuses unauthenticated callers.
#ifndef KOSAPO_COMMON_SERVER_CALL_CONTEXT_H_
#define KOSAPO_COMMON_SERVER_CALL_CONTEXT_H_

#include <grpcpp/client_context.h>
#include <grpcpp/server_context.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/permissions.h"
#include "common/auth/principal.h"
#include "common/tls/identity.h"

namespace kosapo::server {

// W3C trace context (https://www.w3.org/TR/trace-context/).
struct TraceContext {
  std::string trace_id;  // 32 lowercase hex
  std::string span_id;   // 16 lowercase hex: this server's span
  bool sampled = false;

  // Continues the caller's trace from a `traceparent` header, or starts a new
  // one when it is absent or malformed.
  static TraceContext FromTraceparent(absl::string_view header);
  // The header to send on an outgoing call made within this span.
  std::string ToTraceparent() const;
};

struct CallContext {
  std::string method;  // "/kosapo.cases.v1.CaseService/GetCase"
  std::string request_id;
  TraceContext trace;
  // Who holds the connection, from its verified client certificate (none
  // over plaintext). A service forwarding a user's token is the peer while
  // the user is the principal (common/server/authenticate.h).
  tls::Identity peer;
  absl::StatusOr<auth::Principal> principal =
      absl::UnauthenticatedError("missing bearer token");
  // What the permission matrix grants the principal's role on `method`
  // (common/auth/permissions.h); nullopt: refused, or no valid principal.
  std::optional<auth::Scopes> scope;
  // The input wall's verdict on the request (common/server/input_wall.h),
  // for calls whose one request arrives before the handler runs (unary and
  // server-streaming); client streams check each message as they read it.
  absl::Status input;
  // Why the caller reads or writes personal data, as the call's metadata
  // says (PurposeOf; "" when not given), for every service's audit rows.
  // Not OK when the metadata is malformed: Serve() refuses the call.
  absl::StatusOr<std::string> purpose = std::string();
};

// The metadata keys a caller states its purpose in. gRPC carries only
// ASCII in text metadata, so a purpose in Japanese comes in the binary key
// (base64 on the wire, handed to the server decoded); it wins when both
// are sent.
inline constexpr char kPurposeBinKey[] = "x-kosapo-purpose-bin";
inline constexpr char kPurposeKey[] = "x-kosapo-purpose";
inline constexpr size_t kMaxPurposeChars = 200;

// The purpose stated in a call's `metadata`, "" when none: UTF-8 text of
// at most kMaxPurposeChars characters, else INVALID_ARGUMENT naming the
// metadata key.
absl::StatusOr<std::string> PurposeOf(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata);

// Call contexts of the calls in flight, keyed by their ServerContext.
class CallRegistry {
 public:
  void Put(const grpc::ServerContextBase* call,
           std::shared_ptr<const CallContext> context);
  void Remove(const grpc::ServerContextBase* call);
  std::shared_ptr<const CallContext> Find(
      const grpc::ServerContextBase* call) const;

 private:
  mutable std::mutex mutex_;
  std::map<const grpc::ServerContextBase*, std::shared_ptr<const CallContext>>
      calls_;  // guarded by mutex_
};

// Runs a handler body: looks up the call's context, answers UNAUTHENTICATED
// when the caller presented no valid token and PERMISSION_DENIED when the
// permission matrix refuses the caller's role the method, INVALID_ARGUMENT
// when the stated purpose is malformed or the input wall refused the
// request, stamps the thread's log lines with the call, turns a stray
// exception into INTERNAL and maps the result. INTERNAL details are logged, and
// the caller gets the request id instead.
grpc::Status Serve(
    const CallRegistry& calls, const grpc::ServerContextBase* server_context,
    const std::function<absl::Status(const CallContext&)>& handler);

// A request id: caller-supplied when it is a short token of safe characters,
// else freshly generated.
std::string SanitizeRequestId(absl::string_view supplied);
std::string NewRequestId();

// Prepares an outgoing call made while serving `current` (may be null):
// propagates the request id, trace and stated purpose (a service acting
// with the user's token acts for the user's purpose), sets the deadline.
void PrepareOutgoingCall(grpc::ClientContext& client,
                         const CallContext* current, absl::Duration timeout);

}  // namespace kosapo::server

#endif  // KOSAPO_COMMON_SERVER_CALL_CONTEXT_H_
