// A consumer paused (SIGSTOP) for longer than its producers' keepalive
// while a whole city is loaded, then resumed: it catches up to the same
// ward comparison as the generator's. And a slow peer, through a small
// user-space proxy that delays answers or drops connections: the caller's
// deadline fires (or the call is UNAVAILABLE), and retrying with the same
// request id makes exactly one record and one event, whether the slow link
// is between a client and a service or between two services.
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/types/api_types.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kosapo/cases/v1/cases.grpc.pb.h"
#include "kosapo/referral/v1/referral.grpc.pb.h"
#include "tests/resilience/suite.h"
#include "tests/resilience/tcp_proxy.h"

namespace kosapo::resilience {
namespace {

namespace cv1 = ::kosapo::cases::v1;
namespace rv1 = ::kosapo::referral::v1;

std::vector<std::string> AreaCodes(const sample::SampleCity& city) {
  std::vector<std::string> areas;
  for (const sample::SampleArea& area : city.areas) {
    areas.push_back(area.code);
  }
  return areas;
}

int64_t Total(const std::map<std::string, int64_t>& census) {
  int64_t total = 0;
  for (const auto& [type, count] : census) {
    total += count;
  }
  return total;
}

TEST(PauseTest, AConsumerPausedThroughALoadCatchesUpWhenResumed) {
  auto city = SmallCity("90004", 600);
  ASSERT_TRUE(city.ok()) << city.status();
  // Producers ping every 10 s (the least allowed) and give up on a silent
  // peer after 8 s (idle clients of this test answer pings from gRPC's
  // 5-second backup poller), so a pause of 20 s outlives the consumer's
  // open feed streams.
  std::map<std::string, std::string> keepalive = {
      {"KOSAPO_KEEPALIVE_TIME", "10s"}, {"KOSAPO_KEEPALIVE_TIMEOUT", "8s"}};
  auto started = Suite::Start(
      "pause",
      {{"screening", keepalive}, {"case", keepalive}, {"referral", keepalive}});
  ASSERT_TRUE(started.ok()) << started.status();
  Suite& suite = **started;
  const pid_t pid = suite.Pid("reporting");
  ASSERT_TRUE(suite.Signal("reporting", SIGSTOP).ok());
  const absl::Time paused = absl::Now();
  auto attempts = LoadUntilDone(suite, *city, absl::Minutes(3));
  ASSERT_TRUE(attempts.ok()) << attempts.status();
  EXPECT_EQ(*attempts, 1);  // nothing the load needs waits on reporting
  absl::SleepFor(
      std::max(absl::Seconds(5), absl::Seconds(20) - (absl::Now() - paused)));
  // While paused it has applied nothing of what was loaded.
  auto applied = suite.Checkpoint("reporting", "case");
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(*applied, 0);
  ASSERT_TRUE(suite.Signal("reporting", SIGCONT).ok());
  const absl::Time resumed = absl::Now();
  auto outcome = Observe(suite, *city, absl::Minutes(2));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  std::printf(
      "reporting paused %s (while %lld events were written), caught up %s "
      "after SIGCONT\n",
      absl::FormatDuration(resumed - paused).c_str(),
      static_cast<long long>(outcome->events),
      absl::FormatDuration(absl::Now() - resumed).c_str());
  EXPECT_EQ(CompareWithGenerator(outcome->comparison, *city), "");
  // The producers closed its streams while it was stopped; it reconnected.
  int reconnects = 0;
  for (const auto& line : suite.Process("reporting").Logs()) {
    reconnects +=
        line.value("message", "") == "event stream ended; reconnecting" ? 1 : 0;
  }
  std::printf("reporting reconnected to its feeds %d time(s)\n", reconnects);
  EXPECT_GE(reconnects, 1);
  EXPECT_EQ(suite.Pid("reporting"), pid);
  EXPECT_TRUE(suite.Process("reporting").running());
}

// A case the tests below create, as ward officers would.
cv1::CreateCaseRequest NewCase(const sample::SampleCity& city,
                               const std::string& request_id) {
  const sample::SampleCase& model = city.cases.front();
  cv1::CreateCaseRequest create;
  create.set_parent(absl::StrCat("municipalities/", city.municipality));
  create.set_request_id(request_id);
  // The same child every time: each is opened on purpose.
  create.set_duplicate_override("resilience test: another case on purpose");
  cv1::Case* out = create.mutable_case_();
  out->set_area_code(city.areas.front().code);
  out->set_source(cv1::CASE_SOURCE_SCHOOL);
  *out->mutable_opened_date() = DateToProto(model.opened);
  out->mutable_child()->set_name(model.child.name);
  out->mutable_child()->set_kana(model.child.kana);
  *out->mutable_child()->mutable_birth_date() =
      DateToProto(model.child.birth_date);
  out->mutable_child()->set_sex(cv1::SEX_MALE);
  out->mutable_child()->set_school_code(model.child.school_code);
  out->mutable_child()->set_grade(model.child.grade);
  return create;
}

class SlowPeerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto city = SmallCity("90005", 600);
    ASSERT_TRUE(city.ok()) << city.status();
    city_ = *std::move(city);
    ASSERT_FALSE(city_.cases.empty());
    areas_ = AreaCodes(city_);
    // The referral service reaches the case service only through a proxy,
    // and gives it 1 s per call.
    auto started = Suite::Start(
        "slow-peer", {{"referral", {{"KOSAPO_PEER_TIMEOUT", "1s"}}}},
        [this](const std::string& service, Suite& suite,
               std::map<std::string, std::string>& env) {
          if (service != "referral") {
            return;
          }
          if (peer_proxy_ == nullptr) {
            auto proxy = TcpProxy::Start(suite.Port("case"));
            ASSERT_TRUE(proxy.ok()) << proxy.status();
            peer_proxy_ = *std::move(proxy);
          }
          env["KOSAPO_CASE_ADDRESS"] =
              absl::StrCat("127.0.0.1:", peer_proxy_->port());
        });
    ASSERT_TRUE(started.ok()) << started.status();
    suite_ = *std::move(started);
    ASSERT_TRUE(LoadUntilDone(*suite_, city_, absl::Minutes(3)).ok());
    auto proxy = TcpProxy::Start(suite_->Port("case"));
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    client_proxy_ = *std::move(proxy);
  }

  void TearDown() override {
    suite_.reset();
    client_proxy_.reset();
    peer_proxy_.reset();
  }

  std::unique_ptr<grpc::ClientContext> WardOfficer(absl::Duration deadline) {
    return suite_->ContextAs(auth::Role::kWardOfficer, city_.municipality,
                             areas_, {}, deadline);
  }

  sample::SampleCity city_;
  std::vector<std::string> areas_;
  std::unique_ptr<TcpProxy> peer_proxy_;
  std::unique_ptr<TcpProxy> client_proxy_;
  std::unique_ptr<Suite> suite_;
};

TEST_F(SlowPeerTest, ClientRetriesThroughASlowLinkMakeOneCase) {
  auto before = suite_->EventCensus("case");
  ASSERT_TRUE(before.ok()) << before.status();
  // Mutual TLS end to end: the proxy forwards the encrypted bytes. The
  // connection is made while the link is good, so the attempts below reach
  // the case service and only the answers come late, as on a link that
  // turns slow. (Over a link already slow the handshake, every answer of it
  // late, would outlast the attempts' 0.5 s deadlines: none would reach the
  // service. It does complete within a longer deadline: tls_channel_test.)
  const std::shared_ptr<grpc::Channel> slow_link =
      suite_->Dial(absl::StrCat("127.0.0.1:", client_proxy_->port()));
  ASSERT_TRUE(slow_link->WaitForConnected(
      absl::ToChronoTime(absl::Now() + absl::Seconds(10))));
  auto slow = cv1::CaseService::NewStub(slow_link);
  auto direct = cv1::CaseService::NewStub(suite_->Channel("case"));

  // Answers come 1.5 s late; the caller gives up after 0.5 s, three times.
  client_proxy_->SetResponseDelay(absl::Milliseconds(1500));
  const cv1::CreateCaseRequest create = NewCase(city_, "slow-link-1");
  for (int attempt = 0; attempt < 3; ++attempt) {
    cv1::Case opened;
    const grpc::Status status = slow->CreateCase(
        WardOfficer(absl::Milliseconds(500)).get(), create, &opened);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
        << status.error_message();
  }
  // The link drops connections: UNAVAILABLE.
  client_proxy_->SetDropping(true);
  {
    cv1::Case opened;
    const grpc::Status status = slow->CreateCase(
        WardOfficer(absl::Milliseconds(500)).get(), create, &opened);
    EXPECT_THAT(status.error_code(),
                ::testing::AnyOf(grpc::StatusCode::UNAVAILABLE,
                                 grpc::StatusCode::DEADLINE_EXCEEDED))
        << status.error_message();
    std::printf("case through a dropping link: code %d (%s)\n",
                status.error_code(), status.error_message().c_str());
  }
  client_proxy_->SetDropping(false);
  client_proxy_->SetResponseDelay(absl::ZeroDuration());
  // Then the link recovers: the same request id answers one case, through
  // the proxy and directly.
  cv1::Case first;
  grpc::Status status = grpc::Status::CANCELLED;
  const absl::Time until = absl::Now() + absl::Seconds(30);
  while (!status.ok() && absl::Now() < until) {
    // The retry waits for the channel to connect again: a call failing at
    // once while the channel is in TRANSIENT_FAILURE does not drive its
    // reconnection, which in this process (no server polling) would then
    // wait for gRPC's backup poller, every 5 s (see HealthServing).
    std::unique_ptr<grpc::ClientContext> retry = WardOfficer(absl::Seconds(5));
    retry->set_wait_for_ready(true);
    status = slow->CreateCase(retry.get(), create, &first);
  }
  ASSERT_TRUE(status.ok()) << status.error_message();
  cv1::Case again;
  ASSERT_TRUE(
      direct->CreateCase(WardOfficer(absl::Seconds(5)).get(), create, &again)
          .ok());
  EXPECT_EQ(again.name(), first.name());
  auto after = suite_->EventCensus("case");
  ASSERT_TRUE(after.ok()) << after.status();
  // Five attempts, one case: one event.
  EXPECT_EQ(Total(*after) - Total(*before), 1);
  std::printf(
      "case: 5 attempts through the slow link (%lld connections), "
      "%lld new event(s)\n",
      static_cast<long long>(client_proxy_->accepted()),
      static_cast<long long>(Total(*after) - Total(*before)));
}

TEST_F(SlowPeerTest, ASlowCaseServiceFailsReferralsWhichRetryOnce) {
  auto cases = cv1::CaseService::NewStub(suite_->Channel("case"));
  auto referral = rv1::ReferralService::NewStub(suite_->Channel("referral"));
  rv1::SearchSupportsRequest search;
  search.set_parent(absl::StrCat("municipalities/", city_.municipality));
  search.set_page_size(10);
  rv1::SearchSupportsResponse supports;
  ASSERT_TRUE(referral
                  ->SearchSupports(WardOfficer(absl::Seconds(10)).get(), search,
                                   &supports)
                  .ok());
  ASSERT_FALSE(supports.supports().empty());
  const std::string parent =
      absl::StrCat("municipalities/", city_.municipality);
  auto referral_for = [&](const std::string& key) {
    cv1::Case opened;
    EXPECT_TRUE(cases
                    ->CreateCase(WardOfficer(absl::Seconds(10)).get(),
                                 NewCase(city_, "peer-case-" + key), &opened)
                    .ok());
    rv1::CreateReferralRequest create;
    create.set_parent(parent);
    create.set_request_id("peer-referral-" + key);
    create.mutable_referral()->set_case_(opened.name());
    create.mutable_referral()->set_support(supports.supports(0).name());
    *create.mutable_referral()->mutable_proposed_date() =
        DateToProto(city_.cases.front().opened);
    return create;
  };

  // An undisturbed referral: how many events one makes.
  auto before = suite_->EventCensus("referral");
  ASSERT_TRUE(before.ok()) << before.status();
  rv1::Referral made;
  const grpc::Status undisturbed = referral->CreateReferral(
      WardOfficer(absl::Seconds(10)).get(), referral_for("calm"), &made);
  ASSERT_TRUE(undisturbed.ok()) << undisturbed.error_message();
  auto calm = suite_->EventCensus("referral");
  ASSERT_TRUE(calm.ok()) << calm.status();
  const int64_t per_referral = Total(*calm) - Total(*before);
  EXPECT_GE(per_referral, 1);

  // The case service answers the referral service 2 s late; the referral
  // service gives it 1 s and fails the call, without a referral.
  const rv1::CreateReferralRequest create = referral_for("slow");
  peer_proxy_->SetResponseDelay(absl::Seconds(2));
  for (int attempt = 0; attempt < 2; ++attempt) {
    rv1::Referral referral_made;
    const grpc::Status status = referral->CreateReferral(
        WardOfficer(absl::Seconds(10)).get(), create, &referral_made);
    EXPECT_THAT(status.error_code(),
                ::testing::AnyOf(grpc::StatusCode::UNAVAILABLE,
                                 grpc::StatusCode::DEADLINE_EXCEEDED))
        << status.error_message();
    std::printf("referral with a slow case service: code %d (%s)\n",
                status.error_code(), status.error_message().c_str());
  }
  peer_proxy_->SetResponseDelay(absl::ZeroDuration());
  // The caller retries with the same request id once the link is well.
  rv1::Referral first;
  grpc::Status status = grpc::Status::CANCELLED;
  const absl::Time until = absl::Now() + absl::Seconds(30);
  while (!status.ok() && absl::Now() < until) {
    status = referral->CreateReferral(WardOfficer(absl::Seconds(10)).get(),
                                      create, &first);
  }
  ASSERT_TRUE(status.ok()) << status.error_message();
  rv1::Referral again;
  ASSERT_TRUE(
      referral
          ->CreateReferral(WardOfficer(absl::Seconds(10)).get(), create, &again)
          .ok());
  EXPECT_EQ(again.name(), first.name());
  auto after = suite_->EventCensus("referral");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(Total(*after) - Total(*calm), per_referral);
  std::printf(
      "referral: %lld event(s) for one undisturbed referral, %lld "
      "for the one retried through the slow link\n",
      static_cast<long long>(per_referral),
      static_cast<long long>(Total(*after) - Total(*calm)));
}

}  // namespace
}  // namespace kosapo::resilience
