// Between the template domain model and its API form.
#ifndef KOSAPO_SERVICES_SCREENING_API_TEMPLATE_MAPPING_H_
#define KOSAPO_SERVICES_SCREENING_API_TEMPLATE_MAPPING_H_

#include "absl/status/statusor.h"
#include "kosapo/screening/v1/screening.pb.h"
#include "services/screening/domain/template.h"

namespace kosapo::screening {

v1::Template TemplateToProto(const Template& model);
// INVALID_ARGUMENT naming the field for an unset answer kind; the domain
// rules (ValidateTemplate) check the rest.
absl::StatusOr<Template> TemplateFromProto(const v1::Template& proto);

}  // namespace kosapo::screening

#endif  // KOSAPO_SERVICES_SCREENING_API_TEMPLATE_MAPPING_H_
