// What every referral store shares: the caller recorded with each write and
// audit row, the JSON bodies that keep a message's API form, request ids of
// retried writes, etags, and the database's clock for record times.
#ifndef KOSAPO_SERVICES_REFERRAL_STORE_RECORDS_H_
#define KOSAPO_SERVICES_REFERRAL_STORE_RECORDS_H_

#include <google/protobuf/message.h>

#include <cstdint>
#include <pqxx/transaction>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/crypto/field_cipher.h"
#include "common/pg/arrays.h"
#include "common/server/caller.h"

namespace kosapo::referral {

// Who acts, for records, audit rows and events.
using Caller = server::Caller;

// The JSON form of `message` with the proto field names, and back. Bodies
// are written by this service from validated messages, so they parse.
std::string ToBody(const google::protobuf::Message& message);
void FromBody(const std::string& json, google::protobuf::Message* message);

// ToBody of `message` with its `text` fields (paths as in
// crypto::SealFields) sealed for `owner` at `place`.
absl::StatusOr<std::string> SealedBody(const google::protobuf::Message& message,
                                       absl::Span<const char* const> text,
                                       absl::string_view place,
                                       absl::string_view owner,
                                       const crypto::FieldCipher& cipher);
// FromBody, then opens the `text` fields; throws pg::StatusError when one
// does not open (for row decoders inside a transaction).
void FromSealedBody(const std::string& json, absl::Span<const char* const> text,
                    absl::string_view place, absl::string_view owner,
                    const crypto::FieldCipher& cipher,
                    google::protobuf::Message* message);
// A sealed column value opened, or throws pg::StatusError.
std::string OpenOrThrow(const crypto::FieldCipher& cipher,
                        const std::string& stored, absl::string_view place,
                        absl::string_view owner);

// A PostgreSQL array literal of `values` ("{\"a\",\"b\"}"), for $n::text[].
using pg::TextArray;

// The transaction's clock_timestamp() in microseconds since the epoch.
int64_t NowMicros(pqxx::work& tx);

// Remembers that `request_id` wrote to `resource` through `method`. True
// the first time; false for a retry of that write, which must not act
// again; INVALID_ARGUMENT when the id was used for another method.
absl::StatusOr<bool> FirstWrite(pqxx::work& tx, absl::string_view resource,
                                absl::string_view request_id,
                                absl::string_view method);

// One audit row per resource, with the caller's stated purpose.
void Audit(pqxx::work& tx, const std::vector<std::string>& resources,
           const Caller& caller, absl::string_view access);

// ABORTED when `etag` is given and is not `revision`.
absl::Status CheckEtag(absl::string_view resource, int64_t revision,
                       absl::string_view etag);

// Where a list in creation order continues. Ids are a keyed permutation of
// a sequence (migration 0005: they tell nothing of other municipalities'
// volume), so they do not follow creation: such lists order by
// (create_time, id) and continue after the last pair shown.
struct CreatedAfter {
  // Microseconds since the epoch.
  int64_t create_us = 0;
  // 0: from the first entry.
  int64_t id = 0;
};

// The SQL condition that a row (columns create_time and id, prefixed with
// `prefix`, e.g. "u.") comes after the CreatedAfter whose create_us and id
// are parameters $`us_param` and $`id_param`; true when the id is 0.
std::string CreatedAfterSql(absl::string_view prefix, int us_param,
                            int id_param);

}  // namespace kosapo::referral

#endif  // KOSAPO_SERVICES_REFERRAL_STORE_RECORDS_H_
