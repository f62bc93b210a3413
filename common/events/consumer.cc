#include "common/events/consumer.h"

#include <pqxx/result>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/pg/transaction.h"
#include "common/server/grpc_status.h"

namespace kosapo::events {

EventConsumer::EventConsumer(pg::Pool& pool,
                             std::shared_ptr<grpc::Channel> channel,
                             PrepareCall prepare, ConsumerOptions options,
                             EventHandler handler)
    : pool_(pool),
      stub_(v1::EventFeed::NewStub(std::move(channel))),
      prepare_(std::move(prepare)),
      options_(std::move(options)),
      handler_(std::move(handler)) {}

EventConsumer::~EventConsumer() { Stop(); }

void EventConsumer::Start() {
  thread_ = std::thread([this] { Run(); });
}

void EventConsumer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
    if (active_call_ != nullptr) {
      active_call_->TryCancel();
    }
  }
  changed_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

absl::StatusOr<int64_t> EventConsumer::LoadCheckpoint() {
  return pg::InTransaction(
      pool_, "load checkpoint", [&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
        tx.exec_params0(
            "INSERT INTO consumer_checkpoints (source, last_sequence)"
            " VALUES ($1, 0) ON CONFLICT (source) DO NOTHING",
            options_.source);
        return tx
            .exec_params1(
                "SELECT last_sequence FROM consumer_checkpoints WHERE source = "
                "$1",
                options_.source)[0]
            .as<int64_t>();
      });
}

absl::StatusOr<int64_t> EventConsumer::Checkpoint() { return LoadCheckpoint(); }

absl::StatusOr<int64_t> EventConsumer::Apply(
    const v1::WatchEventsResponse& batch) {
  return pg::InTransaction(
      pool_, "apply events", [&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
        int64_t last = tx.exec_params1(
                             "SELECT last_sequence FROM consumer_checkpoints"
                             " WHERE source = $1 FOR UPDATE",
                             options_.source)[0]
                           .as<int64_t>();
        const int64_t before = last;
        for (const v1::Event& event : batch.events()) {
          if (event.sequence() <= last) {
            continue;  // re-delivered: already applied
          }
          if (event.sequence() != last + 1) {
            return absl::DataLossError(absl::StrCat("feed ", options_.source,
                                                    " skipped from ", last,
                                                    " to ", event.sequence()));
          }
          absl::Status applied = handler_(tx, event);
          if (!applied.ok()) {
            return absl::Status(
                applied.code(),
                absl::StrCat("event ", options_.source, "#", event.sequence(),
                             " (", event.payload().type_url(),
                             "): ", applied.message()));
          }
          last = event.sequence();
        }
        if (last != before) {
          tx.exec_params0(
              "UPDATE consumer_checkpoints SET last_sequence = $2,"
              " update_time = now() WHERE source = $1",
              options_.source, last);
        }
        return last;
      });
}

void EventConsumer::Backoff(absl::Duration* delay) {
  thread_local std::minstd_rand rng(std::random_device{}());
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  const absl::Duration wait = *delay * jitter(rng);
  *delay = std::min(*delay * 2, options_.max_backoff);
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, absl::ToChronoMilliseconds(wait),
                    [this] { return stopped_; });
}

void EventConsumer::Run() {
  absl::Duration delay = options_.initial_backoff;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopped_) {
        return;
      }
    }
    auto checkpoint = LoadCheckpoint();
    if (!checkpoint.ok()) {
      log::Warning("consumer cannot read its checkpoint; retrying",
                   {{"source", options_.source},
                    {"error", std::string(checkpoint.status().message())}});
      Backoff(&delay);
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      applied_ = std::max(applied_, *checkpoint);
    }
    changed_.notify_all();

    grpc::ClientContext context;
    if (absl::Status prepared = prepare_(context); !prepared.ok()) {
      log::Error("consumer cannot prepare its call",
                 {{"source", options_.source},
                  {"error", std::string(prepared.message())}});
      Backoff(&delay);
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopped_) {
        return;
      }
      active_call_ = &context;
    }
    v1::WatchEventsRequest request;
    request.set_after_sequence(*checkpoint);
    request.set_max_batch_size(options_.max_batch);
    auto stream = stub_->WatchEvents(&context, request);
    v1::WatchEventsResponse batch;
    absl::Status failure;
    while (stream->Read(&batch)) {
      auto applied = Apply(batch);
      if (!applied.ok()) {
        failure = applied.status();
        break;
      }
      delay = options_.initial_backoff;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        applied_ = *applied;
      }
      changed_.notify_all();
    }
    context.TryCancel();
    const grpc::Status finished = stream->Finish();
    bool stopped;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      active_call_ = nullptr;
      stopped = stopped_;
    }
    if (stopped) {
      return;
    }
    if (!failure.ok()) {
      log::Error("consumer could not apply events; will retry",
                 {{"source", options_.source},
                  {"error", std::string(failure.message())}});
    } else {
      log::Warning("event stream ended; reconnecting",
                   {{"source", options_.source},
                    {"grpc_code",
                     std::string(server::GrpcCodeName(finished.error_code()))},
                    {"error", finished.error_message()}});
    }
    Backoff(&delay);
  }
}

bool EventConsumer::WaitFor(int64_t sequence, absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                           [&] { return applied_ >= sequence; });
}

absl::StatusOr<std::vector<CheckpointPosition>> ReadCheckpoints(
    pg::Pool& pool) {
  return pg::InTransaction(
      pool, "read consumer checkpoints",
      [](pqxx::work& tx) -> absl::StatusOr<std::vector<CheckpointPosition>> {
        std::vector<CheckpointPosition> positions;
        for (const pqxx::row& row :
             tx.exec("SELECT source, last_sequence,"
                     " (extract(epoch FROM update_time) * 1000000)::bigint"
                     " FROM consumer_checkpoints ORDER BY source")) {
          positions.push_back({row[0].as<std::string>(), row[1].as<int64_t>(),
                               absl::FromUnixMicros(row[2].as<int64_t>())});
        }
        return positions;
      },
      pg::TxOptions::ReadOnly());
}

}  // namespace kosapo::events
