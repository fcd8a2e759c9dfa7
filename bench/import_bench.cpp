// Importing the population register from CSV against raw SQLite inserts of
// the same rows in the same run: the import checks every row against the
// schema and its references, the raw insert checks nothing.
//
// Usage: dzong_import_bench [people]   (default 200000; the target is set at 1000000)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <sqlite3.h>

#include "base/clock.h"
#include "db/database.h"
#include "db/migrate.h"
#include "main/app.h"
#include "modules/registries/registries.h"

namespace {

namespace fs = std::filesystem;
using Seconds = std::chrono::duration<double>;

std::unique_ptr<dzong::db::Database> Fresh(const fs::path& file) {
  fs::remove(file);
  auto db = std::move(dzong::db::Open({"sqlite://" + file.string(), 4, 256}).value());
  dzong::SystemClock clock;
  const auto modules = dzong::AllMigrations();
  (void)dzong::db::Migrate(*db, modules, clock).value();
  return db;
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t people = argc > 1 ? std::atoll(argv[1]) : 200000;
  const fs::path dir = fs::temp_directory_path() / "dzong-import-bench";
  fs::create_directories(dir);
  dzong::SystemClock clock;
  dzong::audit::Actor seeder;
  seeder.id = "bench";

  // The CSV to import: the synthetic population, exported.
  std::string csv;
  {
    auto db = Fresh(dir / "source.db");
    dzong::registries::RegistryService source(*db, clock);
    (void)db->Write([](dzong::db::Connection& c) {
      return c.Script("INSERT INTO organisations (code, name_en, kind, status, version, created_at, updated_at) VALUES "
                      "('DCRC', 'Department of Civil Registration and Census', 'department', 'active', 1, '', ''), "
                      "('MOICE', 'Ministry of Industry, Commerce and Employment', 'ministry', 'active', 1, '', ''), "
                      "('NLCS', 'National Land Commission Secretariat', 'agency', 'active', 1, '', '')");
    });
    (void)source.SeedDefinitions(seeder).value();
    (void)source.SeedPopulation(people, 2026, false, seeder).value();
    const fs::path file = dir / "people.csv";
    std::FILE* out = std::fopen(file.c_str(), "wb");
    (void)source.Export("population", "csv", out).value();
    std::fclose(out);
    std::FILE* in = std::fopen(file.c_str(), "rb");
    char buffer[1 << 16];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, in)) > 0) csv.append(buffer, n);
    std::fclose(in);
  }

  // Raw SQLite: the same number of rows, one prepared insert, one transaction.
  double raw_rate = 0;
  {
    const fs::path file = dir / "raw.db";
    fs::remove(file);
    sqlite3* db = nullptr;
    sqlite3_open(file.c_str(), &db);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t (registry TEXT, record_key TEXT, "
                     "version INTEGER, data TEXT, PRIMARY KEY (registry, record_key, version))",
                 nullptr, nullptr, nullptr);
    sqlite3_stmt* insert = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO t VALUES ('population', ?, 1, ?)", -1, &insert, nullptr);
    const std::string data = R"({"cid":"10420000001","date_of_birth":"1986-11-09","dzongkhag":"Gasa","gewog":"Lunana","given_name":"Wangyel Tashi","household_number":"04000001","marital_status":"married","sex":"male","status":"alive","village":"Chiwog 1, Lunana"})";
    const auto started = std::chrono::steady_clock::now();
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    for (std::int64_t i = 0; i < people; ++i) {
      const std::string key = std::to_string(10000000000 + i);
      sqlite3_bind_text(insert, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(insert, 2, data.data(), static_cast<int>(data.size()), SQLITE_STATIC);
      sqlite3_step(insert);
      sqlite3_reset(insert);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    raw_rate = static_cast<double>(people) / Seconds(std::chrono::steady_clock::now() - started).count();
    sqlite3_finalize(insert);
    sqlite3_close(db);
  }

  // The import into a fresh register.
  double import_rate = 0;
  dzong::registries::ImportReport report;
  {
    auto db = Fresh(dir / "import.db");
    (void)db->Write([](dzong::db::Connection& c) {
      return c.Script("INSERT INTO organisations (code, name_en, kind, status, version, created_at, updated_at) VALUES "
                      "('DCRC', 'Department of Civil Registration and Census', 'department', 'active', 1, '', ''), "
                      "('MOICE', 'Ministry of Industry, Commerce and Employment', 'ministry', 'active', 1, '', ''), "
                      "('NLCS', 'National Land Commission Secretariat', 'agency', 'active', 1, '', '')");
    });
    dzong::registries::RegistryService target(*db, clock);
    (void)target.SeedDefinitions(seeder).value();
    std::string rejects;
    const auto started = std::chrono::steady_clock::now();
    report = target.Import("population", csv, rejects, seeder).value();
    import_rate = static_cast<double>(report.rows) / Seconds(std::chrono::steady_clock::now() - started).count();
  }
  fs::remove_all(dir);
  std::printf("import: %lld rows (%lld imported, %lld refused) at %.0f rows/s; raw SQLite inserts %.0f rows/s; "
              "ratio %.2f (target 0.70)\n",
              static_cast<long long>(report.rows), static_cast<long long>(report.imported),
              static_cast<long long>(report.rejected), import_rate, raw_rate, import_rate / raw_rate);
  return 0;
}
