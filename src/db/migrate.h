#pragma once
// Numbered SQL files per module, each applied once, in order, and recorded in
// schema_migrations with a checksum; an applied file that was edited later is
// refused rather than silently skipped.

#include <span>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/embedded.h"
#include "db/database.h"

namespace dzong::db {

/// One module's migrations, in file-name order ("0001_organisations.sql").
struct ModuleMigrations {
  std::string module;
  std::span<const EmbeddedFile> files;
};

/// What Migrate() did: the files applied now, as "module/file".
struct MigrationReport {
  std::vector<std::string> applied;
  std::size_t already_applied = 0;
};

/// Applies every migration not yet recorded, each in its own transaction with
/// its record. Errors: db.migration_changed, db.bad_migration_name, and driver errors.
Result<MigrationReport> Migrate(Database& db, std::span<const ModuleMigrations> modules, const Clock& clock);

}  // namespace dzong::db
