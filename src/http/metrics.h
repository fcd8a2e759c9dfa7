#pragma once
// Prometheus text metrics: requests by route and status, latency histograms
// by route, and database pool use. Lock-free on the request path.

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "db/database.h"

namespace dzong::http {

class Metrics {
 public:
  Metrics() { SetRoutes({}); }
  /// `routes` are the labels, one per route-table entry; an extra label
  /// "unmatched" counts requests that matched no route. Called once, when
  /// the route table is complete and before the server starts.
  void SetRoutes(std::vector<std::string> routes);

  /// Index of the "unmatched" series.
  std::size_t unmatched() const { return series_.size() - 1; }
  void Observe(std::size_t route, int status, double seconds);
  void SetInFlight(std::int64_t delta) { in_flight_.fetch_add(delta, std::memory_order_relaxed); }

  std::string Render(const db::PoolStats& pool) const;

  static constexpr std::array<double, 14> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                      0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   5.0};

 private:
  struct Series {
    std::string label;
    std::array<std::atomic<std::uint64_t>, 500> by_status{};  ///< index: status - 100
    std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> buckets{};
    std::atomic<std::uint64_t> count{0};
    std::atomic<std::uint64_t> sum_micros{0};
  };
  std::vector<std::unique_ptr<Series>> series_;
  std::atomic<std::int64_t> in_flight_{0};
};

}  // namespace dzong::http
