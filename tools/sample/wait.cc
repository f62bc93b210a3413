// Waiting for the reporting service to catch up with the feeds.
#include "tools/sample/wait.h"

#include <grpcpp/client_context.h>

#include <algorithm>
#include <chrono>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/server/grpc_status.h"
#include "kosapo/events/v1/events.grpc.pb.h"
#include "kosapo/reporting/v1/reporting.grpc.pb.h"

namespace kosapo::sample {
namespace {

std::unique_ptr<grpc::ClientContext> As(const FeedSources& sources,
                                        auth::Role role) {
  auth::Principal principal;
  principal.subject =
      role == auth::Role::kService
          ? absl::StrCat("service:", sources.service_name)
          : absl::StrCat("sample-wait:", std::string(auth::RoleName(role)));
  principal.role = role;
  principal.municipality = sources.municipality;
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization",
                       absl::StrCat("Bearer ", sources.sign(principal)));
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(30));
  return context;
}

absl::Status CallFailed(const grpc::Status& status, absl::string_view what) {
  const absl::Status failed = server::FromGrpcStatus(status);
  return absl::Status(failed.code(),
                      absl::StrCat(what, ": ", failed.message()));
}

}  // namespace

absl::Status WaitForReporting(const FeedSources& sources,
                              absl::Duration timeout) {
  std::map<std::string, int64_t> heads;
  for (const auto& [source, channel] : sources.producers) {
    events::v1::ListEventsRequest request;
    request.set_page_size(1);
    // After the head is read, no event is needed: ask from far ahead.
    request.set_after_sequence(std::numeric_limits<int64_t>::max() / 2);
    events::v1::ListEventsResponse response;
    const grpc::Status status =
        events::v1::EventFeed::NewStub(channel)->ListEvents(
            As(sources, auth::Role::kService).get(), request, &response);
    if (!status.ok()) {
      return CallFailed(
          status, absl::StrCat("reading the head of the ", source, " feed"));
    }
    heads[source] = response.head_sequence();
  }
  auto reporting = reporting::v1::ReportingService::NewStub(sources.reporting);
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration pause = absl::Milliseconds(50);
  while (true) {
    reporting::v1::ProjectionStatus status;
    const grpc::Status called = reporting->GetProjectionStatus(
        As(sources, auth::Role::kService).get(),
        reporting::v1::GetProjectionStatusRequest(), &status);
    if (!called.ok()) {
      return CallFailed(called, "asking the reporting service how far it is");
    }
    std::map<std::string, int64_t> applied;
    for (const auto& feed : status.feeds()) {
      applied[feed.source()] = feed.applied_sequence();
    }
    std::string behind;
    for (const auto& [source, head] : heads) {
      if (applied[source] < head) {
        absl::StrAppend(&behind, behind.empty() ? "" : ", ", source, " at ",
                        applied[source], " of ", head);
      }
    }
    if (behind.empty()) {
      return absl::OkStatus();
    }
    if (absl::Now() + pause > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "the reporting service has not applied every feed after ",
          absl::FormatDuration(timeout), ": ", behind, " (see its log)"));
    }
    // Polls quickly at first, then at most every second.
    absl::SleepFor(pause);
    pause = std::min(pause * 2, absl::Seconds(1));
  }
}

}  // namespace kosapo::sample
