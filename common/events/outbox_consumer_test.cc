// The outbox and the consumer against a real PostgreSQL and a real gRPC feed
// server on loopback: committed events are delivered once, in order, across
// restarts of either side; rolled-back ones never appear.
#include <google/protobuf/wrappers.pb.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <atomic>
#include <memory>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/events/consumer.h"
#include "common/events/feed.h"
#include "common/events/outbox.h"
#include "common/pg/migrations.h"
#include "common/pg/transaction.h"
#include "common/server/interceptor.h"
#include "common/testing/pg_cluster.h"
#include "common/testing/status_matchers.h"
#include "common/testing/test_tokens.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::events {
namespace {

using ::kosapo::testing::IsOk;
using ::kosapo::testing::SharedPgCluster;
using ::kosapo::testing::StatusIs;
using ::testing::ElementsAre;

constexpr absl::Duration kPatience = absl::Seconds(60);

std::string Lower(std::string text) {
  for (char& c : text) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

// The producer's feed served over gRPC from an in-process server, which the
// test can stop and start again on the same port.
class FeedServer {
 public:
  FeedServer(pg::Pool& pool, const std::string& url, const std::string& schema,
             const auth::TokenVerifier* verifier)
      : pool_(pool), url_(url), schema_(schema), verifier_(verifier) {}
  ~FeedServer() { Stop(); }

  void Start() {
    notifier_ = std::make_unique<OutboxNotifier>(url_, schema_);
    notifier_->Start();
    service_ = std::make_unique<EventFeedService>(pool_, calls_, *notifier_);
    grpc::ServerBuilder builder;
    builder.AddListeningPort(absl::StrCat("127.0.0.1:", port_),
                             grpc::InsecureServerCredentials(), &port_);
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    builder.RegisterService(service_.get());
    std::vector<
        std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        interceptors;
    interceptors.push_back(std::make_unique<server::CallInterceptorFactory>(
        &calls_, &metrics_, verifier_));
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  void Stop() {
    if (server_ != nullptr) {
      notifier_->Stop();
      server_->Shutdown(std::chrono::system_clock::now() +
                        std::chrono::seconds(5));
      server_->Wait();
      server_.reset();
      service_.reset();
      notifier_.reset();
    }
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  pg::Pool& pool_;
  const std::string url_;
  const std::string schema_;
  const auth::TokenVerifier* verifier_;
  server::CallRegistry calls_;
  server::Metrics metrics_;
  std::unique_ptr<OutboxNotifier> notifier_;
  std::unique_ptr<EventFeedService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string test =
        Lower(::testing::UnitTest::GetInstance()->current_test_info()->name());
    producer_schema_ = "p_" + test;
    consumer_schema_ = "c_" + test;
    {
      pqxx::connection admin(SharedPgCluster().AdminUrl());
      pqxx::nontransaction tx(admin);
      tx.exec0("CREATE SCHEMA " + tx.quote_name(producer_schema_) +
               " AUTHORIZATION kosapo_screening_owner");
      tx.exec0("CREATE SCHEMA " + tx.quote_name(consumer_schema_) +
               " AUTHORIZATION kosapo_case_owner");
    }
    // Migrated by the owners, used by the runtime roles, as in a service.
    producer_url_ = SharedPgCluster().ServiceUrl("screening");
    consumer_url_ = SharedPgCluster().ServiceUrl("case");
    ASSERT_THAT(
        pg::Migrate(SharedPgCluster().OwnerUrl("screening"), producer_schema_,
                    {PlatformMigrations()}, {"kosapo_screening"}),
        IsOk());
    const pg::MigrationSet applied_table{"test",
                                         {{1, "0001_applied.sql",
                                           "CREATE TABLE applied ("
                                           " sequence bigint PRIMARY KEY,"
                                           " subject text NOT NULL,"
                                           " applied_order bigserial)"}}};
    ASSERT_THAT(
        pg::Migrate(SharedPgCluster().OwnerUrl("case"), consumer_schema_,
                    {PlatformMigrations(), applied_table}, {"kosapo_case"}),
        IsOk());
    producer_pool_ = MakePool(producer_url_, producer_schema_);
    consumer_pool_ = MakePool(consumer_url_, consumer_schema_);
    auto tokens = testing::TestTokens::Create();
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    tokens_ = *std::move(tokens);
    verifier_ = tokens_->Verifier();
    server_ = std::make_unique<FeedServer>(*producer_pool_, producer_url_,
                                           producer_schema_, verifier_.get());
    server_->Start();
  }

  void TearDown() override {
    consumer_.reset();
    server_.reset();
  }

  static std::unique_ptr<pg::Pool> MakePool(const std::string& url,
                                            const std::string& schema) {
    pg::PoolOptions options;
    options.url = url;
    options.schema = schema;
    options.size = 6;
    return std::make_unique<pg::Pool>(options);
  }

  // Appends one event per subject in one transaction; rolls back instead of
  // committing when `commit` is false.
  absl::Status Append(const std::vector<std::string>& subjects,
                      bool commit = true) {
    return pg::InTransaction(*producer_pool_, "append", [&](pqxx::work& tx) {
      for (const std::string& subject : subjects) {
        google::protobuf::StringValue payload;
        payload.set_value("payload of " + subject);
        AppendEvent(tx, subject, payload, "trace-1");
      }
      return commit ? absl::OkStatus() : absl::AbortedError("rolled back");
    });
  }

  std::unique_ptr<EventConsumer> MakeConsumer(EventHandler handler = nullptr) {
    if (handler == nullptr) {
      handler = [](pqxx::work& tx, const v1::Event& event) {
        google::protobuf::StringValue payload;
        if (!event.payload().UnpackTo(&payload) ||
            payload.value() != "payload of " + event.subject()) {
          return absl::InvalidArgumentError("payload does not match subject");
        }
        tx.exec_params0(
            "INSERT INTO applied (sequence, subject) VALUES ($1, $2)",
            event.sequence(), event.subject());
        return absl::OkStatus();
      };
    }
    ConsumerOptions options;
    options.source = "producer";
    options.max_batch = 7;  // several batches even for small feeds
    options.initial_backoff = absl::Milliseconds(20);
    options.max_backoff = absl::Milliseconds(200);
    const std::string token =
        tokens_->Sign(auth::Role::kService, "service:test");
    auto consumer = std::make_unique<EventConsumer>(
        *consumer_pool_,
        grpc::CreateChannel(server_->address(),
                            grpc::InsecureChannelCredentials()),
        [token](grpc::ClientContext& context) {
          context.AddMetadata("authorization", "Bearer " + token);
          return absl::OkStatus();
        },
        options, std::move(handler));
    consumer->Start();
    return consumer;
  }

  int64_t Head() {
    return *pg::InTransaction(*producer_pool_, "head",
                              [](pqxx::work& tx) -> absl::StatusOr<int64_t> {
                                return HeadSequence(tx);
                              });
  }

  // (sequence, subject) of every applied row, in the order they were applied.
  std::vector<std::pair<int64_t, std::string>> Applied() {
    return *pg::InTransaction(
        *consumer_pool_, "applied",
        [](pqxx::work& tx)
            -> absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> {
          std::vector<std::pair<int64_t, std::string>> rows;
          for (const auto& row : tx.exec("SELECT sequence, subject FROM "
                                         "applied ORDER BY applied_order")) {
            rows.emplace_back(row[0].as<int64_t>(), row[1].as<std::string>());
          }
          return rows;
        });
  }

  std::vector<std::pair<int64_t, std::string>> Committed() {
    return *pg::InTransaction(
        *producer_pool_, "committed",
        [](pqxx::work& tx)
            -> absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> {
          std::vector<std::pair<int64_t, std::string>> rows;
          for (const auto& event : ReadEvents(tx, 0, 100000, SIZE_MAX)) {
            rows.emplace_back(event.sequence(), event.subject());
          }
          return rows;
        });
  }

  std::string producer_schema_, consumer_schema_, producer_url_, consumer_url_;
  std::unique_ptr<pg::Pool> producer_pool_, consumer_pool_;
  std::unique_ptr<testing::TestTokens> tokens_;
  std::unique_ptr<auth::TokenVerifier> verifier_;
  std::unique_ptr<FeedServer> server_;
  std::unique_ptr<EventConsumer> consumer_;
};

TEST_F(OutboxTest, RolledBackAppendsNeverAppearAndSequencesHaveNoGaps) {
  ASSERT_THAT(Append({"cases/1"}), IsOk());
  ASSERT_THAT(Append({"cases/2", "cases/3"}, /*commit=*/false),
              StatusIs(absl::StatusCode::kAborted));
  ASSERT_THAT(Append({"cases/4", "cases/5"}), IsOk());
  const auto committed = Committed();
  EXPECT_THAT(committed,
              ElementsAre(std::make_pair(int64_t{1}, std::string("cases/1")),
                          std::make_pair(int64_t{2}, std::string("cases/4")),
                          std::make_pair(int64_t{3}, std::string("cases/5"))));
  EXPECT_EQ(Head(), 3);

  auto events = *pg::InTransaction(
      *producer_pool_, "read",
      [](pqxx::work& tx) -> absl::StatusOr<std::vector<v1::Event>> {
        return ReadEvents(tx, 1, 10);
      });
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].trace_id(), "trace-1");
  EXPECT_EQ(events[0].payload().type_url(),
            "type.googleapis.com/google.protobuf.StringValue");
  EXPECT_FALSE(events[0].event_id().empty());
  EXPECT_NE(events[0].event_id(), events[1].event_id());
  EXPECT_GT(events[0].create_time().seconds(), 0);
}

TEST_F(OutboxTest, ConsumerAppliesEveryCommittedEventOnceInOrder) {
  consumer_ = MakeConsumer();
  // Concurrent producers, some of whose transactions roll back, while the
  // consumer is already following the feed.
  std::vector<std::thread> writers;
  std::atomic<int> errors{0};
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 40; ++i) {
        const std::string subject = absl::StrCat("cases/", w, "-", i);
        const absl::Status status = Append({subject}, /*commit=*/i % 5 != 4);
        if (!status.ok() && status.code() != absl::StatusCode::kAborted) {
          ++errors;
        }
      }
    });
  }
  for (auto& writer : writers) {
    writer.join();
  }
  ASSERT_EQ(errors.load(), 0);
  const auto committed = Committed();
  ASSERT_EQ(committed.size(), 4u * 32u);
  ASSERT_TRUE(consumer_->WaitFor(Head(), kPatience));
  EXPECT_EQ(Applied(), committed);  // each once, in sequence order
  EXPECT_THAT(consumer_->Checkpoint(), IsOk());
  EXPECT_EQ(*consumer_->Checkpoint(), static_cast<int64_t>(committed.size()));
}

TEST_F(OutboxTest, ConsumerCatchesUpAfterProducerRestart) {
  consumer_ = MakeConsumer();
  ASSERT_THAT(Append({"a/1", "a/2", "a/3"}), IsOk());
  ASSERT_TRUE(consumer_->WaitFor(3, kPatience));

  server_->Stop();  // the producer goes down; its database keeps commits
  ASSERT_THAT(Append({"a/4", "a/5"}), IsOk());
  absl::SleepFor(absl::Milliseconds(300));  // the consumer retries meanwhile
  ASSERT_THAT(Append({"a/6"}), IsOk());
  server_->Start();  // same port

  ASSERT_TRUE(consumer_->WaitFor(6, kPatience));
  EXPECT_EQ(Applied(), Committed());
}

TEST_F(OutboxTest, ConsumerResumesFromItsCheckpointAfterRestart) {
  consumer_ = MakeConsumer();
  ASSERT_THAT(Append({"b/1", "b/2", "b/3", "b/4"}), IsOk());
  ASSERT_TRUE(consumer_->WaitFor(4, kPatience));
  consumer_->Stop();
  consumer_.reset();

  ASSERT_THAT(Append({"b/5", "b/6"}), IsOk());
  consumer_ = MakeConsumer();  // a new process, as far as the feed can tell
  ASSERT_TRUE(consumer_->WaitFor(6, kPatience));
  // The PRIMARY KEY on sequence would have failed a second apply.
  EXPECT_EQ(Applied(), Committed());
}

TEST_F(OutboxTest, FailedApplyRollsBackAndIsRetried) {
  std::atomic<int> failures_left{2};
  consumer_ = MakeConsumer([&](pqxx::work& tx, const v1::Event& event) {
    tx.exec_params0("INSERT INTO applied (sequence, subject) VALUES ($1, $2)",
                    event.sequence(), event.subject());
    if (event.sequence() == 3 && failures_left.fetch_sub(1) > 0) {
      return absl::UnavailableError("downstream hiccup");
    }
    return absl::OkStatus();
  });
  ASSERT_THAT(Append({"c/1", "c/2", "c/3", "c/4", "c/5"}), IsOk());
  ASSERT_TRUE(consumer_->WaitFor(5, kPatience));
  EXPECT_LE(failures_left.load(), 0);
  EXPECT_EQ(Applied(), Committed());
}

TEST_F(OutboxTest, FeedRefusesCallersWithoutAServiceToken) {
  auto stub = v1::EventFeed::NewStub(grpc::CreateChannel(
      server_->address(), grpc::InsecureChannelCredentials()));
  v1::ListEventsResponse response;
  {
    grpc::ClientContext context;
    EXPECT_EQ(stub->ListEvents(&context, {}, &response).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext context;
    context.AddMetadata(
        "authorization",
        "Bearer " + tokens_->Sign(auth::Role::kWardOfficer, "u1"));
    EXPECT_EQ(stub->ListEvents(&context, {}, &response).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization",
                        "Bearer " + tokens_->Sign(auth::Role::kService, "s1"));
    v1::ListEventsRequest request;
    request.set_after_sequence(-1);
    EXPECT_EQ(stub->ListEvents(&context, request, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
}

}  // namespace
}  // namespace kosapo::events
