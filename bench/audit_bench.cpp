// The audit log's costs, each against a reference measured in the same run:
// appending inside a transaction, one at a time and in batches (against a
// bare SQLite insert of a similar row); durable appends from concurrent
// callers through the group-committing Appender (against single-row durable
// commits: the disk's fsync rate); and verifying the chain (against SHA-256
// alone over the same encodings, and against reading the rows without
// checking them).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <map>

#include "base/clock.h"
#include "base/crypto.h"
#include "db/database.h"
#include "db/migrate.h"
#include "main/app.h"
#include "modules/audit/audit.h"

namespace {

namespace fs = std::filesystem;

std::unique_ptr<dzong::db::Database> Fresh(const std::string& name) {
  const auto dir = fs::temp_directory_path() / "dzong-audit-bench";
  fs::create_directories(dir);
  fs::remove(dir / name);
  auto db = std::move(dzong::db::Open({"sqlite://" + (dir / name).string(), 4, 256}).value());
  dzong::SystemClock clock;
  const auto modules = dzong::AllMigrations();
  (void)dzong::db::Migrate(*db, modules, clock).value();
  return db;
}

dzong::audit::Event Sample() {
  dzong::audit::Actor actor;
  actor.id = "pema.wangmo";
  actor.organisation = "DCRC";
  actor.request_id = "3f2a9c1e-1a2b";
  actor.remote = "10.0.0.7";
  actor.purpose = "application BT-2026-000123";
  auto e = dzong::audit::For(actor, "registry.read", "person", "11410012345", R"({"fields":["name","dzongkhag"]})");
  e.subject = "11410012345";
  return e;
}

constexpr int kBatch = 1000;

void AuditAppend(benchmark::State& state) {
  auto db = Fresh("append.db");
  dzong::SystemClock clock;
  const auto event = Sample();
  for (auto _ : state) {
    dzong::Status s = db->Write([&](dzong::db::Connection& c) -> dzong::Status {
      for (int i = 0; i < kBatch; ++i) DZONG_TRY(dzong::audit::Append(c, event, clock));
      return {};
    });
    if (!s.ok()) state.SkipWithError(s.error().message.c_str());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(AuditAppend)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();

// The amortised cost: events appended 64 at a time (one head update, one
// multi-row insert), as the Appender writes them under load.
void AuditAppendBatched(benchmark::State& state) {
  auto db = Fresh("batched.db");
  dzong::SystemClock clock;
  const std::vector<dzong::audit::Event> batch(64, Sample());
  for (auto _ : state) {
    dzong::Status s = db->Write([&](dzong::db::Connection& c) -> dzong::Status {
      for (int i = 0; i < kBatch / 64; ++i) DZONG_TRY(dzong::audit::AppendAll(c, batch, clock));
      return {};
    });
    if (!s.ok()) state.SkipWithError(s.error().message.c_str());
  }
  state.SetItemsProcessed(state.iterations() * (kBatch / 64) * 64);
}
BENCHMARK(AuditAppendBatched)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();

// Durable single-row commits, one after another: the disk's fsync rate.
void DurableCommit(benchmark::State& state) {
  auto db = Fresh("fsync.db");
  (void)db->Write([](dzong::db::Connection& c) { return c.Script("CREATE TABLE one (id INTEGER PRIMARY KEY, v TEXT)"); });
  for (auto _ : state) {
    dzong::Status s = db->Write([&](dzong::db::Connection& c) -> dzong::Status {
      const dzong::db::Value v[] = {std::string("x")};
      DZONG_TRY(c.Execute("INSERT INTO one (v) VALUES (?)", v));
      return {};
    });
    if (!s.ok()) state.SkipWithError(s.error().message.c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(DurableCommit)->MinTime(2.0)->UseRealTime();

// Durable appends from 32 concurrent callers, each waiting for its own event
// to be on disk: the route table's records of calls under load.
void DurableAppends(benchmark::State& state) {
  static std::unique_ptr<dzong::db::Database> db;
  static std::unique_ptr<dzong::audit::Appender> appender;
  static dzong::SystemClock clock;
  if (state.thread_index() == 0) {
    db = Fresh("durable.db");
    appender = std::make_unique<dzong::audit::Appender>(*db, clock);
  }
  const auto event = Sample();
  for (auto _ : state) {
    dzong::Status s = appender->Record({event});
    if (!s.ok()) state.SkipWithError(s.error().message.c_str());
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    appender.reset();
    db.reset();
  }
}
BENCHMARK(DurableAppends)->Threads(32)->MinTime(2.0)->UseRealTime();

void PlainInsert(benchmark::State& state) {
  auto db = Fresh("plain.db");
  (void)db->Write([](dzong::db::Connection& c) {
    return c.Script("CREATE TABLE plain (seq INTEGER PRIMARY KEY, actor TEXT, action TEXT, object_id TEXT, "
                    "detail TEXT, hash TEXT)");
  });
  for (auto _ : state) {
    dzong::Status s = db->Write([&](dzong::db::Connection& c) -> dzong::Status {
      for (int i = 0; i < kBatch; ++i) {
        const dzong::db::Value v[] = {std::string("pema.wangmo"), std::string("registry.read"),
                                      std::string("11410012345"), std::string(R"({"fields":["name"]})"),
                                      std::string(64, 'a')};
        DZONG_TRY(c.Execute("INSERT INTO plain (actor, action, object_id, detail, hash) VALUES (?, ?, ?, ?, ?)", v));
      }
      return {};
    });
    if (!s.ok()) state.SkipWithError(s.error().message.c_str());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(PlainInsert)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();

constexpr int kVerifyEvents = 200000;

void AuditVerify(benchmark::State& state) {
  static auto db = [] {
    auto fresh = Fresh("verify.db");
    dzong::SystemClock clock;
    const auto event = Sample();
    (void)fresh->Write([&](dzong::db::Connection& c) -> dzong::Status {
      const std::vector<dzong::audit::Event> batch(100, event);
      for (int i = 0; i < kVerifyEvents / 100; ++i) DZONG_TRY(dzong::audit::AppendAll(c, batch, clock));
      return {};
    });
    return fresh;
  }();
  for (auto _ : state) {
    auto report = dzong::audit::Verify(*db, {}).value();
    if (report.broken_at || report.events != kVerifyEvents) state.SkipWithError("chain did not verify");
  }
  state.SetItemsProcessed(state.iterations() * kVerifyEvents);
}
BENCHMARK(AuditVerify)->Unit(benchmark::kMillisecond)->MinTime(3.0)->UseRealTime();

// Reading the same rows without checking them: the floor the database sets.
void ScanOnly(benchmark::State& state) {
  auto db = Fresh("scan.db");
  dzong::SystemClock clock;
  const auto event = Sample();
  (void)db->Write([&](dzong::db::Connection& c) -> dzong::Status {
    const std::vector<dzong::audit::Event> batch(100, event);
    for (int i = 0; i < kVerifyEvents / 100; ++i) DZONG_TRY(dzong::audit::AppendAll(c, batch, clock));
    return {};
  });
  for (auto _ : state) {
    std::size_t bytes = 0;
    (void)db->Read([&](dzong::db::Connection& c) -> dzong::Status {
      return c.QueryEach(std::string("SELECT ") + dzong::audit::kEventColumns + " FROM audit_events ORDER BY seq", {},
                         [&](const dzong::db::RowView& r) {
                           for (int i = 1; i < 16; ++i) bytes += r.Text(i).size();
                           return true;
                         });
    });
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations() * kVerifyEvents);
}
BENCHMARK(ScanOnly)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();

void Sha256Only(benchmark::State& state) {
  dzong::audit::StoredEvent e;
  e.event = Sample();
  e.at = "2026-11-29T15:58:30.123456Z";
  e.prev_hash = std::string(64, '0');
  const std::string encoded = dzong::audit::CanonicalEncoding(e);
  for (auto _ : state) benchmark::DoNotOptimize(dzong::Sha256Hex(encoded));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(Sha256Only)->MinTime(1.0);

class Ratios : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      auto it = run.counters.find("items_per_second");
      if (it != run.counters.end()) rates[run.benchmark_name().substr(0, run.benchmark_name().find('/'))] = it->second.value;
    }
  }
  std::map<std::string, double> rates;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  Ratios reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const auto& r = reporter.rates;
  if (r.contains("AuditAppend") && r.contains("PlainInsert")) {
    std::printf("\nappend: %.2f us per event in a transaction; a bare insert of a similar row %.2f us; ratio %.2f\n",
                1e6 / r.at("AuditAppend"), 1e6 / r.at("PlainInsert"), r.at("PlainInsert") / r.at("AuditAppend"));
  }
  if (r.contains("AuditAppendBatched") && r.contains("PlainInsert")) {
    std::printf("append, amortised in batches of 64: %.2f us per event (target 2.00); ratio to a bare insert %.2f\n",
                1e6 / r.at("AuditAppendBatched"), r.at("PlainInsert") / r.at("AuditAppendBatched"));
  }
  if (r.contains("DurableAppends") && r.contains("DurableCommit")) {
    std::printf("durable appends, 32 callers: %.0f events/s; single-row durable commits (fsync rate) %.0f/s; "
                "ratio %.1f (target 3.0)\n",
                r.at("DurableAppends"), r.at("DurableCommit"), r.at("DurableAppends") / r.at("DurableCommit"));
  }
  if (r.contains("AuditVerify") && r.contains("Sha256Only")) {
    std::printf("verify: %.0f events/s from the database (target 2000000); SHA-256 alone over the encodings %.0f/s; "
                "ratio %.2f\n",
                r.at("AuditVerify"), r.at("Sha256Only"), r.at("AuditVerify") / r.at("Sha256Only"));
  }
  if (r.contains("AuditVerify") && r.contains("ScanOnly")) {
    std::printf("verify against reading the rows unchecked (%.0f rows/s): ratio %.2f\n", r.at("ScanOnly"),
                r.at("AuditVerify") / r.at("ScanOnly"));
  }
  std::filesystem::remove_all(std::filesystem::temp_directory_path() / "dzong-audit-bench");
  return 0;
}
