// The text an API enum value is stored as (or named by in messages): the
// value's proto name without the enum's prefix, in lower case
// (APPROACH_STATUS_OUTREACH_DONE -> "outreach_done"). Storage never depends
// on the proto numbers; the names are the API's compatibility promise, so
// they never change. UNSPECIFIED (0) is stored as "", and a text no value
// has reads back as 0.
//
// A service gives each of its enums a ToText/FromText pair in its own
// namespace with the macros below:
//
//   // enum_text.h
//   KOSAPO_DECLARE_ENUM_TEXT(v1::CaseState)
//   // enum_text.cc
//   KOSAPO_DEFINE_ENUM_TEXT(v1::CaseState, "CASE_STATE_")
#ifndef KOSAPO_COMMON_TYPES_ENUM_TEXT_H_
#define KOSAPO_COMMON_TYPES_ENUM_TEXT_H_

#include <google/protobuf/descriptor.h>
#include <google/protobuf/generated_enum_reflection.h>

#include <string>

#include "absl/strings/string_view.h"

namespace kosapo {

// The stored text of value `number` of `descriptor`'s enum, whose value
// names all start with `prefix` ("CASE_STATE_"); "" for 0 and for numbers
// the enum does not have.
std::string EnumNumberText(const google::protobuf::EnumDescriptor* descriptor,
                           int number, absl::string_view prefix);
// The number of the value whose stored text is `text` (either case); 0 for
// "" and for a text no value has.
int EnumTextNumber(const google::protobuf::EnumDescriptor* descriptor,
                   absl::string_view text, absl::string_view prefix);

// The same for a generated enum type.
template <typename Enum>
std::string TextOfEnum(Enum value, absl::string_view prefix) {
  return EnumNumberText(google::protobuf::GetEnumDescriptor<Enum>(), value,
                        prefix);
}
template <typename Enum>
Enum EnumOfText(absl::string_view text, absl::string_view prefix) {
  return static_cast<Enum>(EnumTextNumber(
      google::protobuf::GetEnumDescriptor<Enum>(), text, prefix));
}

}  // namespace kosapo

// Declares `std::string ToText(Enum)` and `void FromText(absl::string_view,
// Enum*)` in the current namespace.
#define KOSAPO_DECLARE_ENUM_TEXT(Enum) \
  std::string ToText(Enum value);      \
  void FromText(absl::string_view text, Enum* value);

// Defines them, for an enum whose value names start with `prefix`.
#define KOSAPO_DEFINE_ENUM_TEXT(Enum, prefix)          \
  std::string ToText(Enum value) {                     \
    return ::kosapo::TextOfEnum(value, prefix);        \
  }                                                    \
  void FromText(absl::string_view text, Enum* value) { \
    *value = ::kosapo::EnumOfText<Enum>(text, prefix); \
  }

#endif  // KOSAPO_COMMON_TYPES_ENUM_TEXT_H_
