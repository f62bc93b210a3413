#include "common/events/outbox.h"

#include <pqxx/binarystring>
#include <pqxx/result>

#include "absl/strings/str_cat.h"
#include "common/base/proto_time.h"
#include "common/events/platform_migrations.h"

namespace kosapo::events {

pg::MigrationSet PlatformMigrations() {
  return {"platform", internal::EmbeddedPlatformMigrations()};
}

std::string NotifyPayloadPrefix(absl::string_view schema) {
  return absl::StrCat(schema, ":");
}

int64_t AppendEvent(pqxx::work& tx, absl::string_view subject,
                    const google::protobuf::Message& payload,
                    absl::string_view trace_id) {
  const std::string bytes = payload.SerializeAsString();
  // One round trip: the sequence, the event, and the notification that is
  // delivered to listeners when (and only if) the transaction commits.
  const pqxx::row row = tx.exec_params1(
      "WITH next AS ("
      "  UPDATE outbox_sequence SET last_sequence = last_sequence + 1"
      "  RETURNING last_sequence),"
      " appended AS ("
      "  INSERT INTO outbox_events (sequence, subject, type_url, payload,"
      "  trace_id)"
      "  SELECT last_sequence, $1, $2, $3, $4 FROM next"
      "  RETURNING sequence)"
      " SELECT sequence,"
      "  pg_notify($5, current_schema() || ':' || sequence::text)"
      " FROM appended",
      std::string(subject),
      absl::StrCat("type.googleapis.com/",
                   payload.GetDescriptor()->full_name()),
      pqxx::binarystring(bytes.data(), bytes.size()), std::string(trace_id),
      std::string(kNotifyChannel));
  return row[0].as<int64_t>();
}

std::vector<v1::Event> ReadEvents(pqxx::transaction_base& tx, int64_t after,
                                  int limit, size_t max_bytes) {
  const pqxx::result rows = tx.exec_params(
      "SELECT sequence, event_id::text, subject, type_url, payload, trace_id,"
      "       (extract(epoch FROM create_time) * 1000000)::bigint"
      "  FROM outbox_events WHERE sequence > $1 ORDER BY sequence LIMIT $2",
      after, limit);
  std::vector<v1::Event> events;
  size_t bytes = 0;
  for (const pqxx::row& row : rows) {
    v1::Event event;
    event.set_sequence(row[0].as<int64_t>());
    event.set_event_id(row[1].as<std::string>());
    event.set_subject(row[2].as<std::string>());
    event.mutable_payload()->set_type_url(row[3].as<std::string>());
    const pqxx::binarystring payload(row[4]);
    event.mutable_payload()->set_value(payload.str());
    event.set_trace_id(row[5].as<std::string>());
    SetTimestampMicros(row[6].as<int64_t>(), event.mutable_create_time());
    bytes += event.ByteSizeLong();
    events.push_back(std::move(event));
    if (bytes >= max_bytes) {
      break;  // the rest comes in the next batch
    }
  }
  return events;
}

int64_t HeadSequence(pqxx::transaction_base& tx) {
  return tx.exec1("SELECT last_sequence FROM outbox_sequence")[0].as<int64_t>();
}

}  // namespace kosapo::events
