#include "http/metrics.h"

#include <fmt/format.h>

namespace dzong::http {
namespace {

std::string EscapeLabel(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

void Metrics::SetRoutes(std::vector<std::string> routes) {
  series_.clear();
  routes.emplace_back("unmatched");
  for (std::string& label : routes) {
    auto series = std::make_unique<Series>();
    series->label = EscapeLabel(label);
    series_.push_back(std::move(series));
  }
}

void Metrics::Observe(std::size_t route, int status, double seconds) {
  Series& s = *series_.at(route < series_.size() ? route : unmatched());
  if (status >= 100 && status < 600) s.by_status[static_cast<std::size_t>(status - 100)].fetch_add(1, std::memory_order_relaxed);
  std::size_t bucket = 0;
  while (bucket < kBuckets.size() && seconds > kBuckets[bucket]) ++bucket;
  s.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  s.count.fetch_add(1, std::memory_order_relaxed);
  s.sum_micros.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

std::string Metrics::Render(const db::PoolStats& pool) const {
  std::string out;
  out += "# HELP dzong_http_requests_total HTTP requests answered, by route and status.\n";
  out += "# TYPE dzong_http_requests_total counter\n";
  for (const auto& s : series_) {
    for (std::size_t i = 0; i < s->by_status.size(); ++i) {
      const auto n = s->by_status[i].load(std::memory_order_relaxed);
      if (n) out += fmt::format("dzong_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", s->label, i + 100, n);
    }
  }
  out += "# HELP dzong_http_request_duration_seconds Time from a parsed request to its response, by route.\n";
  out += "# TYPE dzong_http_request_duration_seconds histogram\n";
  for (const auto& s : series_) {
    const auto count = s->count.load(std::memory_order_relaxed);
    if (!count) continue;
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < kBuckets.size(); ++b) {
      cumulative += s->buckets[b].load(std::memory_order_relaxed);
      out += fmt::format("dzong_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", s->label,
                         kBuckets[b], cumulative);
    }
    cumulative += s->buckets[kBuckets.size()].load(std::memory_order_relaxed);
    out += fmt::format("dzong_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", s->label,
                       cumulative);
    out += fmt::format("dzong_http_request_duration_seconds_sum{{route=\"{}\"}} {:.6f}\n", s->label,
                       static_cast<double>(s->sum_micros.load(std::memory_order_relaxed)) / 1e6);
    out += fmt::format("dzong_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", s->label, cumulative);
  }
  out += "# HELP dzong_http_requests_in_flight Requests being handled now.\n# TYPE dzong_http_requests_in_flight gauge\n";
  out += fmt::format("dzong_http_requests_in_flight {}\n", in_flight_.load(std::memory_order_relaxed));
  out += "# HELP dzong_db_pool_connections Open database connections.\n# TYPE dzong_db_pool_connections gauge\n";
  out += fmt::format("dzong_db_pool_connections {}\n", pool.connections);
  out += "# HELP dzong_db_pool_in_use Database connections lent out.\n# TYPE dzong_db_pool_in_use gauge\n";
  out += fmt::format("dzong_db_pool_in_use {}\n", pool.in_use);
  out += "# HELP dzong_db_pool_waiting Callers waiting for a connection.\n# TYPE dzong_db_pool_waiting gauge\n";
  out += fmt::format("dzong_db_pool_waiting {}\n", pool.waiting);
  out += "# HELP dzong_db_write_queue Writes waiting for the group committer.\n# TYPE dzong_db_write_queue gauge\n";
  out += fmt::format("dzong_db_write_queue {}\n", pool.write_queue);
  out += "# HELP dzong_db_commits_total Write transactions committed.\n# TYPE dzong_db_commits_total counter\n";
  out += fmt::format("dzong_db_commits_total {}\n", pool.commits);
  out += "# HELP dzong_db_writes_total Writes acknowledged.\n# TYPE dzong_db_writes_total counter\n";
  out += fmt::format("dzong_db_writes_total {}\n", pool.writes);
  return out;
}

}  // namespace dzong::http
