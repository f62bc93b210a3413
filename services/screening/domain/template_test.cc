#include "services/screening/domain/template.h"

#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace kosapo::screening {
namespace {

using Json = nlohmann::json;
using ::kosapo::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

// A small valid template in its JSON form; tests break one thing in it.
Json ValidJson() {
  return Json::parse(R"json({
    "key": "test",
    "version": 2,
    "title_ja": "テスト用シート",
    "title_en": "Test sheet",
    "review_threshold": 3.0,
    "categories": [
      {"code": "meals", "label_ja": "食事", "label_en": "Meals"},
      {"code": "health", "label_ja": "健康", "label_en": "Health"}
    ],
    "items": [
      {"code": "meals_no_breakfast", "category": "meals",
       "label_ja": "朝食を食べていない", "label_en": "Skips breakfast",
       "kind": "level", "max_level": 3, "weight": 1.5,
       "always_review": false},
      {"code": "meals_hunger", "category": "meals",
       "label_ja": "空腹を訴える", "label_en": "Complains of hunger",
       "kind": "flag", "weight": 2.0, "always_review": false},
      {"code": "health_dental", "category": "health",
       "label_ja": "歯科の未治療", "label_en": "Untreated dental problems",
       "kind": "flag", "weight": 1.0, "always_review": true}
    ]
  })json");
}

// ValidJson() as built in code.
Template ValidTemplate() {
  Template tmpl;
  tmpl.key = "test";
  tmpl.version = 2;
  tmpl.title_ja = "テスト用シート";
  tmpl.title_en = "Test sheet";
  tmpl.review_threshold = 3.0;
  tmpl.categories = {{"meals", "食事", "Meals"}, {"health", "健康", "Health"}};
  tmpl.items = {
      {"meals_no_breakfast", "meals", "朝食を食べていない", "Skips breakfast",
       AnswerKind::kLevel, 3, 1.5, false},
      {"meals_hunger", "meals", "空腹を訴える", "Complains of hunger",
       AnswerKind::kFlag, 1, 2.0, false},
      {"health_dental", "health", "歯科の未治療", "Untreated dental problems",
       AnswerKind::kFlag, 1, 1.0, true},
  };
  return tmpl;
}

void ExpectSameTemplate(const Template& actual, const Template& expected) {
  EXPECT_EQ(actual.key, expected.key);
  EXPECT_EQ(actual.version, expected.version);
  EXPECT_EQ(actual.title_ja, expected.title_ja);
  EXPECT_EQ(actual.title_en, expected.title_en);
  EXPECT_EQ(actual.review_threshold, expected.review_threshold);
  ASSERT_EQ(actual.categories.size(), expected.categories.size());
  for (size_t i = 0; i < actual.categories.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("categories[", i, "]"));
    EXPECT_EQ(actual.categories[i].code, expected.categories[i].code);
    EXPECT_EQ(actual.categories[i].label_ja, expected.categories[i].label_ja);
    EXPECT_EQ(actual.categories[i].label_en, expected.categories[i].label_en);
  }
  ASSERT_EQ(actual.items.size(), expected.items.size());
  for (size_t i = 0; i < actual.items.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("items[", i, "]"));
    const Item& a = actual.items[i];
    const Item& e = expected.items[i];
    EXPECT_EQ(a.code, e.code);
    EXPECT_EQ(a.category, e.category);
    EXPECT_EQ(a.label_ja, e.label_ja);
    EXPECT_EQ(a.label_en, e.label_en);
    EXPECT_EQ(a.kind, e.kind);
    EXPECT_EQ(a.max_level, e.max_level);
    EXPECT_EQ(a.weight, e.weight);  // exact: doubles must round-trip
    EXPECT_EQ(a.always_review, e.always_review);
  }
}

// ParseTemplateJson of ValidJson() after `mutate`.
absl::Status ParseMutated(const std::function<void(Json&)>& mutate) {
  Json json = ValidJson();
  mutate(json);
  return ParseTemplateJson(json.dump()).status();
}

// ValidateTemplate of ValidTemplate() after `mutate`.
absl::Status ValidateMutated(const std::function<void(Template&)>& mutate) {
  Template tmpl = ValidTemplate();
  mutate(tmpl);
  return ValidateTemplate(tmpl);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// ---------------------------------------------------------------------------
// The shipped default sheet.

absl::StatusOr<Template> LoadDefault() {
  const std::string json = ReadFile(KOSAPO_DEFAULT_TEMPLATE);
  if (json.empty()) {
    return absl::NotFoundError(KOSAPO_DEFAULT_TEMPLATE);
  }
  return ParseTemplateJson(json);
}

TEST(DefaultTemplate, ParsesAndValidates) {
  ASSERT_OK_AND_ASSIGN(const Template tmpl, LoadDefault());
  EXPECT_OK(ValidateTemplate(tmpl));
  EXPECT_EQ(tmpl.key, "default");
  EXPECT_EQ(tmpl.version, 1);
  std::vector<std::string> categories;
  for (const Category& category : tmpl.categories) {
    categories.push_back(category.code);
  }
  EXPECT_THAT(categories, ElementsAre("school_life", "home_environment",
                                      "economic", "health", "meals", "learning",
                                      "guardian_contact", "young_carer"));
  EXPECT_GE(tmpl.items.size(), 30u);
  EXPECT_LE(tmpl.items.size(), 40u);
}

TEST(DefaultTemplate, AlwaysReviewsAbuseNeglectYoungCarersAndLostContact) {
  ASSERT_OK_AND_ASSIGN(const Template tmpl, LoadDefault());
  std::set<std::string> always;
  for (const Item& item : tmpl.items) {
    if (item.category == "young_carer") {
      EXPECT_TRUE(item.always_review) << item.code;
    }
    if (item.always_review) {
      always.insert(item.code);
    }
  }
  for (const char* code :
       {"home_injury", "home_neglect_suspected", "home_child_disclosure",
        "guardian_unreachable_long"}) {
    EXPECT_EQ(always.count(code), 1u) << code;
  }
  // Most signs count through the total; review-always stays the exception.
  EXPECT_LT(always.size(), tmpl.items.size() / 3);
}

TEST(DefaultTemplate, RoundTrips) {
  ASSERT_OK_AND_ASSIGN(const Template tmpl, LoadDefault());
  ASSERT_OK_AND_ASSIGN(const Template again,
                       ParseTemplateJson(TemplateToJson(tmpl)));
  ExpectSameTemplate(again, tmpl);
}

// ---------------------------------------------------------------------------
// ParseTemplateJson: what it accepts.

TEST(ParseTemplateJson, AcceptsValidTemplate) {
  ASSERT_OK_AND_ASSIGN(const Template tmpl,
                       ParseTemplateJson(ValidJson().dump()));
  ExpectSameTemplate(tmpl, ValidTemplate());
}

TEST(ParseTemplateJson, DefaultsOptionalFieldsAndAcceptsIntegerNumbers) {
  Json json = ValidJson();
  json["items"][1].erase("always_review");
  json["items"][1]["max_level"] = 1;  // allowed for a flag when it is 1
  json["items"][1]["weight"] = 2;
  json["review_threshold"] = 3;
  ASSERT_OK_AND_ASSIGN(const Template tmpl, ParseTemplateJson(json.dump()));
  EXPECT_FALSE(tmpl.items[1].always_review);
  EXPECT_EQ(tmpl.items[1].max_level, 1);
  EXPECT_EQ(tmpl.items[1].weight, 2.0);
  EXPECT_EQ(tmpl.review_threshold, 3.0);
}

TEST(ParseTemplateJson, AcceptsThresholdEqualToHighestTotal) {
  EXPECT_OK(ParseMutated([](Json& j) { j["review_threshold"] = 4.5; }));
}

TEST(ParseTemplateJson, CountsLabelLengthInCharactersNotBytes) {
  std::string label;
  for (int i = 0; i < 200; ++i) {
    label += "あ";  // 3 bytes each
  }
  EXPECT_OK(ParseMutated([&](Json& j) { j["items"][0]["label_ja"] = label; }));
  EXPECT_THAT(
      ParseMutated([&](Json& j) { j["items"][0]["label_ja"] = label + "あ"; }),
      StatusIs(kInvalid, "items[0].label_ja: must be at most 200 characters"));
}

// ---------------------------------------------------------------------------
// ParseTemplateJson: documents that are not a template.

TEST(ParseTemplateJson, RejectsMalformedJsonNamingLineAndColumn) {
  EXPECT_THAT(
      ParseTemplateJson("{\n  \"key\": ,\n}"),
      StatusIs(kInvalid, "template: invalid JSON at line 2, column 10"));
  EXPECT_THAT(ParseTemplateJson(""), StatusIs(kInvalid, HasSubstr("template: "
                                                                  "invalid "
                                                                  "JSON")));
}

TEST(ParseTemplateJson, RejectsNonObjectDocument) {
  EXPECT_THAT(ParseTemplateJson("[]"),
              StatusIs(kInvalid, "template: must be a JSON object"));
}

TEST(ParseTemplateJson, RejectsOversizedDocument) {
  const std::string huge(2 << 20, ' ');
  EXPECT_THAT(ParseTemplateJson(huge),
              StatusIs(kInvalid, HasSubstr("template: larger than")));
}

TEST(ParseTemplateJson, RejectsNumberBeyondDouble) {
  std::string json = ValidJson().dump();
  const std::string weight = "\"weight\":2.0";
  json.replace(json.find(weight), weight.size(), "\"weight\":1e400");
  EXPECT_THAT(ParseTemplateJson(json),
              StatusIs(kInvalid,
                       "template: invalid JSON (a number is out of "
                       "range)"));
}

TEST(ParseTemplateJson, RejectsInvalidUtf8) {
  EXPECT_THAT(ParseTemplateJson("{\"key\": \"\xff\"}"),
              StatusIs(kInvalid, HasSubstr("template: invalid JSON")));
}

// ---------------------------------------------------------------------------
// ParseTemplateJson: the schema, every error naming its JSON path.

TEST(ParseTemplateJson, RejectsUnknownFields) {
  EXPECT_THAT(ParseMutated([](Json& j) { j["titel_ja"] = "x"; }),
              StatusIs(kInvalid, "titel_ja: unknown field"));
  EXPECT_THAT(ParseMutated([](Json& j) { j["categories"][1]["label"] = "x"; }),
              StatusIs(kInvalid, "categories[1].label: unknown field"));
  EXPECT_THAT(ParseMutated([](Json& j) { j["items"][1]["wieght"] = 1; }),
              StatusIs(kInvalid, "items[1].wieght: unknown field"));
}

TEST(ParseTemplateJson, RejectsDuplicateField) {
  // The parser would keep the last value silently.
  std::string json = ValidJson().dump();
  const std::string code = "\"code\":\"meals_hunger\"";
  json.replace(json.find(code), code.size(), code + ",\"weight\":9");
  EXPECT_THAT(ParseTemplateJson(json),
              StatusIs(kInvalid, "items[1].weight: duplicate field"));
  EXPECT_THAT(ParseTemplateJson(R"({"key": "a", "key": "b"})"),
              StatusIs(kInvalid, "key: duplicate field"));
}

TEST(ParseTemplateJson, RejectsMissingRequiredField) {
  EXPECT_THAT(ParseMutated([](Json& j) { j.erase("version"); }),
              StatusIs(kInvalid, "version: required"));
  EXPECT_THAT(ParseMutated([](Json& j) { j["items"][0].erase("label_en"); }),
              StatusIs(kInvalid, "items[0].label_en: required"));
  EXPECT_THAT(ParseMutated([](Json& j) { j["categories"][0].erase("code"); }),
              StatusIs(kInvalid, "categories[0].code: required"));
  EXPECT_THAT(ParseMutated([](Json& j) { j["items"][2].erase("weight"); }),
              StatusIs(kInvalid, "items[2].weight: required"));
}

TEST(ParseTemplateJson, RejectsWrongJsonTypes) {
  EXPECT_THAT(ParseMutated([](Json& j) { j["title_ja"] = 5; }),
              StatusIs(kInvalid, "title_ja: must be a string"));
  EXPECT_THAT(ParseMutated([](Json& j) { j["categories"] = Json::object(); }),
              StatusIs(kInvalid, "categories: must be an array"));
  EXPECT_THAT(ParseMutated([](Json& j) { j["items"][0] = "meals"; }),
              StatusIs(kInvalid, "items[0]: must be a JSON object"));
  EXPECT_THAT(
      ParseMutated([](Json& j) { j["items"][0]["always_review"] = "yes"; }),
      StatusIs(kInvalid, "items[0].always_review: must be true or false"));
  EXPECT_THAT(
      ParseMutated([](Json& j) { j["review_threshold"] = "3"; }),
      StatusIs(kInvalid, "review_threshold: must be a positive number"));
}

TEST(ParseTemplateJson, RejectsNonPositiveWeight) {
  for (const Json& weight : {Json(0), Json(-1.5), Json("2"), Json(nullptr)}) {
    SCOPED_TRACE(weight.dump());
    EXPECT_THAT(
        ParseMutated([&](Json& j) { j["items"][2]["weight"] = weight; }),
        StatusIs(kInvalid, "items[2].weight: must be a positive number"));
  }
}

TEST(ParseTemplateJson, RejectsExcessiveWeight) {
  EXPECT_THAT(ParseMutated([](Json& j) { j["items"][2]["weight"] = 101; }),
              StatusIs(kInvalid, "items[2].weight: must be at most 100"));
}

TEST(ParseTemplateJson, RejectsUnknownCategory) {
  EXPECT_THAT(ParseMutated([](Json& j) { j["items"][1]["category"] = "meal"; }),
              StatusIs(kInvalid, "items[1].category: unknown category 'meal'"));
}

TEST(ParseTemplateJson, EscapesEchoedTextInMessages) {
  EXPECT_THAT(
      ParseMutated([](Json& j) { j["items"][1]["category"] = "x\ny"; }),
      StatusIs(kInvalid, "items[1].category: unknown category 'x\\ny'"));
}

TEST(ParseTemplateJson, RejectsDuplicateItemCode) {
  EXPECT_THAT(
      ParseMutated([](Json& j) { j["items"][2]["code"] = "meals_hunger"; }),
      StatusIs(kInvalid, "items[2].code: duplicate 'meals_hunger'"));
}

TEST(ParseTemplateJson, RejectsDuplicateCategoryCode) {
  EXPECT_THAT(
      ParseMutated([](Json& j) { j["categories"][1]["code"] = "meals"; }),
      StatusIs(kInvalid, "categories[1].code: duplicate 'meals'"));
}

TEST(ParseTemplateJson, RejectsCodeThatIsNotSnakeCase) {
  for (const char* code :
       {"Health-Dental", "1st_item", "a__b", "dental_", "", "health dental"}) {
    SCOPED_TRACE(code);
    EXPECT_THAT(
        ParseMutated([&](Json& j) { j["items"][2]["code"] = code; }),
        StatusIs(kInvalid,
                 absl::StrCat("items[2].code: must be snake_case (e.g. "
                              "'meals_no_breakfast', at most 64 characters), "
                              "got '",
                              code, "'")));
  }
  EXPECT_THAT(
      ParseMutated([](Json& j) { j["categories"][0]["code"] = "Meals"; }),
      StatusIs(kInvalid, HasSubstr("categories[0].code: must be snake_case")));
}

TEST(ParseTemplateJson, RejectsBadKey) {
  for (const std::string& key :
       {std::string("Default"), std::string(""), std::string(41, 'a'),
        std::string("osaka city")}) {
    SCOPED_TRACE(key);
    EXPECT_THAT(ParseMutated([&](Json& j) { j["key"] = key; }),
                StatusIs(kInvalid, HasSubstr("key: must match [a-z0-9_-]{1,40}"
                                             ", got '")));
  }
  EXPECT_OK(ParseMutated([](Json& j) { j["key"] = "osaka-27100_v2"; }));
}

TEST(ParseTemplateJson, RejectsVersionBelowOneOrNotAnInteger) {
  for (const Json& version :
       {Json(0), Json(-3), Json(1.5), Json(2.0), Json(4294967296), Json("1")}) {
    SCOPED_TRACE(version.dump());
    EXPECT_THAT(ParseMutated([&](Json& j) { j["version"] = version; }),
                StatusIs(kInvalid, "version: must be an integer >= 1"));
  }
}

TEST(ParseTemplateJson, RejectsUnknownKind) {
  EXPECT_THAT(ParseMutated([](Json& j) { j["items"][0]["kind"] = "lvl"; }),
              StatusIs(kInvalid,
                       "items[0].kind: must be 'flag' or 'level', got 'lvl'"));
  EXPECT_THAT(ParseMutated([](Json& j) { j["items"][0]["kind"] = 1; }),
              StatusIs(kInvalid, "items[0].kind: must be 'flag' or 'level'"));
}

TEST(ParseTemplateJson, RequiresMaxLevelForLevelItem) {
  EXPECT_THAT(
      ParseMutated([](Json& j) { j["items"][0].erase("max_level"); }),
      StatusIs(kInvalid, "items[0].max_level: required for a level item"));
}

TEST(ParseTemplateJson, RejectsMaxLevelOutOfRange) {
  for (const Json& max_level : {Json(0), Json(11), Json(2.5), Json(3.0),
                                Json("3"), Json(10000000000)}) {
    SCOPED_TRACE(max_level.dump());
    EXPECT_THAT(
        ParseMutated([&](Json& j) { j["items"][0]["max_level"] = max_level; }),
        StatusIs(kInvalid,
                 "items[0].max_level: must be an integer from 1 to 10"));
  }
  EXPECT_OK(ParseMutated([](Json& j) { j["items"][0]["max_level"] = 10; }));
}

TEST(ParseTemplateJson, RejectsFlagWithMaxLevelOtherThanOne) {
  EXPECT_THAT(
      ParseMutated([](Json& j) { j["items"][1]["max_level"] = 2; }),
      StatusIs(kInvalid, "items[1].max_level: must be 1 for a flag item"));
}

TEST(ParseTemplateJson, RejectsEmptyOrMultilineText) {
  EXPECT_THAT(ParseMutated([](Json& j) { j["items"][0]["label_ja"] = ""; }),
              StatusIs(kInvalid, "items[0].label_ja: must not be empty"));
  EXPECT_THAT(
      ParseMutated([](Json& j) { j["title_en"] = "a\nb"; }),
      StatusIs(kInvalid, "title_en: must not contain control characters"));
}

TEST(ParseTemplateJson, RejectsEmptyLists) {
  EXPECT_THAT(
      ParseMutated([](Json& j) { j["categories"] = Json::array(); }),
      StatusIs(kInvalid, "categories: must list at least one category"));
  EXPECT_THAT(ParseMutated([](Json& j) { j["items"] = Json::array(); }),
              StatusIs(kInvalid, "items: must list at least one item"));
}

TEST(ParseTemplateJson, RejectsTooManyItems) {
  EXPECT_THAT(ParseMutated([](Json& j) {
                const Json item = j["items"][1];
                for (int i = 0; i < 200; ++i) {
                  j["items"].push_back(item);
                  j["items"].back()["code"] = absl::StrCat("extra_", i);
                }
              }),
              StatusIs(kInvalid, "items: must list at most 200 items"));
}

TEST(ParseTemplateJson, RejectsCategoryWithoutItems) {
  EXPECT_THAT(
      ParseMutated([](Json& j) {
        j["categories"].push_back({{"code", "learning"},
                                   {"label_ja", "学習"},
                                   {"label_en", "Learning"}});
      }),
      StatusIs(kInvalid, "categories[2]: no item in category 'learning'"));
}

TEST(ParseTemplateJson, RejectsNonPositiveThreshold) {
  EXPECT_THAT(
      ParseMutated([](Json& j) { j["review_threshold"] = 0; }),
      StatusIs(kInvalid, "review_threshold: must be a positive number"));
}

TEST(ParseTemplateJson, RejectsUnreachableThreshold) {
  // The weights add up to 4.5: no total could ever reach 5.
  EXPECT_THAT(ParseMutated([](Json& j) { j["review_threshold"] = 5; }),
              StatusIs(kInvalid,
                       "review_threshold: 5 is above the highest "
                       "possible total 4.5"));
}

// ---------------------------------------------------------------------------
// ValidateTemplate: the same rules for templates built in code.

TEST(ValidateTemplate, AcceptsValidTemplate) {
  EXPECT_OK(ValidateTemplate(ValidTemplate()));
}

TEST(ValidateTemplate, AppliesTheParseRules) {
  EXPECT_THAT(ValidateMutated([](Template& t) { t.items[2].weight = -1; }),
              StatusIs(kInvalid, "items[2].weight: must be a positive number"));
  EXPECT_THAT(
      ValidateMutated([](Template& t) { t.items[1].category = "meal"; }),
      StatusIs(kInvalid, "items[1].category: unknown category 'meal'"));
  EXPECT_THAT(
      ValidateMutated([](Template& t) { t.items[2].code = "meals_hunger"; }),
      StatusIs(kInvalid, "items[2].code: duplicate 'meals_hunger'"));
  EXPECT_THAT(ValidateMutated([](Template& t) { t.version = 0; }),
              StatusIs(kInvalid, "version: must be an integer >= 1"));
  EXPECT_THAT(
      ValidateMutated([](Template& t) { t.items[1].max_level = 3; }),
      StatusIs(kInvalid, "items[1].max_level: must be 1 for a flag item"));
}

TEST(ValidateTemplate, RejectsNonFiniteNumbers) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_THAT(ValidateMutated([&](Template& t) { t.items[0].weight = nan; }),
              StatusIs(kInvalid, "items[0].weight: must be a positive number"));
  EXPECT_THAT(ValidateMutated([&](Template& t) { t.items[0].weight = inf; }),
              StatusIs(kInvalid, "items[0].weight: must be a positive number"));
  EXPECT_THAT(
      ValidateMutated([&](Template& t) { t.review_threshold = nan; }),
      StatusIs(kInvalid, "review_threshold: must be a positive number"));
}

TEST(ValidateTemplate, RejectsKindOutsideTheEnum) {
  EXPECT_THAT(ValidateMutated([](Template& t) {
                t.items[0].kind = static_cast<AnswerKind>(7);
              }),
              StatusIs(kInvalid, "items[0].kind: must be 'flag' or 'level'"));
}

TEST(ValidateTemplate, RejectsMalformedUtf8) {
  for (const char* label :
       {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe3\x81", "\xf4\x90\x80\x80"}) {
    EXPECT_THAT(
        ValidateMutated([&](Template& t) { t.items[0].label_ja = label; }),
        StatusIs(kInvalid, "items[0].label_ja: must be valid UTF-8"));
  }
}

// ---------------------------------------------------------------------------
// TemplateToJson.

TEST(TemplateToJson, RoundTripsThroughParse) {
  Template tmpl = ValidTemplate();
  // Weights with no short decimal form must come back bit for bit.
  tmpl.items[0].weight = 1.0 / 3;
  tmpl.items[1].weight = 0.1;
  tmpl.items[2].weight = 2.675;
  tmpl.review_threshold = 0.7;
  ASSERT_OK(ValidateTemplate(tmpl));
  ASSERT_OK_AND_ASSIGN(const Template again,
                       ParseTemplateJson(TemplateToJson(tmpl)));
  ExpectSameTemplate(again, tmpl);
}

TEST(TemplateToJson, KeepsJapaneseReadable) {
  EXPECT_THAT(TemplateToJson(ValidTemplate()), HasSubstr("朝食を食べていない"));
}

TEST(TemplateToJson, KeepsAnInvalidTemplateInvalid) {
  Template tmpl = ValidTemplate();
  tmpl.items[1].max_level = 4;  // a flag cannot have levels
  EXPECT_THAT(
      ParseTemplateJson(TemplateToJson(tmpl)),
      StatusIs(kInvalid, "items[1].max_level: must be 1 for a flag item"));
}

// ---------------------------------------------------------------------------
// FindItem and AnswerKindName.

TEST(FindItem, FindsItemByCode) {
  const Template tmpl = ValidTemplate();
  const Item* item = FindItem(tmpl, "meals_hunger");
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(item, &tmpl.items[1]);
  EXPECT_EQ(FindItem(tmpl, "meals"), nullptr);
  EXPECT_EQ(FindItem(tmpl, ""), nullptr);
}

TEST(AnswerKindName, NamesEachKind) {
  EXPECT_EQ(AnswerKindName(AnswerKind::kFlag), "flag");
  EXPECT_EQ(AnswerKindName(AnswerKind::kLevel), "level");
  EXPECT_EQ(AnswerKindName(static_cast<AnswerKind>(7)), "");
}

// ---------------------------------------------------------------------------
// ValidateAnswers.

TEST(ValidateAnswers, AcceptsValidAnswersInAnyOrder) {
  const Template tmpl = ValidTemplate();
  EXPECT_OK(ValidateAnswers(tmpl, {}));
  EXPECT_OK(
      ValidateAnswers(tmpl, {{"health_dental", AnswerKind::kFlag, 1},
                             {"meals_no_breakfast", AnswerKind::kLevel, 3},
                             {"meals_hunger", AnswerKind::kFlag, 0}}));
  EXPECT_OK(
      ValidateAnswers(tmpl, {{"meals_no_breakfast", AnswerKind::kLevel, 0}}));
}

TEST(ValidateAnswers, RejectsUnknownItem) {
  EXPECT_THAT(ValidateAnswers(ValidTemplate(), {{"foo", AnswerKind::kFlag, 1}}),
              StatusIs(kInvalid, "answers[0]: unknown item 'foo'"));
}

TEST(ValidateAnswers, RejectsWrongKind) {
  const Template tmpl = ValidTemplate();
  EXPECT_THAT(
      ValidateAnswers(tmpl, {{"meals_no_breakfast", AnswerKind::kLevel, 1},
                             {"meals_hunger", AnswerKind::kLevel, 1}}),
      StatusIs(kInvalid,
               "answers[1] (item 'meals_hunger'): expected a flag, got a "
               "level"));
  EXPECT_THAT(
      ValidateAnswers(tmpl, {{"meals_no_breakfast", AnswerKind::kFlag, 1}}),
      StatusIs(kInvalid,
               "answers[0] (item 'meals_no_breakfast'): expected a level, got "
               "a flag"));
  EXPECT_THAT(
      ValidateAnswers(tmpl, {{"meals_hunger", static_cast<AnswerKind>(7), 1}}),
      StatusIs(kInvalid,
               "answers[0] (item 'meals_hunger'): expected a flag, got an "
               "unknown kind"));
}

TEST(ValidateAnswers, RejectsLevelOutOfRange) {
  const Template tmpl = ValidTemplate();
  EXPECT_THAT(
      ValidateAnswers(tmpl, {{"health_dental", AnswerKind::kFlag, 0},
                             {"meals_no_breakfast", AnswerKind::kLevel, 5}}),
      StatusIs(kInvalid,
               "answers[1] (item 'meals_no_breakfast'): level 5 out of range "
               "0..3"));
  EXPECT_THAT(
      ValidateAnswers(tmpl, {{"meals_no_breakfast", AnswerKind::kLevel, -1}}),
      StatusIs(kInvalid,
               "answers[0] (item 'meals_no_breakfast'): level -1 out of range "
               "0..3"));
}

TEST(ValidateAnswers, RejectsFlagOtherThanZeroOrOne) {
  EXPECT_THAT(
      ValidateAnswers(ValidTemplate(),
                      {{"meals_hunger", AnswerKind::kFlag, 2}}),
      StatusIs(
          kInvalid,
          "answers[0] (item 'meals_hunger'): flag value 2 must be 0 or 1"));
}

TEST(ValidateAnswers, RejectsItemAnsweredTwice) {
  EXPECT_THAT(
      ValidateAnswers(ValidTemplate(),
                      {{"meals_hunger", AnswerKind::kFlag, 1},
                       {"health_dental", AnswerKind::kFlag, 0},
                       {"meals_hunger", AnswerKind::kFlag, 1}}),
      StatusIs(kInvalid, "answers[2] (item 'meals_hunger'): answered twice"));
}

TEST(ValidateAnswers, EscapesUnknownItemName) {
  const absl::Status status =
      ValidateAnswers(ValidTemplate(), {{"a\nb", AnswerKind::kFlag, 1}});
  EXPECT_THAT(status, StatusIs(kInvalid, "answers[0]: unknown item 'a\\nb'"));
  EXPECT_THAT(status, StatusIs(kInvalid, Not(HasSubstr("\n"))));
}

}  // namespace
}  // namespace kosapo::screening
