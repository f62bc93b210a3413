#include "services/screening/api/template_mapping.h"

#include "absl/strings/str_cat.h"
#include "services/screening/domain/round_rules.h"

namespace kosapo::screening {

v1::Template TemplateToProto(const Template& model) {
  v1::Template proto;
  proto.set_name(TemplateName(model.key, model.version));
  proto.set_key(model.key);
  proto.set_version(model.version);
  proto.set_title_ja(model.title_ja);
  proto.set_title_en(model.title_en);
  proto.set_review_threshold(model.review_threshold);
  for (const Category& category : model.categories) {
    v1::TemplateCategory* out = proto.add_categories();
    out->set_code(category.code);
    out->set_label_ja(category.label_ja);
    out->set_label_en(category.label_en);
  }
  for (const Item& item : model.items) {
    v1::TemplateItem* out = proto.add_items();
    out->set_code(item.code);
    out->set_category(item.category);
    out->set_label_ja(item.label_ja);
    out->set_label_en(item.label_en);
    out->set_kind(item.kind == AnswerKind::kFlag ? v1::ANSWER_KIND_FLAG
                                                 : v1::ANSWER_KIND_LEVEL);
    out->set_max_level(item.max_level);
    out->set_weight(item.weight);
    out->set_always_review(item.always_review);
  }
  return proto;
}

absl::StatusOr<Template> TemplateFromProto(const v1::Template& proto) {
  Template model;
  model.key = proto.key();
  model.version = proto.version();
  model.title_ja = proto.title_ja();
  model.title_en = proto.title_en();
  model.review_threshold = proto.review_threshold();
  for (const v1::TemplateCategory& category : proto.categories()) {
    model.categories.push_back(
        Category{category.code(), category.label_ja(), category.label_en()});
  }
  for (int i = 0; i < proto.items_size(); ++i) {
    const v1::TemplateItem& item = proto.items(i);
    Item out;
    out.code = item.code();
    out.category = item.category();
    out.label_ja = item.label_ja();
    out.label_en = item.label_en();
    switch (item.kind()) {
      case v1::ANSWER_KIND_FLAG:
        out.kind = AnswerKind::kFlag;
        out.max_level = item.max_level() == 0 ? 1 : item.max_level();
        break;
      case v1::ANSWER_KIND_LEVEL:
        out.kind = AnswerKind::kLevel;
        out.max_level = item.max_level();
        break;
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("template.items[", i, "].kind: required"));
    }
    out.weight = item.weight();
    out.always_review = item.always_review();
    model.items.push_back(std::move(out));
  }
  return model;
}

}  // namespace kosapo::screening
