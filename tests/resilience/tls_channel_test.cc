// How the suite's mutual-TLS channels (DialTls, Suite::Ready's
// HealthServing) and the services' peer channels (server::MakeChannel)
// connect when the server is killed and restarted, and when the TLS
// handshake is slow: against a minimal server (tls_echo_server: the repo's
// TLS credentials and a health service), on loopback, in seconds.
//
// The cases are the ones bench/RESULTS.md (Resilience) recorded over TLS: a
// test's channel to a service killed under in-flight calls failed its
// handshakes for the 30 s the test waited after the restart, while a new
// channel connected at once; a handshake over a link already 1.5 s slow
// failed ("Handshake read failed") instead of waiting; and new channels
// under CPU load sometimes failed their first call ("failed to connect to
// all addresses"). Each came from connection attempts given at most
// max(backoff, 100 ms) by GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, the first
// also from calls that failed at once instead of waiting for the
// connection (see DialTls and HealthServing in suite.cc).
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/server/peer.h"
#include "common/testing/test_pki.h"
#include "common/tls/identity.h"
#include "common/tls/tls.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/e2e/service_process.h"
#include "tests/resilience/suite.h"
#include "tests/resilience/tcp_proxy.h"

namespace kosapo::resilience {
namespace {

// The echo server presents service "case"'s certificate.
constexpr char kServerIdentity[] = "case";

class TlsChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/kosapo-tls-channel-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    auto pki = testing::TestPki::InDir(dir_ + "/pki");
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = std::make_unique<testing::TestPki>(*pki);
  }

  void TearDown() override {
    proxy_.reset();
    server_.reset();  // kills it if it still runs
    std::system(absl::StrCat("rm -rf '", dir_, "'").c_str());
  }

  // Starts the server on `port` (0: a free one) and waits until it listens.
  void StartServer(int port) {
    const tls::TlsFiles files = pki_->Service(kServerIdentity);
    testing::ProcessOptions options;
    options.binary = KOSAPO_TLS_ECHO_SERVER_BIN;
    options.args = {absl::StrCat(port), files.cert_file, files.key_file,
                    pki_->ca_file()};
    options.log_path = absl::StrCat(dir_, "/server-", starts_++, ".log");
    auto process = testing::ServiceProcess::Start(std::move(options));
    ASSERT_TRUE(process.ok()) << process.status();
    server_ = std::move(*process);
    auto serving = server_->WaitForLog("serving", absl::Seconds(10));
    ASSERT_TRUE(serving.ok()) << serving.status() << server_->Stderr();
    port_ = (*serving)["port"].get<int>();
  }

  void StartProxy(absl::Duration response_delay) {
    auto proxy = TcpProxy::Start(port_);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = std::move(*proxy);
    proxy_->SetResponseDelay(response_delay);
  }

  // A plain call, failing at once unless the channel connects within
  // `deadline`: what most of a test's (and a service's) calls are.
  static grpc::Status Check(const std::shared_ptr<grpc::Channel>& channel,
                            absl::Duration deadline) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    return grpc::health::v1::Health::NewStub(channel)->Check(&context, request,
                                                             &response);
  }

  std::string dir_;
  std::unique_ptr<testing::TestPki> pki_;
  std::unique_ptr<testing::ServiceProcess> server_;
  std::unique_ptr<TcpProxy> proxy_;
  int port_ = 0;
  int starts_ = 0;
};

// Calls that the server holds open (it answers no other method than
// health), on their own completion queue, drained on a thread of their own
// until they end. While that thread waits on the queue it polls gRPC's I/O
// for every channel of the process, so it must be gone before the restart:
// the test process must be only a client again, as the suite is once its
// loader has stopped.
class CallsInFlight {
 public:
  CallsInFlight(const std::shared_ptr<grpc::Channel>& channel, int count)
      : stub_(channel), drain_([this] {
          void* tag;
          bool ok;
          while (queue_.Next(&tag, &ok)) {
          }
        }) {
    for (int i = 0; i < count; ++i) {
      contexts_.push_back(std::make_unique<grpc::ClientContext>());
      calls_.push_back(stub_.PrepareCall(contexts_.back().get(),
                                         "/kosapo.test.Hold/Hold", &queue_));
      calls_.back()->StartCall(this);
      replies_.emplace_back();
      calls_.back()->Read(&replies_.back(), this);
    }
  }

  // Cancels what is left of the calls and stops the draining thread.
  void End() {
    if (!drain_.joinable()) {
      return;
    }
    statuses_.resize(calls_.size());
    for (size_t i = 0; i < calls_.size(); ++i) {
      contexts_[i]->TryCancel();
      calls_[i]->Finish(&statuses_[i], this);
    }
    queue_.Shutdown();
    drain_.join();
  }

  ~CallsInFlight() { End(); }

 private:
  grpc::GenericStub stub_;
  grpc::CompletionQueue queue_;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts_;
  std::vector<std::unique_ptr<grpc::GenericClientAsyncReaderWriter>> calls_;
  std::vector<grpc::ByteBuffer> replies_;
  std::vector<grpc::Status> statuses_;
  std::thread drain_;
};

TEST_F(TlsChannelTest,
       ChannelReachesServerRestartedAfterKillWithCallsInFlight) {
  StartServer(0);
  const std::shared_ptr<grpc::Channel> channel =
      DialTls(absl::StrCat("127.0.0.1:", port_), pki_->Client("test"));
  ASSERT_TRUE(HealthServing(channel, "", absl::Seconds(5)));
  CallsInFlight calls(channel, 8);
  absl::SleepFor(absl::Milliseconds(200));  // the server has them all
  ASSERT_TRUE(server_->Signal(SIGKILL).ok());
  ASSERT_TRUE(server_->Wait(absl::Seconds(10)).ok());
  calls.End();
  // Down for a second, asked as Suite::AwaitReadiness asks: the channel
  // fails its attempts and backs off.
  const absl::Time down_until = absl::Now() + absl::Seconds(1);
  while (absl::Now() < down_until) {
    EXPECT_FALSE(HealthServing(channel, "", absl::Milliseconds(200)));
    absl::SleepFor(absl::Milliseconds(50));
  }
  const int port = port_;
  StartServer(port);
  ASSERT_EQ(port_, port);
  const absl::Time restarted = absl::Now();
  bool serving = false;
  while (!serving && absl::Now() - restarted < absl::Seconds(10)) {
    serving = HealthServing(channel, "", absl::Seconds(2));
    if (!serving) {
      absl::SleepFor(absl::Milliseconds(50));
    }
  }
  const absl::Duration took = absl::Now() - restarted;
  std::printf("the old channel reached the restarted server after %s\n",
              absl::FormatDuration(took).c_str());
  EXPECT_TRUE(serving) << "the old channel still fails after "
                       << absl::FormatDuration(took) << ": "
                       << Check(channel, absl::Seconds(1)).error_message();
  // And now that it is connected, plain calls go through.
  EXPECT_TRUE(Check(channel, absl::Seconds(2)).ok());
}

TEST_F(TlsChannelTest, HandshakeOverASlowLinkFinishesWithinTheCallDeadline) {
  StartServer(0);
  // Every chunk from the server reaches the client 1.5 s late: the
  // handshake takes a few seconds (4.5-7.5 s seen, as the proxy delays each
  // chunk in turn), more than the 0.1-1.2 s each attempt had.
  StartProxy(absl::Milliseconds(1500));
  const std::shared_ptr<grpc::Channel> channel =
      DialTls(absl::StrCat("127.0.0.1:", proxy_->port()), pki_->Client("test"));
  const absl::Time start = absl::Now();
  const grpc::Status status = Check(channel, absl::Seconds(20));
  std::printf("first call over the slow link: code %d after %s (%s)\n",
              status.error_code(),
              absl::FormatDuration(absl::Now() - start).c_str(),
              status.error_message().c_str());
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(TlsChannelTest, NewChannelsFirstCallWaitsForASlowerHandshake) {
  StartServer(0);
  // A handshake of well over 250 ms, as on a loaded machine: a new
  // channel's first call waits for it (its deadline allowing) instead of
  // failing with UNAVAILABLE when a short connect timeout cuts it.
  StartProxy(absl::Milliseconds(400));
  const std::string address = absl::StrCat("127.0.0.1:", proxy_->port());
  {
    const grpc::Status status =
        Check(DialTls(address, pki_->Client("test")), absl::Seconds(8));
    EXPECT_TRUE(status.ok()) << "DialTls: " << status.error_message();
  }
  {
    server::ChannelOptions options;
    options.tls = pki_->Service("screening");
    const grpc::Status status = Check(
        server::MakeChannel(address, options, tls::ServiceUri(kServerIdentity)),
        absl::Seconds(8));
    EXPECT_TRUE(status.ok()) << "MakeChannel: " << status.error_message();
  }
}

}  // namespace
}  // namespace kosapo::resilience
