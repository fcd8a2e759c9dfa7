#pragma once
// This module's SQL. Storage speaks rows and "not found", never HTTP.

#include <optional>
#include <string>
#include <vector>

#include "db/database.h"
#include "modules/organisations/organisations.h"

namespace dzong::organisations::store {

Result<std::optional<Organisation>> Find(db::Connection& c, const std::string& code);
Result<Page> List(db::Connection& c, const ListQuery& query);
Status Insert(db::Connection& c, const Organisation& o);
/// Writes the new state if the stored version is still `o.version - 1`;
/// returns false if someone else changed it first.
Result<bool> Update(db::Connection& c, const Organisation& o);
Status InsertHistory(db::Connection& c, const std::string& code, std::int64_t version, const std::string& at,
                     const std::string& by, const std::string& change_json);
Result<std::vector<HistoryEntry>> History(db::Connection& c, const std::string& code);

}  // namespace dzong::organisations::store
