#include "common/types/enum_text.h"

#include <google/protobuf/type.pb.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo {
namespace {

// A generated enum every protobuf installation has: TYPE_UNKNOWN = 0,
// TYPE_DOUBLE = 1, ..., TYPE_SINT64 = 18.
using Kind = google::protobuf::Field_Kind;

KOSAPO_DECLARE_ENUM_TEXT(Kind)
KOSAPO_DEFINE_ENUM_TEXT(Kind, "TYPE_")

TEST(EnumTextTest, IsTheNameWithoutThePrefixInLowerCase) {
  EXPECT_EQ(TextOfEnum(google::protobuf::Field_Kind_TYPE_DOUBLE, "TYPE_"),
            "double");
  EXPECT_EQ(TextOfEnum(google::protobuf::Field_Kind_TYPE_SINT64, "TYPE_"),
            "sint64");
  EXPECT_EQ(
      EnumNumberText(google::protobuf::Field_Kind_descriptor(), 9, "TYPE_"),
      "string");
}

TEST(EnumTextTest, UnspecifiedAndUnknownNumbersAreEmpty) {
  EXPECT_EQ(TextOfEnum(google::protobuf::Field_Kind_TYPE_UNKNOWN, "TYPE_"), "");
  EXPECT_EQ(TextOfEnum(static_cast<Kind>(99), "TYPE_"), "");
}

TEST(EnumTextTest, ReadsBackInEitherCase) {
  EXPECT_EQ(EnumOfText<Kind>("double", "TYPE_"),
            google::protobuf::Field_Kind_TYPE_DOUBLE);
  EXPECT_EQ(EnumOfText<Kind>("SINT64", "TYPE_"),
            google::protobuf::Field_Kind_TYPE_SINT64);
  EXPECT_EQ(EnumTextNumber(google::protobuf::Field_Kind_descriptor(), "string",
                           "TYPE_"),
            9);
}

TEST(EnumTextTest, EmptyAndUnknownTextReadAsUnspecified) {
  EXPECT_EQ(EnumOfText<Kind>("", "TYPE_"),
            google::protobuf::Field_Kind_TYPE_UNKNOWN);
  EXPECT_EQ(EnumOfText<Kind>("decimal", "TYPE_"),
            google::protobuf::Field_Kind_TYPE_UNKNOWN);
  // The prefix is not part of the text.
  EXPECT_EQ(EnumOfText<Kind>("type_double", "TYPE_"),
            google::protobuf::Field_Kind_TYPE_UNKNOWN);
}

TEST(EnumTextTest, TheMacrosDefineARoundTrippingPair) {
  for (int number = 1; number <= 18; ++number) {
    const Kind kind = static_cast<Kind>(number);
    Kind back = google::protobuf::Field_Kind_TYPE_UNKNOWN;
    FromText(ToText(kind), &back);
    EXPECT_EQ(back, kind) << ToText(kind);
  }
  Kind value = google::protobuf::Field_Kind_TYPE_BOOL;
  FromText("", &value);
  EXPECT_EQ(value, google::protobuf::Field_Kind_TYPE_UNKNOWN);
}

}  // namespace
}  // namespace kosapo
