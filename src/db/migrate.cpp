#include "db/migrate.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "base/crypto.h"

namespace dzong::db {
namespace {

constexpr std::string_view kCreateTable = R"(CREATE TABLE IF NOT EXISTS schema_migrations (
  module TEXT NOT NULL,
  number INTEGER NOT NULL,
  name TEXT NOT NULL,
  checksum TEXT NOT NULL,
  applied_at TEXT NOT NULL,
  PRIMARY KEY (module, number)
))";

Result<int> NumberOf(std::string_view name) {
  const auto underscore = name.find('_');
  int number = 0;
  if (underscore == 4 && name.ends_with(".sql")) {
    auto [end, ec] = std::from_chars(name.data(), name.data() + underscore, number);
    if (ec == std::errc() && end == name.data() + underscore && number > 0) return number;
  }
  return Error("db.bad_migration_name",
               fmt::format("migration '{}' must be named NNNN_description.sql, numbered from 0001", name));
}

}  // namespace

Result<MigrationReport> Migrate(Database& db, std::span<const ModuleMigrations> modules, const Clock& clock) {
  DZONG_TRY(db.Write([](Connection& c) { return c.Script(kCreateTable); }));
  MigrationReport report;
  for (const ModuleMigrations& module : modules) {
    std::vector<const EmbeddedFile*> files;
    for (const EmbeddedFile& f : module.files) files.push_back(&f);
    std::sort(files.begin(), files.end(), [](auto* a, auto* b) { return a->name < b->name; });
    for (const EmbeddedFile* file : files) {
      DZONG_ASSIGN_OR_RETURN(const int number, NumberOf(file->name));
      const std::string checksum = Sha256Hex(file->content);
      bool applied_now = false;
      DZONG_TRY(db.Write([&](Connection& c) -> Status {
        const Value key[] = {module.module, static_cast<std::int64_t>(number)};
        DZONG_ASSIGN_OR_RETURN(Rows rows,
                               c.Query("SELECT checksum FROM schema_migrations WHERE module = ? AND number = ?", key));
        if (!rows.empty()) {
          if (rows[0].Text(0) != checksum) {
            return Error("db.migration_changed",
                         fmt::format("migration {}/{} was changed after it was applied; add a new migration instead",
                                     module.module, file->name));
          }
          return {};
        }
        DZONG_TRY(c.Script(file->content));
        const Value record[] = {module.module, static_cast<std::int64_t>(number), std::string(file->name), checksum,
                                FormatUtc(clock.Now())};
        DZONG_TRY(c.Execute(
            "INSERT INTO schema_migrations (module, number, name, checksum, applied_at) VALUES (?, ?, ?, ?, ?)",
            record));
        applied_now = true;
        return {};
      }));
      if (applied_now) {
        report.applied.push_back(fmt::format("{}/{}", module.module, file->name));
      } else {
        ++report.already_applied;
      }
    }
  }
  return report;
}

}  // namespace dzong::db
