// Enum values to and from their stored text, through the proto descriptors.
#include "common/types/enum_text.h"

#include "absl/strings/ascii.h"

namespace kosapo {

std::string EnumNumberText(const google::protobuf::EnumDescriptor* descriptor,
                           int number, absl::string_view prefix) {
  const google::protobuf::EnumValueDescriptor* value =
      descriptor->FindValueByNumber(number);
  if (value == nullptr || number == 0) {
    return "";
  }
  absl::string_view name = value->name();
  name.remove_prefix(prefix.size());
  return absl::AsciiStrToLower(name);
}

int EnumTextNumber(const google::protobuf::EnumDescriptor* descriptor,
                   absl::string_view text, absl::string_view prefix) {
  if (text.empty()) {
    return 0;
  }
  const std::string name =
      absl::AsciiStrToUpper(std::string(prefix) + std::string(text));
  const google::protobuf::EnumValueDescriptor* value =
      descriptor->FindValueByName(name);
  return value == nullptr ? 0 : value->number();
}

}  // namespace kosapo
