// The four kosapo services started in-process against the shared test
// cluster, each over real gRPC on a loopback port, peers wired to each other
// as in production; and a raw call that sends any bytes as the request of
// any method, for tests that walk every RPC of every service.
#ifndef KOSAPO_TESTS_SECURITY_FOUR_SERVICES_H_
#define KOSAPO_TESTS_SECURITY_FOUR_SERVICES_H_

#include <grpcpp/channel.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/service/in_process.h"
#include "common/testing/test_tokens.h"
#include "gtest/gtest.h"

namespace kosapo::testing {

class FourServices {
 public:
  // Starts screening, case, referral and reporting in that order (each
  // knows the addresses of those before it). Start-up logs go to
  // `work_dir`/start.log, not to the test's output.
  static absl::StatusOr<std::unique_ptr<FourServices>> Start(
      const TestTokens& tokens, const std::string& work_dir);

  // "screening", "case", "referral" or "reporting".
  InProcessService& at(const std::string& name) { return *services_.at(name); }

  // The service serving `method` ("kosapo.cases.v1.CaseService/GetCase");
  // empty for the event feed, which every service serves.
  static std::string ServiceOf(const std::string& method);

 private:
  std::map<std::string, std::unique_ptr<InProcessService>> services_;
};

// A test suite sharing one FourServices and one TestTokens among its tests.
class FourServicesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();

  static TestTokens* tokens_;
  static FourServices* services_;
};

// One call of `method` ("pkg.Service/Method") with a single request whose
// encoding is `request` (any bytes, whatever the method's kind: unary or
// streaming), through the generic stub, as the holder of `token` (none:
// the connection's certificate alone); the
// call's final status. Streams the server keeps open end at `timeout`.
// `response`, when given, receives the encoding of the last message the
// server sent. `metadata` goes with the call (keys ending in "-bin" take
// any bytes).
grpc::Status CallWithBytes(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
    const std::string& token, const std::string& request,
    std::chrono::milliseconds timeout = std::chrono::seconds(3),
    std::string* response = nullptr,
    const std::vector<std::pair<std::string, std::string>>& metadata = {});

}  // namespace kosapo::testing

#endif  // KOSAPO_TESTS_SECURITY_FOUR_SERVICES_H_
