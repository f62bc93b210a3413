#include "services/case/case_server.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/base/log.h"
#include "common/base/status.h"
#include "common/events/consumer.h"
#include "common/types/api_types.h"
#include "kosapo/screening/v1/events.pb.h"
#include "services/case/api/case_service.h"
#include "services/case/store/case_store.h"
#include "services/case/store/retention_store.h"
#include "services/case/store/urgent_store.h"
#include "services/case/store/work_store.h"

namespace kosapo::cases {

const std::vector<pg::Migration>& EmbeddedMigrations();  // from migrations/

namespace {

// Applies the screening feed: extractions open cases, withdrawals withdraw
// them; every other event of that feed is not the case service's concern.
events::EventHandler ExtractionHandler(CaseStore& cases) {
  return [&cases](pqxx::work& tx, const events::v1::Event& event) {
    screening::v1::PupilExtracted extracted;
    if (event.payload().Is<screening::v1::PupilExtracted>()) {
      if (!event.payload().UnpackTo(&extracted)) {
        return absl::DataLossError(
            absl::StrCat("screening event ", event.sequence(),
                         " does not parse as PupilExtracted"));
      }
      return cases.ApplyExtraction(tx, event.sequence(), extracted);
    }
    screening::v1::ExtractionWithdrawn withdrawn;
    if (event.payload().Is<screening::v1::ExtractionWithdrawn>()) {
      if (!event.payload().UnpackTo(&withdrawn)) {
        return absl::DataLossError(
            absl::StrCat("screening event ", event.sequence(),
                         " does not parse as ExtractionWithdrawn"));
      }
      return cases.ApplyExtractionWithdrawn(tx, event.sequence(), withdrawn);
    }
    return absl::OkStatus();
  };
}

}  // namespace

server::ServiceDefinition Definition(std::shared_ptr<const Clock> clock) {
  server::ServiceDefinition service;
  service.descriptor.name = "case";
  service.descriptor.grpc_service_name = "kosapo.cases.v1.CaseService";
  service.descriptor.default_schema = "cases";
  service.descriptor.default_port = 50052;
  service.descriptor.default_metrics_port = 9452;
  service.descriptor.default_health_port = 8452;
  service.descriptor.peers = {{"screening", "localhost:50051"}};
  service.descriptor.field_keys = true;
  service.descriptor.add_options = [](ConfigSpec& spec) {
    spec.AddDuration("urgent_ack_within", "KOSAPO_URGENT_ACK_WITHIN",
                     absl::Hours(2), absl::Minutes(1),
                     "How long after it is raised an urgent report must be "
                     "acknowledged before it is listed as overdue.")
        .AddString("time_zone", "KOSAPO_TIME_ZONE", "Asia/Tokyo",
                   "Time zone of business dates (\"not after today\", fiscal "
                   "years).")
        .AddBool("follow_screening", "KOSAPO_FOLLOW_SCREENING", true,
                 "Open cases from the screening service's extraction events.")
        .AddDuration("retention_period", "KOSAPO_RETENTION_PERIOD",
                     absl::Hours(24 * 1826), absl::ZeroDuration(),
                     "How long a case's personal data is kept after the case "
                     "ended (closed or withdrawn) before it is erased; set it "
                     "to the city's records-retention rule (default 5 "
                     "years); 0 keeps it forever.")
        .AddDuration("retention_interval", "KOSAPO_RETENTION_INTERVAL",
                     absl::Hours(1), absl::Milliseconds(100),
                     "How often the retention sweep looks for cases due.");
  };
  service.migrations = {{"case", EmbeddedMigrations()}};
  service.setup = [clock](server::ServiceRuntime& runtime) -> absl::Status {
    const Config& options = runtime.config().options;
    CaseSettings settings;
    settings.clock = clock;
    settings.time_zone = options.GetString("time_zone");
    settings.urgent_ack_within = options.GetDuration("urgent_ack_within");
    KOSAPO_RETURN_IF_ERROR(DayIn(clock->Now(), settings.time_zone).status());
    const crypto::FieldCipher& cipher = *runtime.config().field_cipher;
    auto* cases =
        runtime.Keep(std::make_shared<CaseStore>(runtime.pool(), cipher));
    auto* work =
        runtime.Keep(std::make_shared<WorkStore>(runtime.pool(), cipher));
    auto* urgent =
        runtime.Keep(std::make_shared<UrgentStore>(runtime.pool(), cipher));
    auto* retention =
        runtime.Keep(std::make_shared<RetentionStore>(runtime.pool()));
    runtime.AddService(std::make_shared<CaseServiceImpl>(
        runtime.calls(), *cases, *work, *urgent, std::move(settings)));
    // For the KosapoUrgentReportsUnacknowledged alert (deploy/): the
    // database's clock, as in production the service's clock is the real one.
    runtime.metrics().AddQueryGauge(
        runtime.pool(),
        {"kosapo_case_urgent_reports_overdue",
         "Unacknowledged urgent reports past their acknowledgement deadline.",
         "SELECT count(*) FROM urgent_reports"
         " WHERE ack_time IS NULL AND due_time < now()",
         ""});

    RetentionSettings retention_settings;
    retention_settings.period = options.GetDuration("retention_period");
    retention_settings.interval = options.GetDuration("retention_interval");
    retention_settings.time_zone = options.GetString("time_zone");
    retention_settings.clock = clock;
    auto* sweeper = runtime.Keep(std::make_shared<RetentionSweeper>(
        *retention, std::move(retention_settings)));
    sweeper->Start();
    runtime.OnDrain([sweeper] { sweeper->Stop(); });

    if (options.GetBool("follow_screening")) {
      KOSAPO_ASSIGN_OR_RETURN(auto channel,
                              runtime.peers().Channel("screening"));
      server::PeerChannels* peers = &runtime.peers();
      events::ConsumerOptions consumer_options;
      consumer_options.source = "screening";
      auto* consumer = runtime.Keep(std::make_shared<events::EventConsumer>(
          runtime.pool(), channel,
          [peers](grpc::ClientContext& context) {
            return peers->Prepare(context, nullptr, absl::InfiniteDuration());
          },
          consumer_options, ExtractionHandler(*cases)));
      consumer->Start();
      runtime.OnDrain([consumer] { consumer->Stop(); });
    }
    return absl::OkStatus();
  };
  return service;
}

}  // namespace kosapo::cases
