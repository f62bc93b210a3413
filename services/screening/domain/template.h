// Screening templates: the sheet a school fills in for every pupil (observed
// signs grouped by category, each with a weight), its strict JSON form, and
// the check of one pupil's answers against it. Pure domain: no gRPC, no SQL.
//
// A score computed from a template supports the human decision at screening
// meeting I; it never decides (see scoring.h).
#ifndef KOSAPO_SERVICES_SCREENING_DOMAIN_TEMPLATE_H_
#define KOSAPO_SERVICES_SCREENING_DOMAIN_TEMPLATE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kosapo::screening {

// How an item is answered. A flag is yes (1) or no (0); a level is 0..max_level
// (by convention a frequency: 0 none, 1 sometimes, 2 often, 3 always).
enum class AnswerKind { kFlag, kLevel };

// The wire name of `kind` ("flag" or "level"); empty for a value outside the
// enum.
absl::string_view AnswerKindName(AnswerKind kind);

struct Category {
  // snake_case, unique in the template, e.g. "meals".
  std::string code;
  std::string label_ja;
  std::string label_en;
};

struct Item {
  // Stable, snake_case, unique in the template, e.g. "meals_no_breakfast".
  std::string code;
  // The code of one of the template's categories.
  std::string category;
  std::string label_ja;
  std::string label_en;
  AnswerKind kind = AnswerKind::kFlag;
  // kLevel: 1..10; kFlag: 1.
  int max_level = 1;
  // > 0; an answer scores weight * value / max_level.
  double weight = 0;
  // Any answer above 0 flags the pupil for meeting I whatever the total
  // (e.g. signs of abuse or neglect, young-carer signs).
  bool always_review = false;
};

struct Template {
  // "default" or a municipality's own key: [a-z0-9_-]{1,40}.
  std::string key;
  // >= 1. A version that has been used is immutable; changes make a new one.
  int version = 0;
  std::string title_ja;
  std::string title_en;
  // A total at or above this makes the pupil a meeting-I candidate. > 0 and
  // reachable (at most the sum of all weights).
  double review_threshold = 0;
  // In display order; every category has at least one item.
  std::vector<Category> categories;
  // In display order.
  std::vector<Item> items;
};

// Parses and validates the JSON form of a template:
//
//   {"key": "default", "version": 1, "title_ja": "...", "title_en": "...",
//    "review_threshold": 4.0,
//    "categories": [{"code": "meals", "label_ja": "...", "label_en": "..."}],
//    "items": [{"code": "meals_no_breakfast", "category": "meals",
//               "label_ja": "...", "label_en": "...", "kind": "level",
//               "max_level": 3, "weight": 1.5, "always_review": false}]}
//
// Strict: unknown and duplicate fields are errors, every field has its JSON
// type, "max_level" is required for a level item (and, if given for a flag,
// must be 1), "always_review" defaults to false. Any problem is
// INVALID_ARGUMENT naming its JSON path, e.g.
// "items[4].weight: must be a positive number".
absl::StatusOr<Template> ParseTemplateJson(absl::string_view json);

// The JSON form of `tmpl` (pretty-printed, fields in schema order). For a
// template that passes ValidateTemplate, ParseTemplateJson of the result
// gives back an equal template.
std::string TemplateToJson(const Template& tmpl);

// The rules ParseTemplateJson applies, with the same messages, for templates
// built in code or read from the database: OK or INVALID_ARGUMENT naming the
// JSON path of the first problem.
absl::Status ValidateTemplate(const Template& tmpl);

// The item with `code`, or nullptr. The pointer is into `tmpl`.
const Item* FindItem(const Template& tmpl, absl::string_view code);

// One pupil's answer to one item: flag 0/1, level 0..max_level.
struct Answer {
  std::string item;
  AnswerKind kind = AnswerKind::kFlag;
  int value = 0;
};

// Checks one pupil's answers against a valid template: each names a known
// item, has the item's kind and a value in range, and no item is answered
// twice. Items not answered count as 0 (no). INVALID_ARGUMENT naming the
// position and the item of the first problem, e.g.
// "answers[3] (item 'meals_no_breakfast'): level 5 out of range 0..3".
absl::Status ValidateAnswers(const Template& tmpl,
                             const std::vector<Answer>& answers);

}  // namespace kosapo::screening

#endif  // KOSAPO_SERVICES_SCREENING_DOMAIN_TEMPLATE_H_
