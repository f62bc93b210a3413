#include "common/server/input_wall.h"

#include <google/protobuf/descriptor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "common/types/text.h"

namespace kosapo::server {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Requests are shallow; anything deeper than this is not a kosapo request
// (protobuf's own parser already stops at 100 levels).
constexpr int kMaxDepth = 32;

absl::Status Invalid(absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

absl::Status CheckText(absl::string_view text, absl::string_view path) {
  size_t pos = 0;
  while (pos < text.size()) {
    const int32_t code_point = NextCodePoint(text, &pos);
    if (code_point < 0) {
      return Invalid(path, "not valid UTF-8");
    }
    if ((code_point < 0x20 && code_point != '\t' && code_point != '\n' &&
         code_point != '\r') ||
        code_point == 0x7f) {
      return Invalid(path, absl::StrFormat("contains control character U+%04X",
                                           code_point));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckEnum(const EnumDescriptor& type, int number,
                       absl::string_view path) {
  if (type.FindValueByNumber(number) == nullptr) {
    return Invalid(path,
                   absl::StrCat("unknown ", type.name(), " value ", number));
  }
  return absl::OkStatus();
}

bool IsLeapYear(int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int DaysInMonth(int64_t year, int64_t month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

int64_t IntField(const Message& message, absl::string_view name) {
  const FieldDescriptor* field =
      message.GetDescriptor()->FindFieldByName(std::string(name));
  if (field == nullptr) {
    return 0;
  }
  const Reflection& reflection = *message.GetReflection();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return reflection.GetInt32(message, field);
    case FieldDescriptor::CPPTYPE_INT64:
      return reflection.GetInt64(message, field);
    default:
      return 0;
  }
}

// kosapo.type.Date: all zero is "not set"; anything else is a calendar
// date with year 1-9999.
absl::Status CheckDate(const Message& date, absl::string_view path) {
  const int64_t year = IntField(date, "year");
  const int64_t month = IntField(date, "month");
  const int64_t day = IntField(date, "day");
  if (year == 0 && month == 0 && day == 0) {
    return absl::OkStatus();
  }
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 ||
      day > DaysInMonth(year, month)) {
    return Invalid(path, absl::StrFormat("%04d-%02d-%02d is not a date", year,
                                         month, day));
  }
  return absl::OkStatus();
}

// google.protobuf.Timestamp within 0001-01-01T00:00:00Z and
// 9999-12-31T23:59:59.999999999Z.
absl::Status CheckTimestamp(const Message& timestamp, absl::string_view path) {
  constexpr int64_t kMinSeconds = -62135596800;
  constexpr int64_t kMaxSeconds = 253402300799;
  const int64_t seconds = IntField(timestamp, "seconds");
  const int64_t nanos = IntField(timestamp, "nanos");
  if (seconds < kMinSeconds || seconds > kMaxSeconds || nanos < 0 ||
      nanos > 999999999) {
    return Invalid(path, "timestamp outside years 1 to 9999");
  }
  return absl::OkStatus();
}

absl::Status CheckMessage(const Message& message, const std::string& path,
                          int depth);

absl::Status CheckValue(const Message& message, const FieldDescriptor& field,
                        int index, const std::string& path, int depth) {
  const Reflection& reflection = *message.GetReflection();
  const bool repeated = field.is_repeated();
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      if (field.type() == FieldDescriptor::TYPE_BYTES) {
        return absl::OkStatus();
      }
      std::string scratch;
      const std::string& text =
          repeated ? reflection.GetRepeatedStringReference(message, &field,
                                                           index, &scratch)
                   : reflection.GetStringReference(message, &field, &scratch);
      return CheckText(text, path);
    }
    case FieldDescriptor::CPPTYPE_ENUM:
      return CheckEnum(
          *field.enum_type(),
          repeated ? reflection.GetRepeatedEnumValue(message, &field, index)
                   : reflection.GetEnumValue(message, &field),
          path);
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return CheckMessage(
          repeated ? reflection.GetRepeatedMessage(message, &field, index)
                   : reflection.GetMessage(message, &field),
          path, depth + 1);
    default:
      return absl::OkStatus();
  }
}

absl::Status CheckMessage(const Message& message, const std::string& path,
                          int depth) {
  if (depth > kMaxDepth) {
    return Invalid(path, "nested too deeply");
  }
  const Descriptor& type = *message.GetDescriptor();
  if (type.full_name() == "kosapo.type.Date") {
    return CheckDate(message, path);
  }
  if (type.full_name() == "google.protobuf.Timestamp") {
    return CheckTimestamp(message, path);
  }
  const Reflection& reflection = *message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection.ListFields(message, &fields);  // only the fields that are set
  for (const FieldDescriptor* field : fields) {
    const std::string field_path =
        path.empty() ? field->name() : absl::StrCat(path, ".", field->name());
    if (!field->is_repeated()) {
      if (absl::Status status =
              CheckValue(message, *field, -1, field_path, depth);
          !status.ok()) {
        return status;
      }
      continue;
    }
    const int size = reflection.FieldSize(message, field);
    for (int i = 0; i < size; ++i) {
      if (absl::Status status = CheckValue(
              message, *field, i, absl::StrCat(field_path, "[", i, "]"), depth);
          !status.ok()) {
        return status;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckRequest(const Message& request) {
  return CheckMessage(request, "", 0);
}

}  // namespace kosapo::server
