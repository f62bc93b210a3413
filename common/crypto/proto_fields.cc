#include "common/crypto/proto_fields.h"

#include <google/protobuf/descriptor.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace kosapo::crypto {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

using Transform = absl::StatusOr<std::string> (FieldCipher::*)(
    absl::string_view, absl::string_view) const;

absl::Status Apply(Message& message, const std::vector<std::string>& names,
                   size_t depth, const std::string& context,
                   const FieldCipher& cipher, Transform transform) {
  const FieldDescriptor* field =
      message.GetDescriptor()->FindFieldByName(names[depth]);
  const bool last = depth + 1 == names.size();
  if (field == nullptr ||
      (last && field->type() != FieldDescriptor::TYPE_STRING) ||
      (!last && field->type() != FieldDescriptor::TYPE_MESSAGE)) {
    return absl::InternalError(absl::StrCat(
        context, ": no such string field in ", message.GetTypeName()));
  }
  const Reflection* reflection = message.GetReflection();
  if (last) {
    if (field->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        absl::StatusOr<std::string> value = (cipher.*transform)(
            reflection->GetRepeatedString(message, field, i), context);
        if (!value.ok()) {
          return value.status();
        }
        reflection->SetRepeatedString(&message, field, i, *std::move(value));
      }
      return absl::OkStatus();
    }
    absl::StatusOr<std::string> value =
        (cipher.*transform)(reflection->GetString(message, field), context);
    if (!value.ok()) {
      return value.status();
    }
    reflection->SetString(&message, field, *std::move(value));
    return absl::OkStatus();
  }
  if (field->is_repeated()) {
    for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
      if (absl::Status status =
              Apply(*reflection->MutableRepeatedMessage(&message, field, i),
                    names, depth + 1, context, cipher, transform);
          !status.ok()) {
        return status;
      }
    }
    return absl::OkStatus();
  }
  if (!reflection->HasField(message, field)) {
    return absl::OkStatus();
  }
  return Apply(*reflection->MutableMessage(&message, field), names, depth + 1,
               context, cipher, transform);
}

absl::Status ApplyAll(Message& message, absl::Span<const char* const> paths,
                      absl::string_view place, absl::string_view owner,
                      const FieldCipher& cipher, Transform transform) {
  for (absl::string_view path : paths) {
    const std::vector<std::string> names = absl::StrSplit(path, '.');
    if (absl::Status status =
            Apply(message, names, 0,
                  FieldContext(absl::StrCat(place, ".", path), owner), cipher,
                  transform);
        !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string FieldContext(absl::string_view place, absl::string_view owner) {
  return absl::StrCat(place, "|", owner);
}

absl::Status SealFields(Message& message, absl::Span<const char* const> paths,
                        absl::string_view place, absl::string_view owner,
                        const FieldCipher& cipher) {
  return ApplyAll(message, paths, place, owner, cipher, &FieldCipher::Seal);
}

absl::Status OpenFields(Message& message, absl::Span<const char* const> paths,
                        absl::string_view place, absl::string_view owner,
                        const FieldCipher& cipher) {
  return ApplyAll(message, paths, place, owner, cipher, &FieldCipher::Open);
}

}  // namespace kosapo::crypto
