#include "common/server/interceptor.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <chrono>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "common/base/log.h"
#include "common/server/authenticate.h"
#include "common/server/grpc_status.h"
#include "common/server/input_wall.h"

namespace kosapo::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

absl::string_view TypeName(grpc::experimental::ServerRpcInfo::Type type) {
  switch (type) {
    case grpc::experimental::ServerRpcInfo::Type::UNARY:
      return "unary";
    case grpc::experimental::ServerRpcInfo::Type::CLIENT_STREAMING:
      return "client_stream";
    case grpc::experimental::ServerRpcInfo::Type::SERVER_STREAMING:
      return "server_stream";
    case grpc::experimental::ServerRpcInfo::Type::BIDI_STREAMING:
      return "bidi_stream";
  }
  return "unary";
}

grpc::experimental::ServerRpcInfo::Type KindOf(
    const google::protobuf::MethodDescriptor& method) {
  using Type = grpc::experimental::ServerRpcInfo::Type;
  if (method.client_streaming()) {
    return method.server_streaming() ? Type::BIDI_STREAMING
                                     : Type::CLIENT_STREAMING;
  }
  return method.server_streaming() ? Type::SERVER_STREAMING : Type::UNARY;
}

absl::string_view Header(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
    absl::string_view key) {
  auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (it == metadata.end()) {
    return {};
  }
  return absl::string_view(it->second.data(), it->second.size());
}

// Infrastructure calls (health probes every few seconds, reflection) log at
// debug level so they do not drown the access log.
bool IsInfrastructure(absl::string_view service) {
  return absl::StartsWith(service, "grpc.");
}

class CallInterceptor : public grpc::experimental::Interceptor {
 public:
  CallInterceptor(grpc::experimental::ServerRpcInfo* info, CallRegistry* calls,
                  Metrics* metrics, const auth::TokenVerifier* verifier)
      : info_(info),
        calls_(calls),
        metrics_(metrics),
        verifier_(verifier),
        start_(std::chrono::steady_clock::now()) {
    const absl::string_view full = info->method();  // "/pkg.Service/Method"
    const size_t slash = full.rfind('/');
    if (slash != absl::string_view::npos && slash > 0) {
      service_ = std::string(full.substr(1, slash - 1));
      method_ = std::string(full.substr(slash + 1));
    } else {
      service_ = "unknown";
      method_ = std::string(full);
    }
    type_ = std::string(TypeName(info->type()));
    // kosapo's own APIs only: gRPC's health and reflection services check
    // their own input.
    if (absl::StartsWith(service_, "kosapo.")) {
      const google::protobuf::MethodDescriptor* descriptor =
          google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
              absl::StrCat(service_, ".", method_));
      if (descriptor != nullptr) {
        request_type_ = descriptor->input_type();
        // The kind the API declares: a service may register a method's
        // handler under another kind (a handler that reads raw bytes is
        // registered as bidirectional), which the labels do not follow.
        type_ = std::string(TypeName(KindOf(*descriptor)));
      }
    }
  }

  ~CallInterceptor() override {
    calls_->Remove(info_->server_context());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_)
            .count();
    const std::string code(GrpcCodeName(code_));
    metrics_->handled()
        .Add({{"grpc_type", type_},
              {"grpc_service", service_},
              {"grpc_method", method_},
              {"grpc_code", code}})
        .Increment();
    metrics_->handling_seconds()
        .Add({{"grpc_type", type_},
              {"grpc_service", service_},
              {"grpc_method", method_}},
             Metrics::LatencyBuckets())
        .Observe(seconds);
    if (context_ == nullptr) {
      return;
    }
    log::ScopedLogContext log_context(
        {context_->method, context_->request_id, context_->trace.trace_id});
    nlohmann::json fields = {{"grpc_code", code},
                             {"duration_ms", seconds * 1000.0}};
    if (context_->peer.kind != tls::Identity::Kind::kNone) {
      fields["peer"] = context_->peer.Describe();
    }
    if (context_->principal.ok()) {
      fields["subject"] = context_->principal->subject;
      fields["role"] = std::string(auth::RoleName(context_->principal->role));
    }
    log::Write(IsInfrastructure(service_) ? log::Severity::kDebug
                                          : log::Severity::kInfo,
               "rpc finished", fields);
  }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      OnStart(*methods->GetRecvInitialMetadata());
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_INITIAL_METADATA) &&
        context_ != nullptr) {
      methods->GetSendInitialMetadata()->emplace("x-request-id",
                                                 context_->request_id);
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE)) {
      OnRequest(methods->GetRecvMessage());
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      if (malformed_ && status.error_code() == grpc::StatusCode::INTERNAL) {
        // gRPC answers a request it cannot parse with INTERNAL; it is the
        // caller's mistake.
        status = grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            absl::StrCat("the request is not a valid ",
                         request_type_ == nullptr ? std::string("request")
                                                  : request_type_->full_name(),
                         " message"));
        methods->ModifySendStatus(status);
      }
      code_ = status.error_code();
    }
    methods->Proceed();
  }

 private:
  void OnStart(
      const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
    auto context = std::make_shared<CallContext>();
    context->method = std::string(info_->method());
    context->request_id = SanitizeRequestId(Header(metadata, "x-request-id"));
    context->trace =
        TraceContext::FromTraceparent(Header(metadata, "traceparent"));
    context->purpose = PurposeOf(metadata);
    const std::shared_ptr<const grpc::AuthContext> auth =
        info_->server_context()->auth_context();
    const Transport transport = auth != nullptr && tls::IsTls(*auth)
                                    ? Transport::kTls
                                    : Transport::kPlaintext;
    if (auth != nullptr) {
      context->peer = tls::IdentityFromAuthContext(*auth);
    }
    const absl::string_view authorization = Header(metadata, "authorization");
    constexpr absl::string_view kBearer = "Bearer ";
    std::optional<absl::StatusOr<auth::Principal>> token;
    if (authorization.empty()) {
      // No token: the connection's certificate may still name a service.
    } else if (authorization.substr(0, kBearer.size()) != kBearer) {
      token = absl::UnauthenticatedError(
          "authorization metadata must be 'Bearer <token>'");
    } else if (verifier_ == nullptr) {
      token =
          absl::UnauthenticatedError("token verification is not configured");
    } else {
      const absl::string_view bearer = authorization.substr(kBearer.size());
      token = verifier_->Verify(std::string_view(bearer.data(), bearer.size()),
                                absl::Now());
    }
    context->principal = Authenticate(transport, context->peer, token);
    if (context->principal.ok()) {
      context->scope = auth::PermissionMatrix::Embedded().Allowed(
          context->method, context->principal->role);
    }
    context_ = context;
    calls_->Put(info_->server_context(), std::move(context));
    metrics_->started()
        .Add({{"grpc_type", type_},
              {"grpc_service", service_},
              {"grpc_method", method_}})
        .Increment();
  }

  // Called as each request message arrives (null: it did not parse).
  void OnRequest(void* message) {
    if (request_type_ == nullptr) {
      return;
    }
    const auto type = info_->type();
    if (type == grpc::experimental::ServerRpcInfo::Type::CLIENT_STREAMING ||
        type == grpc::experimental::ServerRpcInfo::Type::BIDI_STREAMING) {
      // The handler checks each streamed message as it reads it; a null
      // message here is the end of the stream as often as a bad one.
      return;
    }
    if (message == nullptr) {
      malformed_ = true;  // the one request did not parse
      return;
    }
    if (context_ == nullptr) {
      return;
    }
    // The generated request classes derive from Message alone, so the
    // pointer gRPC passes as void* is also the Message's address; checked
    // against the method's declared input type before use.
    const auto* request = static_cast<const google::protobuf::Message*>(
        static_cast<const void*>(message));
    if (request->GetDescriptor() != request_type_) {
      return;
    }
    context_->input = CheckRequest(*request);
  }

  grpc::experimental::ServerRpcInfo* info_;
  CallRegistry* calls_;
  Metrics* metrics_;
  const auth::TokenVerifier* verifier_;
  const std::chrono::steady_clock::time_point start_;
  std::string service_;
  std::string method_;
  std::string type_;
  // Written by OnRequest before the handler runs, on the handler's thread.
  std::shared_ptr<CallContext> context_;
  const google::protobuf::Descriptor* request_type_ = nullptr;
  bool malformed_ = false;
  grpc::StatusCode code_ = grpc::StatusCode::UNKNOWN;
};

}  // namespace

grpc::experimental::Interceptor*
CallInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new CallInterceptor(info, calls_, metrics_, verifier_);
}

}  // namespace kosapo::server
