#include "tests/security/four_services.h"

#include <grpcpp/client_context.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>

#include <fstream>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/testing/pg_cluster.h"
#include "common/testing/stdout_capture.h"
#include "gtest/gtest.h"
#include "services/case/case_server.h"
#include "services/referral/referral_server.h"
#include "services/reporting/reporting_server.h"
#include "services/screening/screening_server.h"

namespace kosapo::testing {

absl::StatusOr<std::unique_ptr<FourServices>> FourServices::Start(
    const TestTokens& tokens, const std::string& work_dir) {
  auto four = std::make_unique<FourServices>();
  const std::string peer_token = work_dir + "/peer.token";
  std::ofstream(peer_token)
      << tokens.Sign(auth::Role::kService, "service:security-test");
  StdoutCapture logs(work_dir + "/start.log");
  for (auto& [name, definition] :
       std::vector<std::pair<std::string, server::ServiceDefinition>>{
           {"screening", screening::Definition()},
           {"case", cases::Definition()},
           {"referral", referral::Definition()},
           {"reporting", reporting::Definition()}}) {
    const std::map<std::string, std::string> env =
        PeerEnv(four->services_, peer_token);
    auto service = InProcessService::Start(
        std::move(definition), SharedPgCluster(), tokens, work_dir, env);
    if (!service.ok()) {
      logs.Finish();
      return absl::Status(service.status().code(),
                          absl::StrCat(name, ": ", service.status().message()));
    }
    four->services_[name] = *std::move(service);
  }
  logs.Finish();
  return four;
}

std::string FourServices::ServiceOf(const std::string& method) {
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

TestTokens* FourServicesTest::tokens_ = nullptr;
FourServices* FourServicesTest::services_ = nullptr;

void FourServicesTest::SetUpTestSuite() {
  auto tokens = TestTokens::Create();
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  tokens_ = tokens->release();
  auto services = FourServices::Start(*tokens_, SharedPgCluster().data_dir());
  ASSERT_TRUE(services.ok()) << services.status();
  services_ = services->release();
}

void FourServicesTest::TearDownTestSuite() {
  delete services_;
  services_ = nullptr;
  delete tokens_;
  tokens_ = nullptr;
}

grpc::Status CallWithBytes(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
    const std::string& token, const std::string& request,
    std::chrono::milliseconds timeout, std::string* response,
    const std::vector<std::pair<std::string, std::string>>& metadata) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  if (!token.empty()) {
    context.AddMetadata("authorization", "Bearer " + token);
  }
  for (const auto& [key, value] : metadata) {
    context.AddMetadata(key, value);
  }
  context.set_deadline(std::chrono::system_clock::now() + timeout);
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
    grpc::Slice slice(request);
    grpc::ByteBuffer message(&slice, 1);
    call->Write(message, reinterpret_cast<void*>(2));
    if (step(2)) {
      call->WritesDone(reinterpret_cast<void*>(3));
      step(3);
    }
    grpc::ByteBuffer received;
    for (;;) {
      call->Read(&received, reinterpret_cast<void*>(4));
      if (!step(4)) {
        break;
      }
      if (response != nullptr) {
        std::vector<grpc::Slice> slices;
        (void)received.Dump(&slices);
        response->clear();
        for (const grpc::Slice& slice : slices) {
          response->append(reinterpret_cast<const char*>(slice.begin()),
                           slice.size());
        }
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

}  // namespace kosapo::testing
