#include "common/server/call_context.h"

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/server/grpc_status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::server {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

TEST(TraceContext, ContinuesAValidTraceparent) {
  const auto trace = TraceContext::FromTraceparent(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  EXPECT_EQ(trace.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_TRUE(trace.sampled);
  EXPECT_NE(trace.span_id, "00f067aa0ba902b7");  // our own span
  EXPECT_THAT(
      trace.ToTraceparent(),
      MatchesRegex("00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01"));
}

TEST(TraceContext, StartsANewTraceForMissingOrMalformedHeaders) {
  for (const char* header :
       {"", "garbage",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"}) {
    const auto trace = TraceContext::FromTraceparent(header);
    EXPECT_THAT(trace.trace_id, MatchesRegex("[0-9a-f]{32}")) << header;
    EXPECT_NE(trace.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736") << header;
    EXPECT_FALSE(trace.sampled) << header;
  }
}

TEST(RequestId, KeepsSafeIdsAndReplacesOthers) {
  EXPECT_EQ(SanitizeRequestId("school-42:batch.7_a"), "school-42:batch.7_a");
  EXPECT_THAT(SanitizeRequestId(""), MatchesRegex("[0-9a-f]{32}"));
  EXPECT_THAT(SanitizeRequestId("bad id\n{json}"),
              MatchesRegex("[0-9a-f]{32}"));
  EXPECT_THAT(SanitizeRequestId(std::string(200, 'a')),
              MatchesRegex("[0-9a-f]{32}"));
  EXPECT_NE(NewRequestId(), NewRequestId());
}

// Serves one call with `context`; `ran` says whether the handler ran.
grpc::Status ServeWith(std::shared_ptr<CallContext> context, bool& ran) {
  CallRegistry calls;
  grpc::ServerContext server_context;
  calls.Put(&server_context, std::move(context));
  ran = false;
  return Serve(calls, &server_context, [&](const CallContext&) {
    ran = true;
    return absl::OkStatus();
  });
}

TEST(Serve, RejectsUnauthenticatedCallerWithoutRunningHandler) {
  auto context = std::make_shared<CallContext>();
  context->principal = absl::UnauthenticatedError("token expired");
  bool ran = false;
  const grpc::Status status = ServeWith(context, ran);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(status.error_message(), "token expired");
  EXPECT_FALSE(ran);
}

TEST(Serve, PassesPrincipalAndMapsStatus) {
  CallRegistry calls;
  grpc::ServerContext server_context;
  auto context = std::make_shared<CallContext>();
  auth::Principal principal;
  principal.subject = "user-1";
  principal.role = auth::Role::kWardOfficer;
  context->principal = principal;
  context->scope = auth::Scopes{auth::Scope::kArea};
  calls.Put(&server_context, context);
  const grpc::Status status =
      Serve(calls, &server_context, [&](const CallContext& call) {
        EXPECT_EQ(call.principal->subject, "user-1");
        return absl::NotFoundError("cases/9 not found");
      });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "cases/9 not found");
}

TEST(Serve, HidesInternalDetailsAndExceptionsBehindRequestId) {
  CallRegistry calls;
  grpc::ServerContext server_context;
  auto context = std::make_shared<CallContext>();
  context->request_id = "req-77";
  auth::Principal principal;
  principal.role = auth::Role::kAnalyst;
  context->principal = principal;
  context->scope = auth::Scopes{auth::Scope::kCounts};
  calls.Put(&server_context, context);
  grpc::Status status = Serve(calls, &server_context, [](const CallContext&) {
    return absl::InternalError("relation cases.secret does not exist");
  });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_THAT(status.error_message(), HasSubstr("req-77"));
  EXPECT_THAT(status.error_message(), ::testing::Not(HasSubstr("secret")));

  status =
      Serve(calls, &server_context, [](const CallContext&) -> absl::Status {
        throw std::runtime_error("Yamada Taro");
      });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_THAT(status.error_message(), ::testing::Not(HasSubstr("Yamada")));
}

TEST(Serve, RefusesWhatTheMatrixRefusesWithoutRunningHandler) {
  auto context = std::make_shared<CallContext>();
  context->method = "/kosapo.cases.v1.CaseService/GetCase";
  auth::Principal principal;
  principal.role = auth::Role::kAnalyst;
  context->principal = principal;  // no scope: the matrix said no
  bool ran = false;
  const grpc::Status status = ServeWith(context, ran);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(status.error_message(),
            "role analyst may not call /kosapo.cases.v1.CaseService/GetCase");
  EXPECT_FALSE(ran);
}

TEST(Serve, RefusesWhatTheInputWallRefusedWithoutRunningHandler) {
  auto context = std::make_shared<CallContext>();
  auth::Principal principal;
  principal.role = auth::Role::kWardOfficer;
  context->principal = principal;
  context->scope = auth::Scopes{auth::Scope::kArea};
  context->input = absl::InvalidArgumentError("note: contains U+0000");
  bool ran = false;
  const grpc::Status status = ServeWith(context, ran);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "note: contains U+0000");
  EXPECT_FALSE(ran);
}

TEST(Serve, RefusesAMalformedPurposeWithoutRunningHandler) {
  auto context = std::make_shared<CallContext>();
  auth::Principal principal;
  principal.role = auth::Role::kWardOfficer;
  context->principal = principal;
  context->scope = auth::Scopes{auth::Scope::kArea};
  context->purpose = absl::InvalidArgumentError(
      "metadata x-kosapo-purpose: at most 200 characters");
  bool ran = false;
  const grpc::Status status = ServeWith(context, ran);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "metadata x-kosapo-purpose: at most 200 characters");
  EXPECT_FALSE(ran);
}

// Metadata as gRPC hands it to the server; `storage` keeps the bytes.
std::multimap<grpc::string_ref, grpc::string_ref> Metadata(
    const std::vector<std::pair<std::string, std::string>>& storage) {
  std::multimap<grpc::string_ref, grpc::string_ref> metadata;
  for (const auto& [key, value] : storage) {
    metadata.emplace(grpc::string_ref(key), grpc::string_ref(value));
  }
  return metadata;
}

TEST(PurposeOf, IsEmptyWhenNotGiven) {
  const std::vector<std::pair<std::string, std::string>> none = {
      {"x-request-id", "r-1"}};
  EXPECT_EQ(PurposeOf(Metadata(none)).value_or("error"), "");
}

TEST(PurposeOf, TakesTheBinaryKeyOverTheTextKey) {
  const std::vector<std::pair<std::string, std::string>> both = {
      {"x-kosapo-purpose", "visit"},
      {"x-kosapo-purpose-bin", "家庭訪問の準備"}};
  EXPECT_EQ(PurposeOf(Metadata(both)).value_or("error"), "家庭訪問の準備");
  const std::vector<std::pair<std::string, std::string>> text = {
      {"x-kosapo-purpose", "visit"}};
  EXPECT_EQ(PurposeOf(Metadata(text)).value_or("error"), "visit");
}

TEST(PurposeOf, TakesTwoHundredCharactersAndRefusesMoreNamingTheKey) {
  std::string longest;
  for (int i = 0; i < 200; ++i) {
    longest += "あ";
  }
  const std::vector<std::pair<std::string, std::string>> at_limit = {
      {"x-kosapo-purpose-bin", longest}};
  EXPECT_EQ(PurposeOf(Metadata(at_limit)).value_or("error"), longest);
  const std::vector<std::pair<std::string, std::string>> too_long = {
      {"x-kosapo-purpose-bin", longest + "あ"}};
  const absl::StatusOr<std::string> refused = PurposeOf(Metadata(too_long));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(),
            "metadata x-kosapo-purpose-bin: at most 200 characters");
}

TEST(PurposeOf, RefusesInvalidUtf8NamingTheKey) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"x-kosapo-purpose-bin", std::string("\xc3\x28", 2)}};
  const absl::StatusOr<std::string> refused = PurposeOf(Metadata(bad));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("metadata x-kosapo-purpose-bin: not valid UTF-8"));
}

TEST(Serve, MissingCallContextIsInternal) {
  CallRegistry calls;
  grpc::ServerContext server_context;
  EXPECT_EQ(Serve(calls, &server_context,
                  [](const CallContext&) { return absl::OkStatus(); })
                .error_code(),
            grpc::StatusCode::INTERNAL);
}

TEST(GrpcStatus, RoundTripsCodesAndMessages) {
  const absl::Status original = absl::FailedPreconditionError("round closed");
  const grpc::Status wire = ToGrpcStatus(original);
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(FromGrpcStatus(wire), original);
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::UNAUTHENTICATED), "UNAUTHENTICATED");
}

}  // namespace
}  // namespace kosapo::server
