// Checks every screening handler makes on its caller.
#ifndef KOSAPO_SERVICES_SCREENING_API_CALL_CHECKS_H_
#define KOSAPO_SERVICES_SCREENING_API_CALL_CHECKS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/server/call_context.h"
#include "common/server/caller.h"
#include "services/screening/store/audit_store.h"
#include "services/screening/store/registry_store.h"

namespace kosapo::screening {

// Who is acting, for records and events.
Actor ActorOf(const server::CallContext& call);

// Who reads or writes pupils' data in this call, for the audit: the caller,
// with the purpose the call's metadata stated (server::PurposeOf, checked
// before any handler runs).
Accessor AccessorOf(const server::CallContext& call);

// Registry, template and round writes are city operations' work, for their
// own municipality.
absl::Status RequireOperations(const server::CallContext& call,
                               absl::string_view municipality,
                               absl::string_view action);

// The municipality code of `parent`, after checking the caller acts for it.
using server::CallerMunicipality;

// Sheets are for the staff of the pupil's school only.
absl::Status RequireSchoolStaff(const server::CallContext& call,
                                absl::string_view school_code);

}  // namespace kosapo::screening

#endif  // KOSAPO_SERVICES_SCREENING_API_CALL_CHECKS_H_
