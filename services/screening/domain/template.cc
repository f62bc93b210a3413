#include "services/screening/domain/template.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/base/status.h"
#include "nlohmann/json.hpp"

namespace kosapo::screening {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// Limits that keep a template something a school can fill in and a server
// can hold; far above any real sheet (the default has about 40 items).
constexpr size_t kMaxJsonBytes = 1 << 20;
constexpr size_t kMaxKeyLength = 40;
constexpr size_t kMaxCodeLength = 64;
constexpr size_t kMaxTextLength = 200;  // characters, not bytes
constexpr size_t kMaxCategories = 50;
constexpr size_t kMaxItems = 200;
constexpr int kMaxMaxLevel = 10;
constexpr double kMaxWeight = 100;

// Where document-level problems are reported.
constexpr char kRoot[] = "template";

constexpr char kPositiveNumber[] = "must be a positive number";
constexpr char kVersionRule[] = "must be an integer >= 1";
constexpr char kLevelRange[] = "must be an integer from 1 to 10";
constexpr char kFlagMaxLevel[] = "must be 1 for a flag item";

absl::Status Invalid(absl::string_view path, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

std::string Field(absl::string_view path, absl::string_view name) {
  return path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
}

std::string Element(absl::string_view path, size_t index) {
  return absl::StrCat(path, "[", index, "]");
}

// Text that came from the caller, made safe to echo in a message: escaped
// (no line breaks or control bytes reach a log) and clipped.
std::string Printable(absl::string_view text) {
  constexpr size_t kMaxEcho = 64;
  if (text.size() <= kMaxEcho) {
    return absl::CEscape(text);
  }
  return absl::StrCat(absl::CEscape(text.substr(0, kMaxEcho)), "...");
}

std::string Quoted(absl::string_view text) {
  return absl::StrCat("'", Printable(text), "'");
}

// The number of code points in `text` if it is well-formed UTF-8: no
// overlong forms, surrogates or values above U+10FFFF.
std::optional<size_t> Utf8Length(absl::string_view text) {
  size_t count = 0;
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    size_t length = 1;
    uint32_t code_point = lead;
    uint32_t min_code_point = 0;
    if (lead < 0x80) {
      length = 1;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2;
      code_point = lead & 0x1F;
      min_code_point = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      code_point = lead & 0x0F;
      min_code_point = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      code_point = lead & 0x07;
      min_code_point = 0x10000;
    } else {
      return std::nullopt;
    }
    if (text.size() - i < length) {
      return std::nullopt;
    }
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) {
        return std::nullopt;
      }
      code_point = (code_point << 6) | (next & 0x3F);
    }
    if (code_point < min_code_point || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return std::nullopt;
    }
    i += length;
    ++count;
  }
  return count;
}

// Titles and labels: one line of human text.
absl::Status CheckText(absl::string_view path, absl::string_view text) {
  if (text.empty()) {
    return Invalid(path, "must not be empty");
  }
  const std::optional<size_t> length = Utf8Length(text);
  if (!length.has_value()) {
    return Invalid(path, "must be valid UTF-8");
  }
  for (const char c : text) {
    // In valid UTF-8 these bytes occur only as themselves.
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      return Invalid(path, "must not contain control characters");
    }
  }
  if (*length > kMaxTextLength) {
    return Invalid(
        path, absl::StrCat("must be at most ", kMaxTextLength, " characters"));
  }
  return absl::OkStatus();
}

bool IsLowerOrDigit(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// Category and item codes: a lowercase letter, then lowercase letters,
// digits and single underscores, not ending in an underscore.
absl::Status CheckCode(absl::string_view path, absl::string_view code) {
  bool ok = !code.empty() && code.size() <= kMaxCodeLength &&
            code.front() >= 'a' && code.front() <= 'z' && code.back() != '_';
  for (size_t i = 0; ok && i < code.size(); ++i) {
    const char c = code[i];
    ok = IsLowerOrDigit(c) || (c == '_' && code[i - 1] != '_');
  }
  if (!ok) {
    return Invalid(
        path, absl::StrCat("must be snake_case (e.g. "
                           "'meals_no_breakfast', at most ",
                           kMaxCodeLength, " characters), got ", Quoted(code)));
  }
  return absl::OkStatus();
}

absl::Status CheckKey(absl::string_view path, absl::string_view key) {
  bool ok = !key.empty() && key.size() <= kMaxKeyLength;
  for (const char c : key) {
    ok = ok && (IsLowerOrDigit(c) || c == '_' || c == '-');
  }
  if (!ok) {
    return Invalid(path, absl::StrCat("must match [a-z0-9_-]{1,", kMaxKeyLength,
                                      "}, got ", Quoted(key)));
  }
  return absl::OkStatus();
}

bool IsPositiveFinite(double value) {
  return std::isfinite(value) && value > 0;
}

absl::Status CheckCategories(const std::vector<Category>& categories) {
  if (categories.empty()) {
    return Invalid("categories", "must list at least one category");
  }
  if (categories.size() > kMaxCategories) {
    return Invalid("categories", absl::StrCat("must list at most ",
                                              kMaxCategories, " categories"));
  }
  std::set<absl::string_view> seen;
  for (size_t i = 0; i < categories.size(); ++i) {
    const Category& category = categories[i];
    const std::string path = Element("categories", i);
    KOSAPO_RETURN_IF_ERROR(CheckCode(Field(path, "code"), category.code));
    if (!seen.insert(category.code).second) {
      return Invalid(Field(path, "code"),
                     absl::StrCat("duplicate '", category.code, "'"));
    }
    KOSAPO_RETURN_IF_ERROR(
        CheckText(Field(path, "label_ja"), category.label_ja));
    KOSAPO_RETURN_IF_ERROR(
        CheckText(Field(path, "label_en"), category.label_en));
  }
  return absl::OkStatus();
}

absl::Status CheckItem(const Item& item, const std::string& path,
                       const std::set<absl::string_view>& category_codes) {
  KOSAPO_RETURN_IF_ERROR(CheckCode(Field(path, "code"), item.code));
  if (category_codes.count(item.category) == 0) {
    return Invalid(Field(path, "category"),
                   absl::StrCat("unknown category ", Quoted(item.category)));
  }
  KOSAPO_RETURN_IF_ERROR(CheckText(Field(path, "label_ja"), item.label_ja));
  KOSAPO_RETURN_IF_ERROR(CheckText(Field(path, "label_en"), item.label_en));
  switch (item.kind) {
    case AnswerKind::kFlag:
      if (item.max_level != 1) {
        return Invalid(Field(path, "max_level"), kFlagMaxLevel);
      }
      break;
    case AnswerKind::kLevel:
      if (item.max_level < 1 || item.max_level > kMaxMaxLevel) {
        return Invalid(Field(path, "max_level"), kLevelRange);
      }
      break;
    default:
      return Invalid(Field(path, "kind"), "must be 'flag' or 'level'");
  }
  if (!IsPositiveFinite(item.weight)) {
    return Invalid(Field(path, "weight"), kPositiveNumber);
  }
  if (item.weight > kMaxWeight) {
    return Invalid(Field(path, "weight"),
                   absl::StrCat("must be at most ", kMaxWeight));
  }
  return absl::OkStatus();
}

absl::Status CheckItems(const Template& tmpl) {
  if (tmpl.items.empty()) {
    return Invalid("items", "must list at least one item");
  }
  if (tmpl.items.size() > kMaxItems) {
    return Invalid("items",
                   absl::StrCat("must list at most ", kMaxItems, " items"));
  }
  std::set<absl::string_view> category_codes;
  for (const Category& category : tmpl.categories) {
    category_codes.insert(category.code);
  }
  std::set<absl::string_view> seen;
  std::set<absl::string_view> used_categories;
  for (size_t i = 0; i < tmpl.items.size(); ++i) {
    const Item& item = tmpl.items[i];
    const std::string path = Element("items", i);
    KOSAPO_RETURN_IF_ERROR(CheckItem(item, path, category_codes));
    if (!seen.insert(item.code).second) {
      return Invalid(Field(path, "code"),
                     absl::StrCat("duplicate '", item.code, "'"));
    }
    used_categories.insert(item.category);
  }
  // An empty heading on the sheet is almost certainly a mistake.
  for (size_t i = 0; i < tmpl.categories.size(); ++i) {
    if (used_categories.count(tmpl.categories[i].code) == 0) {
      return Invalid(
          Element("categories", i),
          absl::StrCat("no item in category '", tmpl.categories[i].code, "'"));
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Reading the JSON form.

// Finds the first field repeated within one JSON object, which the parser
// would otherwise resolve silently (the last one wins). Fed the parser's
// callback events; keeps the JSON path of every open container.
class DuplicateFieldFinder {
 public:
  bool Observe(Json::parse_event_t event, const Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
        Open(/*is_object=*/true);
        break;
      case Json::parse_event_t::array_start:
        Open(/*is_object=*/false);
        break;
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        if (!frames_.empty()) {
          frames_.pop_back();
        }
        break;
      case Json::parse_event_t::key:
        if (!frames_.empty() && parsed.is_string()) {
          Frame& frame = frames_.back();
          frame.key = parsed.get<std::string>();
          if (!frame.keys.insert(frame.key).second && duplicate_.empty()) {
            duplicate_ = Field(frame.path, Printable(frame.key));
          }
        }
        break;
      case Json::parse_event_t::value:
        if (!frames_.empty() && !frames_.back().is_object) {
          ++frames_.back().next_index;
        }
        break;
    }
    return true;  // keep everything; the finder only watches
  }

  // The path of the first repeated field, or empty.
  const std::string& duplicate() const { return duplicate_; }

 private:
  struct Frame {
    bool is_object = false;
    std::string path;
    std::set<std::string> keys;
    std::string key;        // the latest key, for an object
    size_t next_index = 0;  // for an array
  };

  void Open(bool is_object) {
    Frame frame;
    frame.is_object = is_object;
    frame.path = ChildPath();
    frames_.push_back(std::move(frame));
  }

  // The path of a container that starts now, inside the innermost frame.
  std::string ChildPath() {
    if (frames_.empty()) {
      return "";
    }
    Frame& parent = frames_.back();
    if (parent.is_object) {
      return Field(parent.path, Printable(parent.key));
    }
    return Element(parent.path, parent.next_index++);
  }

  std::vector<Frame> frames_;
  std::string duplicate_;
};

// "line L, column C" of the byte at 1-based `byte` (as nlohmann reports a
// parse error) in `text`; the column counts bytes, not characters.
std::string Position(absl::string_view text, size_t byte) {
  const size_t offset = byte == 0 ? 0 : std::min(byte, text.size() + 1) - 1;
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return absl::StrCat("line ", line, ", column ", offset - line_start + 1);
}

absl::StatusOr<Json> ParseDocument(absl::string_view text) {
  if (text.size() > kMaxJsonBytes) {
    return Invalid(kRoot,
                   absl::StrCat("larger than ", kMaxJsonBytes, " bytes"));
  }
  DuplicateFieldFinder finder;
  Json document;
  try {
    document = Json::parse(
        text.begin(), text.end(),
        [&finder](int /*depth*/, Json::parse_event_t event, Json& parsed) {
          return finder.Observe(event, parsed);
        });
  } catch (const Json::parse_error& e) {
    return Invalid(kRoot,
                   absl::StrCat("invalid JSON at ", Position(text, e.byte)));
  } catch (const Json::exception&) {
    // E.g. a number too large for a double.
    return Invalid(kRoot, "invalid JSON (a number is out of range)");
  }
  if (!finder.duplicate().empty()) {
    return Invalid(finder.duplicate(), "duplicate field");
  }
  if (!document.is_object()) {
    return Invalid(kRoot, "must be a JSON object");
  }
  return document;
}

absl::Status CheckFields(const Json& object, absl::string_view path,
                         std::initializer_list<absl::string_view> known) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    bool found = false;
    for (const absl::string_view name : known) {
      found = found || name == it.key();
    }
    if (!found) {
      return Invalid(Field(path, Printable(it.key())), "unknown field");
    }
  }
  return absl::OkStatus();
}

const Json* FindField(const Json& object, const char* name) {
  const auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

absl::StatusOr<const Json*> Required(const Json& object, absl::string_view path,
                                     const char* name) {
  const Json* value = FindField(object, name);
  if (value == nullptr) {
    return Invalid(Field(path, name), "required");
  }
  return value;
}

absl::Status ReadString(const Json& object, absl::string_view path,
                        const char* name, std::string* out) {
  KOSAPO_ASSIGN_OR_RETURN(const Json* value, Required(object, path, name));
  if (!value->is_string()) {
    return Invalid(Field(path, name), "must be a string");
  }
  *out = value->get<std::string>();
  return absl::OkStatus();
}

absl::Status ReadNumber(const Json& object, absl::string_view path,
                        const char* name, absl::string_view rule, double* out) {
  KOSAPO_ASSIGN_OR_RETURN(const Json* value, Required(object, path, name));
  if (!value->is_number()) {
    return Invalid(Field(path, name), rule);
  }
  *out = value->get<double>();
  return absl::OkStatus();
}

// An integer that fits an int; `rule` is the message otherwise. A JSON
// number with a fraction or exponent (3.0, 1e2) is not an integer.
absl::Status ReadInt(const Json& value, absl::string_view path,
                     absl::string_view rule, int* out) {
  constexpr int64_t kMin = std::numeric_limits<int>::min();
  constexpr int64_t kMax = std::numeric_limits<int>::max();
  if (value.is_number_unsigned()) {
    const auto number = value.get<uint64_t>();
    if (number > static_cast<uint64_t>(kMax)) {
      return Invalid(path, rule);
    }
    *out = static_cast<int>(number);
    return absl::OkStatus();
  }
  if (value.is_number_integer()) {
    const auto number = value.get<int64_t>();
    if (number < kMin || number > kMax) {
      return Invalid(path, rule);
    }
    *out = static_cast<int>(number);
    return absl::OkStatus();
  }
  return Invalid(path, rule);
}

absl::StatusOr<const Json*> ReadArray(const Json& object, const char* name) {
  KOSAPO_ASSIGN_OR_RETURN(const Json* value, Required(object, "", name));
  if (!value->is_array()) {
    return Invalid(name, "must be an array");
  }
  return value;
}

absl::Status RequireObject(const Json& value, absl::string_view path) {
  if (!value.is_object()) {
    return Invalid(path, "must be a JSON object");
  }
  return absl::OkStatus();
}

absl::StatusOr<Category> ReadCategory(const Json& json,
                                      absl::string_view path) {
  KOSAPO_RETURN_IF_ERROR(RequireObject(json, path));
  KOSAPO_RETURN_IF_ERROR(
      CheckFields(json, path, {"code", "label_ja", "label_en"}));
  Category category;
  KOSAPO_RETURN_IF_ERROR(ReadString(json, path, "code", &category.code));
  KOSAPO_RETURN_IF_ERROR(
      ReadString(json, path, "label_ja", &category.label_ja));
  KOSAPO_RETURN_IF_ERROR(
      ReadString(json, path, "label_en", &category.label_en));
  return category;
}

absl::StatusOr<AnswerKind> ReadKind(const Json& object,
                                    absl::string_view path) {
  KOSAPO_ASSIGN_OR_RETURN(const Json* value, Required(object, path, "kind"));
  const std::string field = Field(path, "kind");
  if (!value->is_string()) {
    return Invalid(field, "must be 'flag' or 'level'");
  }
  const auto& name = value->get_ref<const std::string&>();
  if (name == AnswerKindName(AnswerKind::kFlag)) {
    return AnswerKind::kFlag;
  }
  if (name == AnswerKindName(AnswerKind::kLevel)) {
    return AnswerKind::kLevel;
  }
  return Invalid(field,
                 absl::StrCat("must be 'flag' or 'level', got ", Quoted(name)));
}

absl::StatusOr<Item> ReadItem(const Json& json, absl::string_view path) {
  KOSAPO_RETURN_IF_ERROR(RequireObject(json, path));
  KOSAPO_RETURN_IF_ERROR(
      CheckFields(json, path,
                  {"code", "category", "label_ja", "label_en", "kind",
                   "max_level", "weight", "always_review"}));
  Item item;
  KOSAPO_RETURN_IF_ERROR(ReadString(json, path, "code", &item.code));
  KOSAPO_RETURN_IF_ERROR(ReadString(json, path, "category", &item.category));
  KOSAPO_RETURN_IF_ERROR(ReadString(json, path, "label_ja", &item.label_ja));
  KOSAPO_RETURN_IF_ERROR(ReadString(json, path, "label_en", &item.label_en));
  KOSAPO_ASSIGN_OR_RETURN(item.kind, ReadKind(json, path));
  const Json* max_level = FindField(json, "max_level");
  const std::string max_level_path = Field(path, "max_level");
  if (item.kind == AnswerKind::kLevel) {
    if (max_level == nullptr) {
      return Invalid(max_level_path, "required for a level item");
    }
    KOSAPO_RETURN_IF_ERROR(
        ReadInt(*max_level, max_level_path, kLevelRange, &item.max_level));
  } else if (max_level != nullptr) {
    KOSAPO_RETURN_IF_ERROR(
        ReadInt(*max_level, max_level_path, kFlagMaxLevel, &item.max_level));
  }
  KOSAPO_RETURN_IF_ERROR(
      ReadNumber(json, path, "weight", kPositiveNumber, &item.weight));
  if (const Json* always = FindField(json, "always_review")) {
    if (!always->is_boolean()) {
      return Invalid(Field(path, "always_review"), "must be true or false");
    }
    item.always_review = always->get<bool>();
  }
  return item;
}

absl::StatusOr<Template> ReadTemplate(const Json& json) {
  KOSAPO_RETURN_IF_ERROR(
      CheckFields(json, "",
                  {"key", "version", "title_ja", "title_en", "review_threshold",
                   "categories", "items"}));
  Template tmpl;
  KOSAPO_RETURN_IF_ERROR(ReadString(json, "", "key", &tmpl.key));
  KOSAPO_ASSIGN_OR_RETURN(const Json* version, Required(json, "", "version"));
  KOSAPO_RETURN_IF_ERROR(
      ReadInt(*version, "version", kVersionRule, &tmpl.version));
  KOSAPO_RETURN_IF_ERROR(ReadString(json, "", "title_ja", &tmpl.title_ja));
  KOSAPO_RETURN_IF_ERROR(ReadString(json, "", "title_en", &tmpl.title_en));
  KOSAPO_RETURN_IF_ERROR(ReadNumber(json, "", "review_threshold",
                                    kPositiveNumber, &tmpl.review_threshold));
  KOSAPO_ASSIGN_OR_RETURN(const Json* categories,
                          ReadArray(json, "categories"));
  for (size_t i = 0; i < categories->size(); ++i) {
    KOSAPO_ASSIGN_OR_RETURN(
        Category category,
        ReadCategory((*categories)[i], Element("categories", i)));
    tmpl.categories.push_back(std::move(category));
  }
  KOSAPO_ASSIGN_OR_RETURN(const Json* items, ReadArray(json, "items"));
  for (size_t i = 0; i < items->size(); ++i) {
    KOSAPO_ASSIGN_OR_RETURN(Item item,
                            ReadItem((*items)[i], Element("items", i)));
    tmpl.items.push_back(std::move(item));
  }
  return tmpl;
}

}  // namespace

absl::string_view AnswerKindName(AnswerKind kind) {
  switch (kind) {
    case AnswerKind::kFlag:
      return "flag";
    case AnswerKind::kLevel:
      return "level";
  }
  return "";
}

absl::StatusOr<Template> ParseTemplateJson(absl::string_view json) {
  KOSAPO_ASSIGN_OR_RETURN(const Json document, ParseDocument(json));
  KOSAPO_ASSIGN_OR_RETURN(Template tmpl, ReadTemplate(document));
  KOSAPO_RETURN_IF_ERROR(ValidateTemplate(tmpl));
  return tmpl;
}

std::string TemplateToJson(const Template& tmpl) {
  OrderedJson document = OrderedJson::object();
  document["key"] = tmpl.key;
  document["version"] = tmpl.version;
  document["title_ja"] = tmpl.title_ja;
  document["title_en"] = tmpl.title_en;
  document["review_threshold"] = tmpl.review_threshold;
  OrderedJson categories = OrderedJson::array();
  for (const Category& category : tmpl.categories) {
    OrderedJson json = OrderedJson::object();
    json["code"] = category.code;
    json["label_ja"] = category.label_ja;
    json["label_en"] = category.label_en;
    categories.push_back(std::move(json));
  }
  document["categories"] = std::move(categories);
  OrderedJson items = OrderedJson::array();
  for (const Item& item : tmpl.items) {
    OrderedJson json = OrderedJson::object();
    json["code"] = item.code;
    json["category"] = item.category;
    json["label_ja"] = item.label_ja;
    json["label_en"] = item.label_en;
    json["kind"] = std::string(AnswerKindName(item.kind));
    // A flag's max_level is always 1; written only if it is not, so that an
    // invalid template stays visibly invalid.
    if (item.kind != AnswerKind::kFlag || item.max_level != 1) {
      json["max_level"] = item.max_level;
    }
    json["weight"] = item.weight;
    json["always_review"] = item.always_review;
    items.push_back(std::move(json));
  }
  document["items"] = std::move(items);
  // `replace` keeps dump() from throwing on invalid UTF-8, which only an
  // invalid template can hold.
  return document.dump(2, ' ', /*ensure_ascii=*/false,
                       OrderedJson::error_handler_t::replace);
}

absl::Status ValidateTemplate(const Template& tmpl) {
  KOSAPO_RETURN_IF_ERROR(CheckKey("key", tmpl.key));
  if (tmpl.version < 1) {
    return Invalid("version", kVersionRule);
  }
  KOSAPO_RETURN_IF_ERROR(CheckText("title_ja", tmpl.title_ja));
  KOSAPO_RETURN_IF_ERROR(CheckText("title_en", tmpl.title_en));
  if (!IsPositiveFinite(tmpl.review_threshold)) {
    return Invalid("review_threshold", kPositiveNumber);
  }
  KOSAPO_RETURN_IF_ERROR(CheckCategories(tmpl.categories));
  KOSAPO_RETURN_IF_ERROR(CheckItems(tmpl));
  // Summed in template order, as ComputeScore sums a sheet with every item
  // at its maximum, so the comparison is exact.
  double highest_total = 0;
  for (const Item& item : tmpl.items) {
    highest_total += item.weight;
  }
  if (tmpl.review_threshold > highest_total) {
    return Invalid(
        "review_threshold",
        absl::StrCat(tmpl.review_threshold,
                     " is above the highest possible total ", highest_total));
  }
  return absl::OkStatus();
}

const Item* FindItem(const Template& tmpl, absl::string_view code) {
  for (const Item& item : tmpl.items) {
    if (item.code == code) {
      return &item;
    }
  }
  return nullptr;
}

absl::Status ValidateAnswers(const Template& tmpl,
                             const std::vector<Answer>& answers) {
  // Templates have tens of items and a sheet a few answers: a linear search
  // per answer beats building an index per sheet (the bulk intake's path).
  std::vector<bool> answered(tmpl.items.size(), false);
  for (size_t i = 0; i < answers.size(); ++i) {
    const Answer& answer = answers[i];
    size_t position = 0;
    while (position < tmpl.items.size() &&
           tmpl.items[position].code != answer.item) {
      ++position;
    }
    if (position == tmpl.items.size()) {
      return Invalid(Element("answers", i),
                     absl::StrCat("unknown item ", Quoted(answer.item)));
    }
    const Item& item = tmpl.items[position];
    auto where = [&] {
      return absl::StrCat(Element("answers", i), " (item '", item.code, "')");
    };
    if (answered[position]) {
      return Invalid(where(), "answered twice");
    }
    answered[position] = true;
    if (answer.kind != item.kind) {
      const absl::string_view got = AnswerKindName(answer.kind);
      return Invalid(
          where(),
          absl::StrCat(
              "expected a ", AnswerKindName(item.kind), ", got ",
              got.empty() ? "an unknown kind" : absl::StrCat("a ", got)));
    }
    if (item.kind == AnswerKind::kFlag) {
      if (answer.value != 0 && answer.value != 1) {
        return Invalid(where(), absl::StrCat("flag value ", answer.value,
                                             " must be 0 or 1"));
      }
    } else if (answer.value < 0 || answer.value > item.max_level) {
      return Invalid(where(),
                     absl::StrCat("level ", answer.value, " out of range 0..",
                                  item.max_level));
    }
  }
  return absl::OkStatus();
}

}  // namespace kosapo::screening
