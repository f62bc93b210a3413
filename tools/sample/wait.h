// Waiting, from outside, until the reporting service's projections include
// everything the other services have written: each producer's feed head
// (EventFeed.ListEvents) against what reporting has applied
// (ReportingService.GetProjectionStatus). No sleeps standing in for this.
#ifndef KOSAPO_TOOLS_SAMPLE_WAIT_H_
#define KOSAPO_TOOLS_SAMPLE_WAIT_H_

#include <grpcpp/channel.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/auth/principal.h"

namespace kosapo::sample {

struct FeedSources {
  // The producers reporting follows, by source name ("screening", ...).
  std::map<std::string, std::shared_ptr<grpc::Channel>> producers;
  std::shared_ptr<grpc::Channel> reporting;
  // Signs the service tokens that read the feeds' heads and the projection
  // status (which gives a feed's sequence to services only). Over mutual
  // TLS every channel here must hold the certificate of service
  // `service_name`, which the service token names
  // ("service:<service_name>").
  std::function<std::string(const auth::Principal&)> sign;
  std::string municipality;
  std::string service_name = "sample";
};

// Reads each producer's head once, then waits until reporting has applied
// every feed up to it. DEADLINE_EXCEEDED after `timeout`, naming the feeds
// still behind; the error of a failing call otherwise.
absl::Status WaitForReporting(const FeedSources& sources,
                              absl::Duration timeout);

}  // namespace kosapo::sample

#endif  // KOSAPO_TOOLS_SAMPLE_WAIT_H_
