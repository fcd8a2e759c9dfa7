#include "modules/organisations/store.h"

namespace dzong::organisations::store {
namespace {

constexpr char kColumns[] = "code, name_en, name_dz, kind, parent, status, version, created_at, updated_at";

db::Value Nullable(const std::optional<std::string>& v) {
  if (!v) return nullptr;
  return *v;
}

Organisation FromRow(const db::Row& r) {
  return Organisation{r.Text(0), r.Text(1), r.OptText(2), r.Text(3), r.OptText(4),
                      r.Text(5), r.Int(6),  r.Text(7),    r.Text(8)};
}

}  // namespace

Result<std::optional<Organisation>> Find(db::Connection& c, const std::string& code) {
  static const std::string sql = std::string("SELECT ") + kColumns + " FROM organisations WHERE code = ?";
  const db::Value params[] = {code};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(sql, params));
  if (rows.empty()) return std::optional<Organisation>();
  return std::optional<Organisation>(FromRow(rows[0]));
}

Result<Page> List(db::Connection& c, const ListQuery& query) {
  // Keyset paging on the primary key: stable under inserts, no OFFSET scans.
  // Each filter is "? IS NULL OR column = ?" so one prepared statement serves all.
  static const std::string sql = std::string("SELECT ") + kColumns +
                                 " FROM organisations"
                                 " WHERE (CAST(? AS TEXT) IS NULL OR kind = ?)"
                                 " AND (CAST(? AS TEXT) IS NULL OR parent = ?)"
                                 " AND (CAST(? AS TEXT) IS NULL OR status = ?)"
                                 " AND (CAST(? AS TEXT) IS NULL OR code > ?)"
                                 " ORDER BY code LIMIT ?";
  const db::Value params[] = {Nullable(query.kind),   Nullable(query.kind),   Nullable(query.parent),
                              Nullable(query.parent), Nullable(query.status), Nullable(query.status),
                              Nullable(query.after),  Nullable(query.after),  std::int64_t{query.limit} + 1};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(sql, params));
  Page page;
  for (const db::Row& r : rows) page.items.push_back(FromRow(r));
  if (page.items.size() > static_cast<std::size_t>(query.limit)) {
    page.items.pop_back();
    page.next_after = page.items.back().code;
  }
  return page;
}

Status Insert(db::Connection& c, const Organisation& o) {
  static const std::string sql =
      std::string("INSERT INTO organisations (") + kColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
  const db::Value params[] = {o.code, o.name_en,   Nullable(o.name_dz), o.kind,      Nullable(o.parent),
                              o.status, o.version, o.created_at,        o.updated_at};
  DZONG_TRY(c.Execute(sql, params));
  return {};
}

Result<bool> Update(db::Connection& c, const Organisation& o) {
  const db::Value params[] = {o.name_en, Nullable(o.name_dz), o.kind,  Nullable(o.parent), o.status,
                              o.version, o.updated_at,        o.code,  o.version - 1};
  DZONG_ASSIGN_OR_RETURN(const std::int64_t changed,
                         c.Execute("UPDATE organisations SET name_en = ?, name_dz = ?, kind = ?, parent = ?, "
                                   "status = ?, version = ?, updated_at = ? WHERE code = ? AND version = ?",
                                   params));
  return changed == 1;
}

Status InsertHistory(db::Connection& c, const std::string& code, std::int64_t version, const std::string& at,
                     const std::string& by, const std::string& change_json) {
  const db::Value params[] = {code, version, at, by, change_json};
  DZONG_TRY(c.Execute(
      "INSERT INTO organisation_history (code, version, changed_at, changed_by, change) VALUES (?, ?, ?, ?, ?)",
      params));
  return {};
}

Result<std::vector<HistoryEntry>> History(db::Connection& c, const std::string& code) {
  const db::Value params[] = {code};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query("SELECT version, changed_at, changed_by, change FROM "
                                                "organisation_history WHERE code = ? ORDER BY version DESC",
                                                params));
  std::vector<HistoryEntry> out;
  for (const db::Row& r : rows) out.push_back({r.Int(0), r.Text(1), r.Text(2), r.Text(3)});
  return out;
}

}  // namespace dzong::organisations::store
