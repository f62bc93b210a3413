// The permission matrix's first wall, walked against the four running
// services: every RPC of every service with every role, over real gRPC.
// The request is empty on purpose: a refused role must get
// PERMISSION_DENIED from the wall before any handler looks at the request,
// and an allowed role must get past it (to whatever the handler says about
// an empty request). So every RPC must go through server::Serve, and a
// handler that forgot to would show here.
#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/auth/permissions.h"
#include "common/service/in_process.h"
#include "common/testing/pg_cluster.h"
#include "common/testing/stdout_capture.h"
#include "gtest/gtest.h"
#include "services/case/case_server.h"
#include "services/referral/referral_server.h"
#include "services/reporting/reporting_server.h"
#include "services/screening/screening_server.h"

namespace kosapo {
namespace {

using ::kosapo::testing::InProcessService;
using ::kosapo::testing::SharedPgCluster;

constexpr char kCity[] = "27800";

// The service serving `method` ("kosapo.cases.v1.CaseService/GetCase");
// empty for the event feed, which every service serves.
std::string ServiceOf(const std::string& method) {
  for (const auto& [package, service] :
       std::vector<std::pair<std::string, std::string>>{
           {"kosapo.screening.", "screening"},
           {"kosapo.cases.", "case"},
           {"kosapo.referral.", "referral"},
           {"kosapo.reporting.", "reporting"}}) {
    if (absl::StartsWith(method, package)) {
      return service;
    }
  }
  return "";
}

// One call of `method` with a single empty message, whatever its kind
// (unary or streaming: an empty message is a valid encoding of any
// request), through the generic stub; the call's final status. No token:
// the channel's certificate alone says who calls.
grpc::Status CallWithEmptyRequest(const std::shared_ptr<grpc::Channel>& channel,
                                  const std::string& method,
                                  const std::string& token) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  if (!token.empty()) {
    context.AddMetadata("authorization", "Bearer " + token);
  }
  // Watch-style streams answer nothing until events come: a deadline ends
  // them, and an allowed caller then sees DEADLINE_EXCEEDED.
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(3));
  grpc::CompletionQueue queue;
  auto call = stub.PrepareCall(&context, "/" + method, &queue);
  void* tag = nullptr;
  bool ok = false;
  auto step = [&](int expected) {
    EXPECT_TRUE(queue.Next(&tag, &ok));
    EXPECT_EQ(tag, reinterpret_cast<void*>(expected));
    return ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  if (step(1)) {
    grpc::ByteBuffer empty;
    grpc::Slice nothing("");
    empty = grpc::ByteBuffer(&nothing, 1);
    call->Write(empty, reinterpret_cast<void*>(2));
    if (step(2)) {
      call->WritesDone(reinterpret_cast<void*>(3));
      step(3);
    }
    grpc::ByteBuffer response;
    for (;;) {
      call->Read(&response, reinterpret_cast<void*>(4));
      if (!step(4)) {
        break;
      }
    }
  }
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  step(5);
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  return status;
}

class PermissionWallTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tokens = testing::TestTokens::Create();
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    tokens_ = tokens->release();
    const std::string work_dir = SharedPgCluster().data_dir();
    const std::string peer_token = work_dir + "/peer.token";
    std::ofstream(peer_token)
        << tokens_->Sign(auth::Role::kService, "service:wall-test");
    services_ = new std::map<std::string, std::unique_ptr<InProcessService>>();
    testing::StdoutCapture logs(work_dir + "/start.log");
    for (auto& [name, definition] :
         std::vector<std::pair<std::string, server::ServiceDefinition>>{
             {"screening", screening::Definition()},
             {"case", cases::Definition()},
             {"referral", referral::Definition()},
             {"reporting", reporting::Definition()}}) {
      std::map<std::string, std::string> env = {
          {"KOSAPO_PEER_TOKEN_FILE", peer_token}, {"KOSAPO_DB_POOL_SIZE", "4"}};
      for (const auto& [peer, started] : *services_) {
        env[absl::StrCat("KOSAPO_",
                         peer == "screening" ? "SCREENING"
                         : peer == "case"    ? "CASE"
                                             : "REFERRAL",
                         "_ADDRESS")] =
            absl::StrCat("127.0.0.1:", started->runtime().port());
      }
      auto service = InProcessService::Start(
          std::move(definition), SharedPgCluster(), *tokens_, work_dir, env);
      ASSERT_TRUE(service.ok()) << name << ": " << service.status();
      (*services_)[name] = *std::move(service);
    }
    logs.Finish();
  }

  static void TearDownTestSuite() {
    delete services_;
    services_ = nullptr;
    delete tokens_;
    tokens_ = nullptr;
  }

  static testing::TestTokens* tokens_;
  static std::map<std::string, std::unique_ptr<InProcessService>>* services_;
};

testing::TestTokens* PermissionWallTest::tokens_ = nullptr;
std::map<std::string, std::unique_ptr<InProcessService>>*
    PermissionWallTest::services_ = nullptr;

TEST_F(PermissionWallTest, EveryRpcRefusesExactlyTheRolesTheMatrixRefuses) {
  const auth::PermissionMatrix& matrix = auth::PermissionMatrix::Embedded();
  int refused = 0;
  int allowed = 0;
  // Services call over a connection holding their own certificate (a
  // service token is refused from anywhere else); users over a client's.
  std::map<std::string, std::shared_ptr<grpc::Channel>> as_service;
  for (const auto& [name, service] : *services_) {
    as_service[name] = service->service_channel("wall-service");
  }
  for (const std::string& method : matrix.methods()) {
    const std::string owner = ServiceOf(method);
    // The feed is the same code in every service: walk it on each.
    std::vector<std::string> targets;
    if (owner.empty()) {
      targets = {"screening", "case", "referral", "reporting"};
    } else {
      targets = {owner};
    }
    for (const std::string& target : targets) {
      for (auth::Role role : auth::kAllRoles) {
        auth::Principal principal;
        principal.subject = absl::StrCat(
            role == auth::Role::kService ? "service:" : "user:", "wall-",
            std::string(auth::RoleName(role)));
        principal.role = role;
        principal.municipality = kCity;
        principal.areas = {"A1"};
        principal.schools = {"E1"};
        principal.hubs = {"H1"};
        const bool service = role == auth::Role::kService;
        const auto& channel =
            service ? as_service.at(target) : services_->at(target)->channel();
        // A service is walled alike with its token and with its
        // certificate alone.
        std::vector<std::string> credentials = {tokens_->Sign(principal)};
        if (service) {
          credentials.push_back("");
        }
        for (const std::string& token : credentials) {
          const grpc::Status status =
              CallWithEmptyRequest(channel, method, token);
          const std::string wall =
              absl::StrCat("role ", std::string(auth::RoleName(role)),
                           " may not call /", method);
          const bool walled =
              status.error_code() == grpc::StatusCode::PERMISSION_DENIED &&
              status.error_message() == wall;
          const std::string where = absl::StrCat(
              method, " on ", target, " as ", std::string(auth::RoleName(role)),
              token.empty() ? " (cert)" : "", ": ", status.error_code(), " ",
              status.error_message());
          EXPECT_NE(status.error_code(), grpc::StatusCode::UNIMPLEMENTED)
              << where;
          EXPECT_NE(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
              << where;
          if (matrix.Allowed(method, role).has_value()) {
            EXPECT_FALSE(walled) << where;
            ++allowed;
          } else {
            EXPECT_TRUE(walled) << where;
            ++refused;
          }
        }
      }
    }
  }
  // The matrix is neither all open nor all closed.
  EXPECT_GT(refused, 0);
  EXPECT_GT(allowed, 0);
}

}  // namespace
}  // namespace kosapo
