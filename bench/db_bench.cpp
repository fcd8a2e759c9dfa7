// Durable single-row writes: raw SQLite commits (one fsync each, the disk's
// rate) against dzong's Write() from many threads, which the group committer
// folds into shared commits. Both run in the same process on the same disk;
// the last line prints the ratio.
#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <fmt/format.h>

#include "db/database.h"

namespace {

std::string TempPath(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / "dzong-bench";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

void RawSqliteCommit(benchmark::State& state) {
  const std::string path = TempPath("raw.db");
  std::filesystem::remove(path);
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO t (v) VALUES (?)", -1, &insert, nullptr);
  for (auto _ : state) {
    sqlite3_bind_text(insert, 1, "a durable row", -1, SQLITE_STATIC);
    if (sqlite3_step(insert) != SQLITE_DONE) state.SkipWithError("insert failed");
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  sqlite3_close(db);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(RawSqliteCommit)->UseRealTime()->MinTime(2.0);

std::unique_ptr<dzong::db::Database> shared_db;
std::mutex setup_mutex;

void GroupCommitWrite(benchmark::State& state) {
  if (state.thread_index() == 0) {
    std::lock_guard lock(setup_mutex);
    const std::string path = TempPath("group.db");
    std::filesystem::remove(path);
    shared_db = std::move(dzong::db::Open({"sqlite://" + path, 4, 256}).value());
    (void)shared_db->Write([](dzong::db::Connection& c) {
      return c.Script("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    });
  }
  for (auto _ : state) {
    dzong::Status s = shared_db->Write([](dzong::db::Connection& c) -> dzong::Status {
      const dzong::db::Value v[] = {std::string("a durable row")};
      DZONG_TRY(c.Execute("INSERT INTO t (v) VALUES (?)", v));
      return {};
    });
    if (!s.ok()) state.SkipWithError(s.error().message.c_str());
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    const auto stats = shared_db->Stats();
    state.counters["writes_per_commit"] =
        stats.commits ? static_cast<double>(stats.writes) / static_cast<double>(stats.commits) : 0;
  }
}
BENCHMARK(GroupCommitWrite)->UseRealTime()->MinTime(2.0)->Threads(1)->Threads(16)->Threads(64);

/// Prints as usual and keeps items/s per benchmark for the ratio line.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      auto it = run.counters.find("items_per_second");
      if (it != run.counters.end()) rates[run.benchmark_name()] = it->second.value;
    }
  }
  std::map<std::string, double> rates;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  shared_db.reset();
  const auto raw = reporter.rates.find("RawSqliteCommit/min_time:2.000/real_time");
  if (raw == reporter.rates.end() || raw->second <= 0) return 0;
  std::printf("\nreference: raw SQLite durable commits %.0f/s\n", raw->second);
  for (const auto& [name, rate] : reporter.rates) {
    if (name.starts_with("GroupCommitWrite")) std::printf("%s: %.0f writes/s, ratio to reference %.2f\n", name.c_str(), rate, rate / raw->second);
  }
  std::filesystem::remove_all(std::filesystem::temp_directory_path() / "dzong-bench");
  return 0;
}
