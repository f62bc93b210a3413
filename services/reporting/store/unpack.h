// Reading an event's payload in the projections' Apply* handlers.
#ifndef KOSAPO_SERVICES_REPORTING_STORE_UNPACK_H_
#define KOSAPO_SERVICES_REPORTING_STORE_UNPACK_H_

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "kosapo/events/v1/events.pb.h"

namespace kosapo::reporting {

// Unpacks `event`'s payload, known to be a `Message`; DATA_LOSS when it
// does not parse (the consumer then stops at this event instead of skipping
// it).
template <typename Message>
absl::Status Unpack(const events::v1::Event& event, Message* message) {
  if (!event.payload().UnpackTo(message)) {
    return absl::DataLossError(absl::StrCat("event ", event.sequence(), " (",
                                            event.payload().type_url(),
                                            ") does not parse"));
  }
  return absl::OkStatus();
}

}  // namespace kosapo::reporting

#endif  // KOSAPO_SERVICES_REPORTING_STORE_UNPACK_H_
