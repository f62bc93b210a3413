// Sealing chosen string fields of a message kept as JSON in a jsonb column
// (a conference's assessment, a plan's goals), so the rest of the record
// (dates, levels, counts) keeps its JSON shape and only the free text is
// ciphertext.
#ifndef KOSAPO_COMMON_CRYPTO_PROTO_FIELDS_H_
#define KOSAPO_COMMON_CRYPTO_PROTO_FIELDS_H_

#include <google/protobuf/message.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/crypto/field_cipher.h"

namespace kosapo::crypto {

// Paths are field names from `message`, dotted through message fields
// ("needs.note"); each field on the way may be repeated, and the last is a
// string. Each value is sealed or opened with the context
// "<place>.<path>|<owner>", e.g. "cases.assessments.body.needs.note|cases/12".
absl::Status SealFields(google::protobuf::Message& message,
                        absl::Span<const char* const> paths,
                        absl::string_view place, absl::string_view owner,
                        const FieldCipher& cipher);
absl::Status OpenFields(google::protobuf::Message& message,
                        absl::Span<const char* const> paths,
                        absl::string_view place, absl::string_view owner,
                        const FieldCipher& cipher);

// The context of a column value: "<place>|<owner>".
std::string FieldContext(absl::string_view place, absl::string_view owner);

}  // namespace kosapo::crypto

#endif  // KOSAPO_COMMON_CRYPTO_PROTO_FIELDS_H_
