// Prometheus metrics: the gRPC server families every service exports (the
// names go-grpc-prometheus made common), database pool gauges, and an HTTP
// endpoint on a port of its own serving /metrics.
#ifndef KOSAPO_COMMON_SERVER_METRICS_H_
#define KOSAPO_COMMON_SERVER_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/pg/pool.h"

namespace kosapo::server {

class Metrics {
 public:
  Metrics();

  prometheus::Registry& registry() { return *registry_; }

  // grpc_server_started_total{grpc_type,grpc_service,grpc_method}
  prometheus::Family<prometheus::Counter>& started() { return started_; }
  // grpc_server_handled_total{grpc_type,grpc_service,grpc_method,grpc_code}
  prometheus::Family<prometheus::Counter>& handled() { return handled_; }
  // grpc_server_handling_seconds{grpc_type,grpc_service,grpc_method}
  prometheus::Family<prometheus::Histogram>& handling_seconds() {
    return handling_seconds_;
  }
  static const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

  // Exports kosapo_db_pool_* for `pool`, read at every scrape. The pool must
  // outlive the exposer.
  void AddPool(const pg::Pool& pool);

  // A gauge read from the service's database at every scrape, so it is
  // never stale: `sql` returns one row per series, either one column (the
  // value) when `label` is empty, or two (the value of `label`, the value).
  // While the database cannot answer, the gauge is left out of the scrape
  // (absent, never a wrong number); the "not serving" alert covers that.
  struct QueryGauge {
    std::string name;
    std::string help;
    std::string sql;
    std::string label;
  };
  void AddQueryGauge(pg::Pool& pool, QueryGauge gauge);

  // Serves /metrics on `address` ("0.0.0.0:9090"; port 0 picks one).
  // Returns the bound port.
  absl::StatusOr<int> Serve(const std::string& address);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& started_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& handling_seconds_;
  void AddCollectable(std::shared_ptr<prometheus::Collectable> collectable);

  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace kosapo::server

#endif  // KOSAPO_COMMON_SERVER_METRICS_H_
