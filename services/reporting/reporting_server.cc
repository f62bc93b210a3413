#include "services/reporting/reporting_server.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/events/consumer.h"
#include "services/reporting/api/access.h"
#include "services/reporting/api/reporting_service.h"
#include "services/reporting/store/projection_store.h"

namespace kosapo::reporting {

const std::vector<pg::Migration>& EmbeddedMigrations();  // from migrations/

namespace {

// Follows one producer's feed into the projections, from its checkpoint.
absl::Status Follow(server::ServiceRuntime& runtime, const std::string& peer,
                    events::EventHandler handler) {
  KOSAPO_ASSIGN_OR_RETURN(auto channel, runtime.peers().Channel(peer));
  server::PeerChannels* peers = &runtime.peers();
  events::ConsumerOptions options;
  options.source = peer;
  auto* consumer = runtime.Keep(std::make_shared<events::EventConsumer>(
      runtime.pool(), channel,
      [peers](grpc::ClientContext& context) {
        return peers->Prepare(context, nullptr, absl::InfiniteDuration());
      },
      options, std::move(handler)));
  consumer->Start();
  runtime.OnDrain([consumer] { consumer->Stop(); });
  return absl::OkStatus();
}

}  // namespace

server::ServiceDefinition Definition() {
  server::ServiceDefinition service;
  service.descriptor.name = "reporting";
  service.descriptor.grpc_service_name = "kosapo.reporting.v1.ReportingService";
  service.descriptor.default_schema = "reporting";
  service.descriptor.default_port = 50054;
  service.descriptor.default_metrics_port = 9454;
  service.descriptor.default_health_port = 8454;
  service.descriptor.peers = {{"screening", "localhost:50051"},
                              {"case", "localhost:50052"},
                              {"referral", "localhost:50053"}};
  service.descriptor.add_options = [](ConfigSpec& spec) {
    spec.AddString("time_zone", "KOSAPO_TIME_ZONE", "Asia/Tokyo",
                   "Time zone of the municipality: the month an urgent "
                   "report's instant falls in, for the hubs' reports.");
    spec.AddString(
        "flag_directions", "KOSAPO_FLAG_DIRECTIONS", "",
        "Which way is worse per rate column of the ward comparison, changing "
        "the defaults (DESIGN.md): comma-separated column=lower|higher|none, "
        "e.g. \"12=none,17=higher\". Empty: the defaults.");
    spec.AddInt("analyst_suppress_below", "KOSAPO_ANALYST_SUPPRESS_BELOW", 0, 0,
                kMaxSuppressBelow,
                "Small-cell suppression analysts always get, whatever they "
                "ask for: counts below this (and rates built on them) are "
                "\"-\" in their comparisons, trends and exports. 0: the "
                "published table's policy, nothing suppressed unless asked.");
  };
  service.migrations = {{"reporting", EmbeddedMigrations()}};
  service.setup = [](server::ServiceRuntime& runtime) -> absl::Status {
    const std::string zone_name =
        runtime.config().options.GetString("time_zone");
    absl::TimeZone time_zone;
    if (!absl::LoadTimeZone(zone_name, &time_zone)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--time_zone (KOSAPO_TIME_ZONE): unknown time zone \"",
                       zone_name, "\""));
    }
    absl::StatusOr<FlagRules> flag_rules =
        ParseFlagRules(runtime.config().options.GetString("flag_directions"));
    if (!flag_rules.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--flag_directions (KOSAPO_FLAG_DIRECTIONS): ",
                       flag_rules.status().message()));
    }
    log::Info("ward comparison flag directions",
              {{"worse_is", FormatFlagRules(*flag_rules)}});
    const int64_t analyst_suppress_below =
        runtime.config().options.GetInt("analyst_suppress_below");
    auto* projections =
        runtime.Keep(std::make_shared<ProjectionStore>(runtime.pool()));
    runtime.AddService(std::make_shared<ReportingServiceImpl>(
        runtime.calls(), *projections, time_zone, *flag_rules,
        static_cast<int>(analyst_suppress_below)));
    KOSAPO_RETURN_IF_ERROR(
        Follow(runtime, "screening",
               [projections](pqxx::work& tx, const events::v1::Event& event) {
                 return projections->ApplyScreening(tx, event);
               }));
    KOSAPO_RETURN_IF_ERROR(
        Follow(runtime, "case",
               [projections](pqxx::work& tx, const events::v1::Event& event) {
                 return projections->ApplyCase(tx, event);
               }));
    return Follow(
        runtime, "referral",
        [projections](pqxx::work& tx, const events::v1::Event& event) {
          return projections->ApplyReferral(tx, event);
        });
  };
  return service;
}

}  // namespace kosapo::reporting
