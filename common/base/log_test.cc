#include "common/base/log.h"

#include "gtest/gtest.h"

namespace kosapo::log {
namespace {

TEST(Log, LineIsOneJsonObjectWithStandardFields) {
  Init("screening");
  const std::string line =
      FormatLine(Severity::kWarning, "pool exhausted", {{"waiters", 3}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const auto json = nlohmann::json::parse(line);
  EXPECT_EQ(json["severity"], "WARNING");
  EXPECT_EQ(json["message"], "pool exhausted");
  EXPECT_EQ(json["service"], "screening");
  EXPECT_EQ(json["waiters"], 3);
  EXPECT_TRUE(json["time"].get<std::string>().back() == 'Z');
  EXPECT_FALSE(json.contains("request_id"));
}

TEST(Log, ScopedContextStampsCallFieldsAndIsRestored) {
  {
    ScopedLogContext outer({"/kosapo.cases.v1.CaseService/GetCase", "req-1",
                            "4bf92f3577b34da6a3ce929d0e0e4736"});
    auto json = nlohmann::json::parse(FormatLine(Severity::kInfo, "x", {}));
    EXPECT_EQ(json["method"], "/kosapo.cases.v1.CaseService/GetCase");
    EXPECT_EQ(json["request_id"], "req-1");
    EXPECT_EQ(json["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    {
      ScopedLogContext inner({"m2", "req-2", ""});
      json = nlohmann::json::parse(FormatLine(Severity::kInfo, "x", {}));
      EXPECT_EQ(json["request_id"], "req-2");
    }
    json = nlohmann::json::parse(FormatLine(Severity::kInfo, "x", {}));
    EXPECT_EQ(json["request_id"], "req-1");
  }
  auto json = nlohmann::json::parse(FormatLine(Severity::kInfo, "x", {}));
  EXPECT_FALSE(json.contains("method"));
}

TEST(Log, FieldsCannotOverrideStandardFields) {
  Init("case");
  auto json = nlohmann::json::parse(FormatLine(
      Severity::kInfo, "real", {{"message", "fake"}, {"service", "x"}}));
  EXPECT_EQ(json["message"], "real");
  EXPECT_EQ(json["service"], "case");
}

TEST(Log, InvalidUtf8DoesNotThrow) {
  EXPECT_NO_THROW(FormatLine(Severity::kInfo, "bad \xff byte", {}));
}

TEST(Log, ParsesSeverityNames) {
  Severity severity;
  EXPECT_TRUE(ParseSeverity("warning", &severity));
  EXPECT_EQ(severity, Severity::kWarning);
  EXPECT_FALSE(ParseSeverity("loud", &severity));
}

}  // namespace
}  // namespace kosapo::log
