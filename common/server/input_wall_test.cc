#include "common/server/input_wall.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/timestamp.pb.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kosapo/type/date.pb.h"

namespace kosapo::server {
namespace {

using ::testing::HasSubstr;

// google.protobuf.Struct stands in for a request: text in map values and
// lists, an enum (NullValue), nesting.
google::protobuf::Struct Request(const std::string& text) {
  google::protobuf::Struct request;
  (*request.mutable_fields())["name"].set_string_value("山田 花子");
  auto* list = (*request.mutable_fields())["notes"].mutable_list_value();
  list->add_values()->set_string_value("line one\n\tline two\r\n");
  list->add_values()->set_string_value(text);
  return request;
}

TEST(InputWall, PassesOrdinaryTextWithTabsAndLineBreaks) {
  EXPECT_TRUE(CheckRequest(Request("O'Brien; DROP TABLE cases; --")).ok());
  EXPECT_TRUE(CheckRequest(Request("=HYPERLINK(\"x\")")).ok());
}

TEST(InputWall, RefusesNulAndControlCharactersNamingTheField) {
  const absl::Status nul = CheckRequest(Request(std::string("a\0b", 3)));
  EXPECT_EQ(nul.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(nul.message(),
              HasSubstr(".value.list_value.values[1].string_value: "
                        "contains control character U+0000"));
  EXPECT_THAT(CheckRequest(Request("bell\x07")).message(), HasSubstr("U+0007"));
  EXPECT_THAT(CheckRequest(Request("del\x7f")).message(), HasSubstr("U+007F"));
}

TEST(InputWall, RefusesInvalidUtf8) {
  // Reachable only through reflection-built messages (the parser refuses
  // it in proto3), checked all the same.
  EXPECT_THAT(CheckRequest(Request("\xff\xfe")).message(),
              HasSubstr("not valid UTF-8"));
}

TEST(InputWall, RefusesEnumValuesTheApiDoesNotDefine) {
  google::protobuf::Struct request;
  (*request.mutable_fields())["x"].set_null_value(
      static_cast<google::protobuf::NullValue>(7));
  const absl::Status status = CheckRequest(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("unknown NullValue value 7"));
  (*request.mutable_fields())["x"].set_null_value(google::protobuf::NULL_VALUE);
  EXPECT_TRUE(CheckRequest(request).ok());
}

TEST(InputWall, DatesAreUnsetOrCalendarDates) {
  type::Date date;
  EXPECT_TRUE(CheckRequest(date).ok());  // unset
  for (const auto& [y, m, d] : std::vector<std::tuple<int, int, int>>{
           {2024, 2, 29}, {2000, 2, 29}, {1, 1, 1}, {9999, 12, 31}}) {
    date.set_year(y);
    date.set_month(m);
    date.set_day(d);
    EXPECT_TRUE(CheckRequest(date).ok()) << y << "-" << m << "-" << d;
  }
  for (const auto& [y, m, d] :
       std::vector<std::tuple<int, int, int>>{{2023, 2, 29},
                                              {1900, 2, 29},
                                              {2024, 13, 1},
                                              {2024, 4, 31},
                                              {0, 1, 1},
                                              {10000, 1, 1},
                                              {2024, 0, 0},
                                              {2024, 1, -1},
                                              {-5, 1, 1}}) {
    date.set_year(y);
    date.set_month(m);
    date.set_day(d);
    const absl::Status status = CheckRequest(date);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
        << y << "-" << m << "-" << d;
    EXPECT_THAT(status.message(), HasSubstr("is not a date"));
  }
}

TEST(InputWall, TimestampsStayWithinYearsOneTo9999) {
  google::protobuf::Timestamp time;
  time.set_seconds(1700000000);
  EXPECT_TRUE(CheckRequest(time).ok());
  time.set_seconds(253402300800);  // 10000-01-01
  EXPECT_THAT(CheckRequest(time).message(), HasSubstr("outside years"));
  time.set_seconds(0);
  time.set_nanos(-1);
  EXPECT_FALSE(CheckRequest(time).ok());
}

TEST(InputWall, RefusesDeeplyNestedMessages) {
  google::protobuf::Value root;
  google::protobuf::Value* value = &root;
  for (int i = 0; i < 40; ++i) {
    value = &(*value->mutable_struct_value()->mutable_fields())["x"];
  }
  value->set_string_value("deep");
  EXPECT_THAT(CheckRequest(root).message(), HasSubstr("nested too deeply"));
}

}  // namespace
}  // namespace kosapo::server
