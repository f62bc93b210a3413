#include "common/events/feed.h"

#include <memory>
#include <pqxx/connection>
#include <pqxx/notification>
#include <pqxx/transaction>

#include "absl/strings/str_cat.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/events/outbox.h"
#include "common/pg/transaction.h"
#include "common/server/paging.h"

namespace kosapo::events {
namespace {

constexpr int kDefaultBatch = 500;
constexpr int kMaxBatch = 1000;

// Calls `on_notify` for announcements of one schema's outbox.
class Receiver : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& connection, const std::string& schema,
           std::function<void()> on_notify)
      : pqxx::notification_receiver(connection, kNotifyChannel),
        prefix_(NotifyPayloadPrefix(schema)),
        on_notify_(std::move(on_notify)) {}
  void operator()(const std::string& payload, int) override {
    if (payload.compare(0, prefix_.size(), prefix_) == 0) {
      on_notify_();
    }
  }

 private:
  const std::string prefix_;
  std::function<void()> on_notify_;
};

}  // namespace

OutboxNotifier::OutboxNotifier(std::string url, std::string schema)
    : url_(std::move(url)), schema_(std::move(schema)) {}

OutboxNotifier::~OutboxNotifier() { Stop(); }

void OutboxNotifier::Start() {
  thread_ = std::thread([this] { Run(); });
}

void OutboxNotifier::Stop() {
  stopped_ = true;
  Announce();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void OutboxNotifier::Announce() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++generation_;
  }
  changed_.notify_all();
}

uint64_t OutboxNotifier::generation() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return generation_;
}

void OutboxNotifier::Wait(uint64_t seen, absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                    [&] { return generation_ != seen || stopped_.load(); });
}

void OutboxNotifier::Run() {
  absl::Duration backoff = absl::Milliseconds(200);
  while (!stopped_) {
    try {
      pqxx::connection connection(url_);
      Receiver receiver(connection, schema_, [this] { Announce(); });
      // Anything committed while we were not listening is found by the
      // watchers' next read: wake them once.
      Announce();
      backoff = absl::Milliseconds(200);
      while (!stopped_) {
        connection.await_notification(0, 250000);
      }
    } catch (const std::exception&) {
      if (!stopped_) {
        log::Warning("outbox listener lost its connection; reconnecting");
        absl::SleepFor(backoff);
        backoff = std::min(backoff * 2, absl::Seconds(5));
      }
    }
  }
}

absl::Status AuthorizeFeedReader(const server::CallContext& call) {
  if (call.principal->role != auth::Role::kService) {
    return absl::PermissionDeniedError(
        "only kosapo services may read event feeds");
  }
  return absl::OkStatus();
}

grpc::Status EventFeedService::ListEvents(grpc::ServerContext* context,
                                          const v1::ListEventsRequest* request,
                                          v1::ListEventsResponse* response) {
  return server::Serve(calls_, context, [&](const server::CallContext& call) {
    KOSAPO_RETURN_IF_ERROR(AuthorizeFeedReader(call));
    if (request->after_sequence() < 0) {
      return absl::InvalidArgumentError("after_sequence must not be negative");
    }
    KOSAPO_ASSIGN_OR_RETURN(
        const int limit,
        server::PageSize(request->page_size(), kDefaultBatch, kMaxBatch));
    return pg::InTransaction(
        pool_, "list events",
        [&](pqxx::work& tx) {
          response->Clear();
          response->set_head_sequence(HeadSequence(tx));
          for (auto& event : ReadEvents(tx, request->after_sequence(), limit)) {
            *response->add_events() = std::move(event);
          }
          return absl::OkStatus();
        },
        pg::TxOptions::ReadOnly());
  });
}

grpc::Status EventFeedService::WatchEvents(
    grpc::ServerContext* context, const v1::WatchEventsRequest* request,
    grpc::ServerWriter<v1::WatchEventsResponse>* writer) {
  return server::Serve(calls_, context, [&](const server::CallContext& call) {
    KOSAPO_RETURN_IF_ERROR(AuthorizeFeedReader(call));
    if (request->after_sequence() < 0) {
      return absl::InvalidArgumentError("after_sequence must not be negative");
    }
    KOSAPO_ASSIGN_OR_RETURN(
        const int limit,
        server::PageSize(request->max_batch_size(), kDefaultBatch, kMaxBatch,
                         "max_batch_size"));
    int64_t cursor = request->after_sequence();
    while (true) {
      if (context->IsCancelled()) {
        return absl::CancelledError("watch cancelled by the client");
      }
      if (notifier_.stopped()) {
        return absl::UnavailableError("server draining; reconnect");
      }
      // Read the generation before the events, so a commit announced between
      // the read and the wait is not slept through.
      const uint64_t seen = notifier_.generation();
      v1::WatchEventsResponse batch;
      absl::Status read = pg::InTransaction(
          pool_, "watch events",
          [&](pqxx::work& tx) {
            batch.Clear();
            for (auto& event : ReadEvents(tx, cursor, limit)) {
              *batch.add_events() = std::move(event);
            }
            return absl::OkStatus();
          },
          pg::TxOptions::ReadOnly());
      KOSAPO_RETURN_IF_ERROR(read);
      if (batch.events_size() > 0) {
        cursor = batch.events(batch.events_size() - 1).sequence();
        if (!writer->Write(batch)) {
          return absl::CancelledError("client went away");
        }
        continue;  // more may be waiting: read again before sleeping
      }
      notifier_.Wait(seen, poll_interval_);
    }
  });
}

void ServeEventFeed(server::ServiceRuntime& runtime) {
  auto notifier = std::make_shared<OutboxNotifier>(runtime.config().db.url,
                                                   runtime.config().db.schema);
  notifier->Start();
  runtime.Keep(notifier);
  runtime.OnDrain([notifier] { notifier->Stop(); });
  runtime.AddService(std::make_shared<EventFeedService>(
      runtime.pool(), runtime.calls(), *notifier));
  runtime.metrics().AddQueryGauge(
      runtime.pool(),
      {"kosapo_event_feed_last_sequence",
       "Sequence of the last event appended to this service's feed.",
       "SELECT last_sequence FROM outbox_sequence", ""});
  runtime.metrics().AddQueryGauge(
      runtime.pool(),
      {"kosapo_event_consumer_checkpoint_sequence",
       "Sequence of the last event this service applied, per feed it follows.",
       "SELECT source, last_sequence FROM consumer_checkpoints", "source"});
}

}  // namespace kosapo::events
