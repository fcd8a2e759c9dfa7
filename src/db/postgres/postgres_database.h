#pragma once

#include <memory>
#include <string>

#include "db/database.h"

namespace dzong::db {

/// Connects a pool to the PostgreSQL server the URL names (libpq syntax).
Result<std::unique_ptr<Database>> OpenPostgres(const std::string& url, const Options& options);

/// Rewrites `?` placeholders as `$1, $2, …`, leaving quoted text alone.
std::string NumberPlaceholders(std::string_view sql);

}  // namespace dzong::db
