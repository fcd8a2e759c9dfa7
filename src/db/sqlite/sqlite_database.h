#pragma once

#include <memory>
#include <string>

#include "db/database.h"

namespace dzong::db {

/// Opens (creating if needed) the SQLite database at `path`: WAL,
/// synchronous=FULL, foreign keys on, busy timeout; writes group-committed.
Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path, const Options& options);

}  // namespace dzong::db
