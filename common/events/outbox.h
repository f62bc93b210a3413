// The transactional outbox: the write side (AppendEvent, called by a
// service's store inside the transaction that changes state) and the read
// side used by the event feed.
#ifndef KOSAPO_COMMON_EVENTS_OUTBOX_H_
#define KOSAPO_COMMON_EVENTS_OUTBOX_H_

#include <google/protobuf/message.h>

#include <cstdint>
#include <pqxx/transaction>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/pg/migrations.h"
#include "kosapo/events/v1/events.pb.h"

namespace kosapo::events {

// The outbox and checkpoint tables, applied to every service's schema before
// its own migrations (component "platform").
pg::MigrationSet PlatformMigrations();

// Appends `payload` as the next event of this service's feed, in `tx`, and
// returns its sequence. The event is visible to readers only if `tx`
// commits. `subject` is the resource name the event is about ("cases/12").
// Holds the feed's sequence lock until `tx` ends: append last.
// Throws what libpqxx throws (the caller's InTransaction maps it).
int64_t AppendEvent(pqxx::work& tx, absl::string_view subject,
                    const google::protobuf::Message& payload,
                    absl::string_view trace_id = "");

// Committed events with sequence > `after`, oldest first: at most `limit`,
// and fewer once their payloads pass `max_bytes`. Throws like AppendEvent.
std::vector<v1::Event> ReadEvents(pqxx::transaction_base& tx, int64_t after,
                                  int limit, size_t max_bytes = 1 << 20);

// The highest committed sequence (0 for an empty feed).
int64_t HeadSequence(pqxx::transaction_base& tx);

// Commits of appended events are announced on this channel with the payload
// "<schema>:<sequence>". One channel for all schemas, since a schema name
// may be too long for a channel name (63 bytes); listeners filter by prefix.
inline constexpr char kNotifyChannel[] = "kosapo_outbox";
std::string NotifyPayloadPrefix(absl::string_view schema);

}  // namespace kosapo::events

#endif  // KOSAPO_COMMON_EVENTS_OUTBOX_H_
