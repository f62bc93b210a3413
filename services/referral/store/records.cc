// Shared store helpers: JSON bodies, request ids, audit, etags.
#include "services/referral/store/records.h"

#include <google/protobuf/util/json_util.h>

#include <memory>
#include <pqxx/result>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/crypto/proto_fields.h"
#include "common/pg/errors.h"

namespace kosapo::referral {

std::string ToBody(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

void FromBody(const std::string& json, google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  (void)google::protobuf::util::JsonStringToMessage(json, message, options);
}

absl::StatusOr<std::string> SealedBody(const google::protobuf::Message& message,
                                       absl::Span<const char* const> text,
                                       absl::string_view place,
                                       absl::string_view owner,
                                       const crypto::FieldCipher& cipher) {
  std::unique_ptr<google::protobuf::Message> sealed(message.New());
  sealed->CopyFrom(message);
  KOSAPO_RETURN_IF_ERROR(
      crypto::SealFields(*sealed, text, place, owner, cipher));
  return ToBody(*sealed);
}

void FromSealedBody(const std::string& json, absl::Span<const char* const> text,
                    absl::string_view place, absl::string_view owner,
                    const crypto::FieldCipher& cipher,
                    google::protobuf::Message* message) {
  FromBody(json, message);
  const absl::Status opened =
      crypto::OpenFields(*message, text, place, owner, cipher);
  if (!opened.ok()) {
    throw pg::StatusError(opened);
  }
}

std::string OpenOrThrow(const crypto::FieldCipher& cipher,
                        const std::string& stored, absl::string_view place,
                        absl::string_view owner) {
  return pg::ValueOrThrow(
      cipher.Open(stored, crypto::FieldContext(place, owner)));
}

int64_t NowMicros(pqxx::work& tx) {
  return tx
      .exec1(
          "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint")[0]
      .as<int64_t>();
}

absl::StatusOr<bool> FirstWrite(pqxx::work& tx, absl::string_view resource,
                                absl::string_view request_id,
                                absl::string_view method) {
  if (!tx.exec_params("INSERT INTO write_requests (resource, request_id,"
                      " method) VALUES ($1, $2, $3)"
                      " ON CONFLICT DO NOTHING RETURNING 1",
                      std::string(resource), std::string(request_id),
                      std::string(method))
           .empty()) {
    return true;
  }
  const std::string first =
      tx.exec_params1(
            "SELECT method FROM write_requests"
            " WHERE resource = $1 AND request_id = $2",
            std::string(resource), std::string(request_id))[0]
          .as<std::string>();
  if (first != method) {
    return absl::InvalidArgumentError(
        absl::StrCat("request_id: already used for ", first, " on ", resource,
                     "; give each write its own id"));
  }
  return false;
}

void Audit(pqxx::work& tx, const std::vector<std::string>& resources,
           const Caller& caller, absl::string_view access) {
  if (resources.empty()) {
    return;
  }
  tx.exec_params0(
      "INSERT INTO access_audit (resource, subject, role, method, access,"
      " request_id, purpose)"
      " SELECT unnest($1::text[]), $2, $3, $4, $5, $6, $7",
      TextArray(resources), caller.subject, caller.role, caller.method,
      std::string(access), caller.request_id, caller.purpose);
}

absl::Status CheckEtag(absl::string_view resource, int64_t revision,
                       absl::string_view etag) {
  if (!etag.empty() && etag != absl::StrCat(revision)) {
    return absl::AbortedError(
        absl::StrCat(resource, " changed since it was read (etag ", etag,
                     ", now ", revision, "): read it again and retry"));
  }
  return absl::OkStatus();
}

std::string CreatedAfterSql(absl::string_view prefix, int us_param,
                            int id_param) {
  return absl::StrCat(
      "($", id_param, "::bigint = 0 OR (", prefix, "create_time, ", prefix,
      "id) > ('epoch'::timestamptz + $", us_param,
      "::bigint * interval '1 microsecond', $", id_param, "::bigint))");
}

}  // namespace kosapo::referral
