#include "tools/cli/flags.h"

#include <map>
#include <optional>
#include <string>

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kosapo::cli {
namespace {

using ::kosapo::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

EnvLookup Env(std::map<std::string, std::string> values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    const auto it = values.find(name);
    if (it == values.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

const std::vector<Flag>& TestFlags() {
  static const auto* const kFlags = new std::vector<Flag>{
      {"as-of", "DATE", "the date", "", ""},
      {"format", "FORMAT", "output", "KOSAPO_FORMAT", "table"},
      {"mine", "", "only mine", "", ""},
      {"timeout", "DURATION", "deadline", "KOSAPO_TIMEOUT", "30s"},
  };
  return *kFlags;
}

TEST(ParseArgs, TakesBothValueFormsSwitchesAndPositionals) {
  auto args = ParseArgs(TestFlags(),
                        {"FILE.csv", "--as-of", "2024-03-31", "--mine",
                         "--format=json", "-", "--", "--not-a-flag"},
                        Env({}));
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->Get("as-of"), "2024-03-31");
  EXPECT_EQ(args->Get("format"), "json");
  EXPECT_EQ(*GetSwitch(*args, "mine"), true);
  EXPECT_THAT(args->positional(), ElementsAre("FILE.csv", "-", "--not-a-flag"));
  EXPECT_FALSE(args->help());
}

TEST(ParseArgs, FlagWinsOverEnvironmentWhichWinsOverDefault) {
  auto from_default = ParseArgs(TestFlags(), {}, Env({}));
  ASSERT_TRUE(from_default.ok());
  EXPECT_EQ(from_default->Get("format"), "table");
  EXPECT_EQ(from_default->Source("format"), "default");

  auto from_env = ParseArgs(TestFlags(), {}, Env({{"KOSAPO_FORMAT", "json"}}));
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(from_env->Get("format"), "json");
  EXPECT_EQ(from_env->Source("format"), "env KOSAPO_FORMAT");

  auto from_flag = ParseArgs(TestFlags(), {"--format=table"},
                             Env({{"KOSAPO_FORMAT", "json"}}));
  ASSERT_TRUE(from_flag.ok());
  EXPECT_EQ(from_flag->Get("format"), "table");
  EXPECT_EQ(from_flag->Source("format"), "flag");
}

TEST(ParseArgs, ReadsUnderscoresAsHyphens) {
  auto args = ParseArgs(TestFlags(), {"--as_of=2024-03-31"}, Env({}));
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->Get("as-of"), "2024-03-31");
}

TEST(ParseArgs, RejectsUnknownRepeatedAndValuelessFlagsNamingThem) {
  EXPECT_THAT(ParseArgs(TestFlags(), {"--colour=always"}, Env({})).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown flag --colour")));
  EXPECT_THAT(ParseArgs(TestFlags(), {"--mine", "--mine"}, Env({})).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--mine: given more than once")));
  EXPECT_THAT(ParseArgs(TestFlags(), {"--as-of"}, Env({})).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--as-of: needs a value")));
  EXPECT_THAT(
      ParseArgs(TestFlags(), {"--mine=perhaps"}, Env({})).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--mine")));
}

TEST(ParseArgs, NotesHelp) {
  auto args = ParseArgs(TestFlags(), {"--help"}, Env({}));
  ASSERT_TRUE(args.ok());
  EXPECT_TRUE(args->help());
  auto short_form = ParseArgs(TestFlags(), {"-h"}, Env({}));
  ASSERT_TRUE(short_form.ok());
  EXPECT_TRUE(short_form->help());
}

TEST(TypedReaders, NameTheFlagAndWhereABadValueCameFrom) {
  auto args = ParseArgs(TestFlags(), {}, Env({{"KOSAPO_TIMEOUT", "soon"}}));
  ASSERT_TRUE(args.ok());
  EXPECT_THAT(GetDuration(*args, "timeout").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--timeout: 'soon'")));
  EXPECT_THAT(GetChoice(*args, "format", {"csv"}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("'table' is not one of csv")));
  EXPECT_THAT(GetRequired(*args, "as-of").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--as-of=DATE is required")));
}

TEST(FlagsHelp, ListsValueEnvironmentAndDefault) {
  const std::string help = FlagsHelp(TestFlags());
  EXPECT_THAT(help, HasSubstr("--format=FORMAT  [env KOSAPO_FORMAT]"));
  EXPECT_THAT(help, HasSubstr("output (default table)"));
  EXPECT_THAT(help, HasSubstr("  --mine\n"));
}

}  // namespace
}  // namespace kosapo::cli
