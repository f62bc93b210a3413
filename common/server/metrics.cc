#include "common/server/metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <pqxx/result>

#include "absl/strings/str_cat.h"
#include "common/pg/transaction.h"

namespace kosapo::server {
namespace {

prometheus::MetricFamily GaugeFamily(
    std::string name, std::string help, double value,
    prometheus::MetricType type = prometheus::MetricType::Gauge) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return family;
}

// Reads the pool's counters at scrape time, so they are never stale.
class PoolCollector : public prometheus::Collectable {
 public:
  explicit PoolCollector(const pg::Pool& pool) : pool_(pool) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    const pg::Pool::Stats stats = pool_.GetStats();
    using prometheus::MetricType;
    return {
        GaugeFamily("kosapo_db_pool_size", "Configured pool size.", stats.size),
        GaugeFamily("kosapo_db_pool_in_use", "Connections lent out.",
                    stats.in_use),
        GaugeFamily("kosapo_db_pool_open", "Connections open.", stats.open),
        GaugeFamily("kosapo_db_pool_acquired_total", "Connections acquired.",
                    static_cast<double>(stats.acquired_total),
                    MetricType::Counter),
        GaugeFamily("kosapo_db_pool_timeouts_total",
                    "Acquires that found no free connection in time.",
                    static_cast<double>(stats.timeouts_total),
                    MetricType::Counter),
        GaugeFamily("kosapo_db_pool_connect_failures_total",
                    "Failed attempts to open a connection.",
                    static_cast<double>(stats.connect_failures_total),
                    MetricType::Counter),
    };
  }

 private:
  const pg::Pool& pool_;
};

// Runs a QueryGauge's query at scrape time.
class QueryCollector : public prometheus::Collectable {
 public:
  QueryCollector(pg::Pool& pool, Metrics::QueryGauge gauge)
      : pool_(pool), gauge_(std::move(gauge)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    // One attempt: a scrape must not wait out retries; the next one asks
    // again.
    pg::TxOptions options = pg::TxOptions::ReadOnly();
    options.max_attempts = 1;
    absl::StatusOr<pqxx::result> rows = pg::InTransaction(
        pool_, gauge_.name,
        [&](pqxx::work& tx) -> absl::StatusOr<pqxx::result> {
          return tx.exec(gauge_.sql);
        },
        options);
    if (!rows.ok()) {
      return {};
    }
    prometheus::MetricFamily family;
    family.name = gauge_.name;
    family.help = gauge_.help;
    family.type = prometheus::MetricType::Gauge;
    const bool labelled = !gauge_.label.empty();
    for (const pqxx::row& row : *rows) {
      prometheus::ClientMetric metric;
      if (labelled) {
        metric.label.push_back({gauge_.label, row[0].as<std::string>()});
      }
      metric.gauge.value = row[labelled ? 1 : 0].as<double>();
      family.metric.push_back(std::move(metric));
    }
    return {std::move(family)};
  }

 private:
  pg::Pool& pool_;
  const Metrics::QueryGauge gauge_;
};

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      started_(prometheus::BuildCounter()
                   .Name("grpc_server_started_total")
                   .Help("Total number of RPCs started on the server.")
                   .Register(*registry_)),
      handled_(prometheus::BuildCounter()
                   .Name("grpc_server_handled_total")
                   .Help("Total number of RPCs completed on the server, "
                         "regardless of success or failure.")
                   .Register(*registry_)),
      handling_seconds_(
          prometheus::BuildHistogram()
              .Name("grpc_server_handling_seconds")
              .Help("Histogram of response latency (seconds) of gRPC calls "
                    "handled by the server.")
              .Register(*registry_)) {}

const prometheus::Histogram::BucketBoundaries& Metrics::LatencyBuckets() {
  static const auto* const kBuckets =
      new prometheus::Histogram::BucketBoundaries{
          0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *kBuckets;
}

void Metrics::AddPool(const pg::Pool& pool) {
  AddCollectable(std::make_shared<PoolCollector>(pool));
}

void Metrics::AddQueryGauge(pg::Pool& pool, QueryGauge gauge) {
  AddCollectable(std::make_shared<QueryCollector>(pool, std::move(gauge)));
}

void Metrics::AddCollectable(
    std::shared_ptr<prometheus::Collectable> collectable) {
  collectables_.push_back(std::move(collectable));
  if (exposer_ != nullptr) {
    exposer_->RegisterCollectable(collectables_.back());
  }
}

absl::StatusOr<int> Metrics::Serve(const std::string& address) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& error) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address, ": ", error.what()));
  }
  exposer_->RegisterCollectable(registry_);
  for (const auto& collectable : collectables_) {
    exposer_->RegisterCollectable(collectable);
  }
  const std::vector<int> ports = exposer_->GetListeningPorts();
  if (ports.empty()) {
    return absl::UnavailableError(
        absl::StrCat("metrics endpoint did not bind ", address));
  }
  return ports.front();
}

}  // namespace kosapo::server
