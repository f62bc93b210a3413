#include "common/server/call_context.h"

#include <random>
#include <typeinfo>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/log.h"
#include "common/server/grpc_status.h"
#include "common/types/text.h"

namespace kosapo::server {
namespace {

std::string RandomHex(size_t digits) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(digits);
  while (out.size() < digits) {
    uint64_t bits = rng();
    for (int i = 0; i < 16 && out.size() < digits; ++i) {
      out.push_back(kHex[bits & 0xf]);
      bits >>= 4;
    }
  }
  return out;
}

bool IsLowerHex(absl::string_view text, size_t length) {
  if (text.size() != length) {
    return false;
  }
  bool all_zero = true;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
    all_zero = all_zero && c == '0';
  }
  return !all_zero;  // all-zero ids are invalid per the spec
}

}  // namespace

TraceContext TraceContext::FromTraceparent(absl::string_view header) {
  TraceContext context;
  context.span_id = RandomHex(16);
  // version "00": 00-<trace-id:32>-<parent-id:16>-<flags:2>
  if (header.size() >= 55 && header.substr(0, 3) == "00-" &&
      header[35] == '-' && header[52] == '-' &&
      IsLowerHex(header.substr(3, 32), 32) &&
      IsLowerHex(header.substr(36, 16), 16)) {
    context.trace_id = std::string(header.substr(3, 32));
    const absl::string_view flags = header.substr(53, 2);
    context.sampled = flags.size() == 2 &&
                      (flags[1] == '1' || flags[1] == '3' || flags[1] == '5' ||
                       flags[1] == '7' || flags[1] == '9' || flags[1] == 'b' ||
                       flags[1] == 'd' || flags[1] == 'f');
    return context;
  }
  context.trace_id = RandomHex(32);
  return context;
}

std::string TraceContext::ToTraceparent() const {
  return absl::StrCat("00-", trace_id, "-", span_id, sampled ? "-01" : "-00");
}

void CallRegistry::Put(const grpc::ServerContextBase* call,
                       std::shared_ptr<const CallContext> context) {
  std::lock_guard<std::mutex> lock(mutex_);
  calls_[call] = std::move(context);
}

void CallRegistry::Remove(const grpc::ServerContextBase* call) {
  std::lock_guard<std::mutex> lock(mutex_);
  calls_.erase(call);
}

std::shared_ptr<const CallContext> CallRegistry::Find(
    const grpc::ServerContextBase* call) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = calls_.find(call);
  return it == calls_.end() ? nullptr : it->second;
}

std::string NewRequestId() { return RandomHex(32); }

std::string SanitizeRequestId(absl::string_view supplied) {
  if (supplied.empty() || supplied.size() > 128) {
    return NewRequestId();
  }
  for (char c : supplied) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
          c == '_' || c == '.' || c == ':')) {
      return NewRequestId();
    }
  }
  return std::string(supplied);
}

absl::StatusOr<std::string> PurposeOf(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
  for (const char* key : {kPurposeBinKey, kPurposeKey}) {
    const auto it = metadata.find(key);
    if (it == metadata.end()) {
      continue;
    }
    std::string purpose(it->second.data(), it->second.size());
    const absl::Status valid = ValidateText(purpose, kMaxPurposeChars, false,
                                            absl::StrCat("metadata ", key));
    if (!valid.ok()) {
      return valid;
    }
    return purpose;
  }
  return std::string();
}

grpc::Status Serve(
    const CallRegistry& calls, const grpc::ServerContextBase* server_context,
    const std::function<absl::Status(const CallContext&)>& handler) {
  std::shared_ptr<const CallContext> call = calls.Find(server_context);
  if (call == nullptr) {
    // Only possible if the interceptor is not installed: a wiring bug.
    log::Error("call context missing; is the server interceptor installed?");
    return grpc::Status(grpc::StatusCode::INTERNAL, "internal error");
  }
  log::ScopedLogContext log_context(
      {call->method, call->request_id, call->trace.trace_id});
  if (!call->principal.ok()) {
    return ToGrpcStatus(call->principal.status());
  }
  if (!call->scope.has_value()) {
    const auth::PermissionMatrix& matrix = auth::PermissionMatrix::Embedded();
    if (!matrix.Contains(call->method)) {
      // Start() refuses services with such methods; fail closed anyway.
      log::Error("method missing from the permission matrix");
    }
    return grpc::Status(
        grpc::StatusCode::PERMISSION_DENIED,
        absl::StrCat("role ",
                     std::string(auth::RoleName(call->principal->role)),
                     " may not call ", call->method));
  }
  if (!call->purpose.ok()) {
    return ToGrpcStatus(call->purpose.status());
  }
  if (!call->input.ok()) {
    return ToGrpcStatus(call->input);
  }
  absl::Status status;
  try {
    status = handler(*call);
  } catch (const std::exception& error) {
    // what() may quote data; the type is enough to find the throw site.
    log::Error("handler threw", {{"exception", typeid(error).name()}});
    status = absl::InternalError("unexpected exception");
  }
  if (status.code() == absl::StatusCode::kInternal ||
      status.code() == absl::StatusCode::kUnknown ||
      status.code() == absl::StatusCode::kDataLoss) {
    log::Error("internal error", {{"detail", std::string(status.message())}});
    return grpc::Status(
        static_cast<grpc::StatusCode>(status.code()),
        absl::StrCat("internal error; quote request id ", call->request_id));
  }
  return ToGrpcStatus(status);
}

void PrepareOutgoingCall(grpc::ClientContext& client,
                         const CallContext* current, absl::Duration timeout) {
  if (timeout != absl::InfiniteDuration()) {  // streams may have none
    client.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  }
  if (current != nullptr) {
    client.AddMetadata("x-request-id", current->request_id);
    client.AddMetadata("traceparent", current->trace.ToTraceparent());
    if (current->purpose.ok() && !current->purpose->empty()) {
      client.AddMetadata(kPurposeBinKey, *current->purpose);
    }
  } else {
    client.AddMetadata("x-request-id", NewRequestId());
    client.AddMetadata("traceparent",
                       TraceContext::FromTraceparent("").ToTraceparent());
  }
}

}  // namespace kosapo::server
