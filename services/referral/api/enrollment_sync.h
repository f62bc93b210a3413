// Keeps the case service's hub enrollments in line with the centre
// director's decisions and the ends of use recorded here.
//
// Why this shape: the decision must be durable whatever the case service
// does, and the case service (not this one) is what lets a hub's operators
// see the child. So a decision or an end only records, in its own
// transaction, what the enrollment should be (HubStore's hub_enrollments
// row, "not synced"). Right after that commits, the handler asks this class
// to tell the case service (SyncNow); if the case service is down or slow,
// the call still succeeds, the usage shows enrollment_synced = false, and a
// background loop retries every pending pair each `interval` until the case
// service has recorded it. SetHubEnrollment is a set (not a toggle), so a
// repeated call is harmless; the row is held while it is sent, so two
// replicas never send an older state after a newer one.
#ifndef KOSAPO_SERVICES_REFERRAL_API_ENROLLMENT_SYNC_H_
#define KOSAPO_SERVICES_REFERRAL_API_ENROLLMENT_SYNC_H_

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "common/server/call_context.h"
#include "services/referral/api/case_client.h"
#include "services/referral/store/hub_store.h"

namespace kosapo::referral {

class EnrollmentSync {
 public:
  EnrollmentSync(HubStore& hubs, const CaseClient& cases,
                 absl::Duration interval);
  ~EnrollmentSync();
  EnrollmentSync(const EnrollmentSync&) = delete;
  EnrollmentSync& operator=(const EnrollmentSync&) = delete;

  // Tells the case service about the child's enrollment at the hub now, as
  // recorded. True when the case service has it; false when it is left for
  // the background loop. `call` is the call being served (for tracing).
  bool SyncNow(const std::string& case_name, const std::string& hub_code,
               const server::CallContext* call);

  // Starts and stops the background loop. Stop is idempotent.
  void Start();
  void Stop();

 private:
  void Run();

  HubStore& hubs_;
  const CaseClient& cases_;
  const absl::Duration interval_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopped_ = false;   // guarded by mutex_
  std::thread thread_;     // started under mutex_
  std::mutex join_mutex_;  // one Stop joins
};

}  // namespace kosapo::referral

#endif  // KOSAPO_SERVICES_REFERRAL_API_ENROLLMENT_SYNC_H_
