// The consuming side of an event feed: follows a producer's feed with
// WatchEvents and applies each batch in one transaction together with the
// checkpoint, so every event takes effect exactly once however often it is
// delivered, in order, across restarts of either side. While the producer is
// unreachable it retries with capped, jittered exponential backoff.
//
// A handler error stops progress at that event (later events depend on it):
// the batch rolls back and is retried after backoff, and the error is logged.
#ifndef KOSAPO_COMMON_EVENTS_CONSUMER_H_
#define KOSAPO_COMMON_EVENTS_CONSUMER_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/transaction>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/pg/pool.h"
#include "kosapo/events/v1/events.grpc.pb.h"

namespace kosapo::events {

// Applies one event inside the consumer's transaction. Must only write
// through `tx`; it runs again if the transaction is retried.
using EventHandler =
    std::function<absl::Status(pqxx::work& tx, const v1::Event& event)>;

// Adds credentials and tracing to the consumer's outgoing calls.
using PrepareCall = std::function<absl::Status(grpc::ClientContext& context)>;

struct ConsumerOptions {
  // Names the producer in consumer_checkpoints, e.g. "screening".
  std::string source;
  int max_batch = 500;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(10);
};

// Where one of this service's consumers stands in a producer's feed.
struct CheckpointPosition {
  std::string source;
  int64_t last_sequence = 0;
  absl::Time update_time;
};

// Every consumer checkpoint in the service's schema, by source.
absl::StatusOr<std::vector<CheckpointPosition>> ReadCheckpoints(pg::Pool& pool);

class EventConsumer {
 public:
  EventConsumer(pg::Pool& pool, std::shared_ptr<grpc::Channel> channel,
                PrepareCall prepare, ConsumerOptions options,
                EventHandler handler);
  ~EventConsumer();

  void Start();
  // Ends the stream and the worker. Idempotent.
  void Stop();

  // The checkpoint as stored (0 before the first event).
  absl::StatusOr<int64_t> Checkpoint();
  // Waits until events up to `sequence` are applied; false on timeout.
  bool WaitFor(int64_t sequence, absl::Duration timeout);

 private:
  void Run();
  absl::StatusOr<int64_t> LoadCheckpoint();
  absl::StatusOr<int64_t> Apply(const v1::WatchEventsResponse& batch);
  void Backoff(absl::Duration* delay);

  pg::Pool& pool_;
  std::unique_ptr<v1::EventFeed::Stub> stub_;
  const PrepareCall prepare_;
  const ConsumerOptions options_;
  const EventHandler handler_;

  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopped_ = false;                        // guarded by mutex_
  grpc::ClientContext* active_call_ = nullptr;  // guarded by mutex_
  int64_t applied_ = -1;                        // guarded by mutex_
  std::thread thread_;
};

}  // namespace kosapo::events

#endif  // KOSAPO_COMMON_EVENTS_CONSUMER_H_
