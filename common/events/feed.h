// The server side of the event feed: kosapo.events.v1.EventFeed served from
// the service's outbox, with commits announced through LISTEN/NOTIFY so that
// watchers see new events at once (and by polling, should a notification be
// missed while the listener reconnects).
#ifndef KOSAPO_COMMON_EVENTS_FEED_H_
#define KOSAPO_COMMON_EVENTS_FEED_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/pg/pool.h"
#include "common/server/call_context.h"
#include "common/server/runtime.h"
#include "kosapo/events/v1/events.grpc.pb.h"

namespace kosapo::events {

// Listens for outbox commits on a dedicated connection and wakes waiters.
class OutboxNotifier {
 public:
  OutboxNotifier(std::string url, std::string schema);
  ~OutboxNotifier();

  void Start();
  // Wakes every waiter for good; Wait() returns at once afterwards.
  void Stop();
  bool stopped() const { return stopped_.load(); }

  // A counter that moves on every announced commit.
  uint64_t generation() const;
  // Returns when the generation differs from `seen`, after `timeout`, or
  // when stopped, whichever comes first.
  void Wait(uint64_t seen, absl::Duration timeout) const;

 private:
  void Run();
  void Announce();

  const std::string url_;
  const std::string schema_;
  std::atomic<bool> stopped_{false};
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  uint64_t generation_ = 0;  // guarded by mutex_
  std::thread thread_;
};

class EventFeedService final : public v1::EventFeed::Service {
 public:
  // `poll_interval` bounds how late a watcher can be if a notification is
  // lost.
  EventFeedService(pg::Pool& pool, const server::CallRegistry& calls,
                   OutboxNotifier& notifier,
                   absl::Duration poll_interval = absl::Seconds(1))
      : pool_(pool),
        calls_(calls),
        notifier_(notifier),
        poll_interval_(poll_interval) {}

  grpc::Status ListEvents(grpc::ServerContext* context,
                          const v1::ListEventsRequest* request,
                          v1::ListEventsResponse* response) override;
  grpc::Status WatchEvents(
      grpc::ServerContext* context, const v1::WatchEventsRequest* request,
      grpc::ServerWriter<v1::WatchEventsResponse>* writer) override;

 private:
  pg::Pool& pool_;
  const server::CallRegistry& calls_;
  OutboxNotifier& notifier_;
  const absl::Duration poll_interval_;
};

// Only services read each other's feeds: events carry case data.
absl::Status AuthorizeFeedReader(const server::CallContext& call);

// Serves this service's event feed from `runtime` (notifier started, stopped
// on drain so open watches end and their clients reconnect elsewhere), and
// exports where the feed and this service's consumers stand:
//   kosapo_event_feed_last_sequence            the last sequence appended
//   kosapo_event_consumer_checkpoint_sequence{source}
//                                              the last applied, per feed
// A consumer's lag is the producer's first gauge minus its second (the
// KosapoEventConsumerLag alert in deploy/).
void ServeEventFeed(server::ServiceRuntime& runtime);

}  // namespace kosapo::events

#endif  // KOSAPO_COMMON_EVENTS_FEED_H_
