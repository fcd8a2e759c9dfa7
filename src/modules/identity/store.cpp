#include "modules/identity/store.h"

namespace dzong::identity::store {
namespace {

using db::Value;

Value Nullable(const std::optional<std::string>& v) {
  if (!v) return nullptr;
  return *v;
}

constexpr char kAccountColumns[] =
    "id, kind, username, display_name, organisation, totp_secret, status, language, created_at, password_hash, "
    "totp_last_step, locked_until, public_key";

AccountKind KindFrom(const std::string& text) {
  if (text == "official") return AccountKind::kOfficial;
  if (text == "system") return AccountKind::kSystem;
  return AccountKind::kCitizen;
}

AccountRow FromRow(const db::Row& r) {
  AccountRow row;
  row.account = Account{r.Int(0),         KindFrom(r.Text(1)), r.Text(2),    r.Text(3), r.OptText(4),
                        !r.IsNull(5),     r.Text(6),           r.OptText(7), r.Text(8)};
  row.totp_secret = r.OptText(5);
  row.password_hash = r.OptText(9);
  row.totp_last_step = r.Int(10);
  row.locked_until = r.OptText(11);
  row.public_key = r.OptText(12);
  return row;
}

Grant GrantFrom(const db::Row& r) {
  return Grant{r.Int(0), r.Int(1), r.Text(2), r.OptText(3), r.Text(4), r.Text(5), r.OptText(6)};
}

constexpr char kGrantColumns[] = "id, account_id, role, organisation, status, granted_by, approved_by";

Result<std::optional<AccountRow>> FindOne(db::Connection& c, const std::string& where, const Value& key) {
  const std::string sql = std::string("SELECT ") + kAccountColumns + " FROM accounts WHERE " + where;
  const Value params[] = {key};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(sql, params));
  if (rows.empty()) return std::optional<AccountRow>();
  return std::optional<AccountRow>(FromRow(rows[0]));
}

}  // namespace

Result<std::optional<AccountRow>> FindAccount(db::Connection& c, std::int64_t id) { return FindOne(c, "id = ?", id); }

Result<std::optional<AccountRow>> FindAccountByUsername(db::Connection& c, const std::string& username) {
  return FindOne(c, "username = ?", username);
}

Result<std::vector<Account>> ListAccounts(db::Connection& c, const std::optional<std::string>& organisation) {
  const std::string sql = std::string("SELECT ") + kAccountColumns +
                          " FROM accounts WHERE (CAST(? AS TEXT) IS NULL OR organisation = ?) ORDER BY kind, username";
  const Value params[] = {Nullable(organisation), Nullable(organisation)};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(sql, params));
  std::vector<Account> out;
  for (const auto& r : rows) out.push_back(FromRow(r).account);
  return out;
}

Result<std::int64_t> InsertAccount(db::Connection& c, const NewAccount& a, const std::optional<std::string>& hash,
                                   const std::optional<std::string>& public_key, const std::string& now) {
  const Value params[] = {std::string(KindName(a.kind)), a.username, a.display_name, Nullable(a.organisation),
                          Nullable(hash), Nullable(public_key), now, now};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows,
                         c.Query("INSERT INTO accounts (kind, username, display_name, organisation, password_hash, "
                                 "public_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                                 params));
  return rows.at(0).Int(0);
}

Result<bool> OrganisationExists(db::Connection& c, const std::string& code) {
  const Value params[] = {code};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query("SELECT 1 FROM organisations WHERE code = ?", params));
  return !rows.empty();
}

Result<Caller> LoadCaller(db::Connection& c, const Account& account) {
  Caller caller;
  caller.account = account;
  const Value params[] = {account.id};
  DZONG_ASSIGN_OR_RETURN(db::Rows grants,
                         c.Query(std::string("SELECT ") + kGrantColumns +
                                     " FROM role_grants WHERE account_id = ? AND status = 'active' ORDER BY id",
                                 params));
  for (const auto& r : grants) caller.grants.push_back(GrantFrom(r));
  DZONG_ASSIGN_OR_RETURN(db::Rows permissions,
                         c.Query("SELECT DISTINCT p.permission FROM role_grants g JOIN role_permissions p ON "
                                 "p.role = g.role WHERE g.account_id = ? AND g.status = 'active'",
                                 params));
  for (const auto& r : permissions) caller.permissions.insert(r.Text(0));
  caller.may_act_everywhere = caller.Has("accounts.all_organisations");
  return caller;
}

Result<int> AddFailure(db::Connection& c, std::int64_t account_id) {
  const Value params[] = {account_id};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows,
                         c.Query("UPDATE accounts SET failed_attempts = failed_attempts + 1 WHERE id = ? "
                                 "RETURNING failed_attempts",
                                 params));
  return rows.empty() ? 0 : static_cast<int>(rows[0].Int(0));
}

Status Lock(db::Connection& c, std::int64_t account_id, const std::string& until) {
  const Value params[] = {until, account_id};
  DZONG_TRY(c.Execute("UPDATE accounts SET locked_until = ?, failed_attempts = 0 WHERE id = ?", params));
  return {};
}

Status ClearFailures(db::Connection& c, std::int64_t account_id) {
  const Value params[] = {account_id};
  DZONG_TRY(c.Execute("UPDATE accounts SET failed_attempts = 0, locked_until = NULL WHERE id = ?", params));
  return {};
}

Status SetPassword(db::Connection& c, std::int64_t account_id, const std::string& hash, const std::string& now) {
  const Value params[] = {hash, now, account_id};
  DZONG_TRY(c.Execute("UPDATE accounts SET password_hash = ?, updated_at = ?, failed_attempts = 0, "
                      "locked_until = NULL WHERE id = ?",
                      params));
  return {};
}

Status SetTotpSecret(db::Connection& c, std::int64_t account_id, const std::string& secret, std::int64_t step) {
  const Value params[] = {secret, step, account_id};
  DZONG_TRY(c.Execute("UPDATE accounts SET totp_secret = ?, totp_last_step = ? WHERE id = ?", params));
  return {};
}

Status SetTotpStep(db::Connection& c, std::int64_t account_id, std::int64_t step) {
  const Value params[] = {step, account_id};
  DZONG_TRY(c.Execute("UPDATE accounts SET totp_last_step = ? WHERE id = ?", params));
  return {};
}

Result<int> CountAttempt(db::Connection& c, const std::string& subject, const std::string& now,
                         const std::string& window_start) {
  // A window that has run out starts again at one.
  const Value reset[] = {now, subject, window_start};
  DZONG_TRY(c.Execute("UPDATE sign_in_throttle SET window_start = ?, attempts = 0 WHERE subject = ? AND "
                      "window_start < ?",
                      reset));
  const Value bump[] = {subject};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows,
                         c.Query("UPDATE sign_in_throttle SET attempts = attempts + 1 WHERE subject = ? "
                                 "RETURNING attempts",
                                 bump));
  if (!rows.empty()) return static_cast<int>(rows[0].Int(0));
  const Value insert[] = {subject, now};
  DZONG_TRY(c.Execute("INSERT INTO sign_in_throttle (subject, window_start, attempts) VALUES (?, ?, 1)", insert));
  return 1;
}

Result<int> RecentAttempts(db::Connection& c, const std::string& subject, const std::string& window_start) {
  const Value params[] = {subject, window_start};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query("SELECT attempts FROM sign_in_throttle WHERE subject = ? AND "
                                                "window_start >= ?",
                                                params));
  return rows.empty() ? 0 : static_cast<int>(rows[0].Int(0));
}

Status ClearThrottle(db::Connection& c, const std::string& subject) {
  const Value params[] = {subject};
  DZONG_TRY(c.Execute("DELETE FROM sign_in_throttle WHERE subject = ?", params));
  return {};
}

Status InsertSecurityEvent(db::Connection& c, const std::string& at, const std::string& event,
                           std::optional<std::int64_t> account, const std::string& remote, const std::string& detail) {
  const Value params[] = {at, event, account ? Value(*account) : Value(nullptr), remote, detail};
  DZONG_TRY(c.Execute("INSERT INTO security_events (at, event, account_id, remote, detail) VALUES (?, ?, ?, ?, ?)",
                      params));
  return {};
}

Status InsertSession(db::Connection& c, const std::string& id_hash, std::int64_t account_id, const std::string& csrf,
                     bool mfa_done, const std::string& now, const std::string& expires, const std::string& remote,
                     const std::string& user_agent) {
  const Value params[] = {id_hash, account_id, csrf, std::int64_t{mfa_done ? 1 : 0}, now, now, expires, remote,
                          user_agent};
  DZONG_TRY(c.Execute("INSERT INTO sessions (id_hash, account_id, csrf_token, mfa_done, created_at, last_seen_at, "
                      "expires_at, remote, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      params));
  return {};
}

Result<std::optional<SessionState>> FindSession(db::Connection& c, const std::string& id_hash, const std::string& now,
                                                const std::string& idle_since) {
  const Value params[] = {id_hash, now, idle_since};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows,
                         c.Query("SELECT account_id, csrf_token, mfa_done, last_seen_at FROM sessions WHERE "
                                 "id_hash = ? AND ended_at IS NULL AND expires_at > ? AND last_seen_at > ?",
                                 params));
  if (rows.empty()) return std::optional<SessionState>();
  DZONG_ASSIGN_OR_RETURN(auto account, FindAccount(c, rows[0].Int(0)));
  if (!account || account->account.status != "active") return std::optional<SessionState>();
  SessionState state;
  DZONG_ASSIGN_OR_RETURN(state.caller, LoadCaller(c, account->account));
  state.id_hash = id_hash;
  state.csrf_token = rows[0].Text(1);
  state.mfa_done = rows[0].Int(2) != 0;
  state.last_seen_at = rows[0].Text(3);
  return std::optional<SessionState>(std::move(state));
}

Status TouchSession(db::Connection& c, const std::string& id_hash, const std::string& now) {
  const Value params[] = {now, id_hash};
  DZONG_TRY(c.Execute("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?", params));
  return {};
}

Status EndSession(db::Connection& c, const std::string& id_hash, const std::string& now) {
  const Value params[] = {now, id_hash};
  DZONG_TRY(c.Execute("UPDATE sessions SET ended_at = ? WHERE id_hash = ? AND ended_at IS NULL", params));
  return {};
}

Status EndAllSessions(db::Connection& c, std::int64_t account_id, const std::string& now) {
  const Value params[] = {now, account_id};
  DZONG_TRY(c.Execute("UPDATE sessions SET ended_at = ? WHERE account_id = ? AND ended_at IS NULL", params));
  return {};
}

Result<std::vector<SessionInfo>> ListSessions(db::Connection& c, std::int64_t account_id, const std::string& now,
                                              const std::string& current_hash) {
  const Value params[] = {account_id, now};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows,
                         c.Query("SELECT id_hash, created_at, last_seen_at, remote, user_agent FROM sessions WHERE "
                                 "account_id = ? AND ended_at IS NULL AND expires_at > ? ORDER BY created_at DESC",
                                 params));
  std::vector<SessionInfo> out;
  for (const auto& r : rows) {
    out.push_back({r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Text(0) == current_hash});
  }
  return out;
}

Status InsertReset(db::Connection& c, const std::string& hash, std::int64_t account_id, const std::string& now,
                   const std::string& expires) {
  const Value params[] = {hash, account_id, now, expires};
  DZONG_TRY(c.Execute("INSERT INTO password_resets (token_hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                      params));
  return {};
}

Result<std::optional<AccountRow>> FindResetAccount(db::Connection& c, const std::string& hash, const std::string& now) {
  const Value params[] = {hash, now};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query("SELECT account_id FROM password_resets WHERE token_hash = ? AND "
                                                "used_at IS NULL AND expires_at > ?",
                                                params));
  if (rows.empty()) return std::optional<AccountRow>();
  return FindAccount(c, rows[0].Int(0));
}

Result<bool> UseReset(db::Connection& c, const std::string& hash, const std::string& now) {
  const Value params[] = {now, hash, now};
  DZONG_ASSIGN_OR_RETURN(std::int64_t changed,
                         c.Execute("UPDATE password_resets SET used_at = ? WHERE token_hash = ? AND used_at IS NULL "
                                   "AND expires_at > ?",
                                   params));
  return changed == 1;
}

Status InsertToken(db::Connection& c, std::int64_t account_id, const std::string& name, const std::string& hash,
                   const std::string& scopes, const std::string& now, const std::string& expires) {
  const Value params[] = {account_id, name, hash, scopes, now, expires};
  DZONG_TRY(c.Execute("INSERT INTO api_tokens (account_id, name, token_hash, scopes, created_at, expires_at) VALUES "
                      "(?, ?, ?, ?, ?, ?)",
                      params));
  return {};
}

Result<std::vector<TokenInfo>> ListTokens(db::Connection& c, std::int64_t account_id) {
  const Value params[] = {account_id};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query("SELECT id, name, scopes, created_at, expires_at, revoked_at FROM "
                                                "api_tokens WHERE account_id = ? ORDER BY id DESC",
                                                params));
  std::vector<TokenInfo> out;
  for (const auto& r : rows) out.push_back({r.Int(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), !r.IsNull(5)});
  return out;
}

Result<bool> RevokeToken(db::Connection& c, std::int64_t account_id, std::int64_t token_id, const std::string& now) {
  const Value params[] = {now, token_id, account_id};
  DZONG_ASSIGN_OR_RETURN(std::int64_t changed,
                         c.Execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND account_id = ? AND "
                                   "revoked_at IS NULL",
                                   params));
  return changed == 1;
}

Status RevokeAllTokens(db::Connection& c, std::int64_t account_id, const std::string& now) {
  const Value params[] = {now, account_id};
  DZONG_TRY(c.Execute("UPDATE api_tokens SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL", params));
  return {};
}

Result<std::optional<std::pair<std::int64_t, std::string>>> FindToken(db::Connection& c, const std::string& hash,
                                                                      const std::string& now) {
  const Value params[] = {hash, now};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query("SELECT account_id, scopes FROM api_tokens WHERE token_hash = ? AND "
                                                "revoked_at IS NULL AND expires_at > ?",
                                                params));
  if (rows.empty()) return std::optional<std::pair<std::int64_t, std::string>>();
  return std::optional<std::pair<std::int64_t, std::string>>({rows[0].Int(0), rows[0].Text(1)});
}

Result<std::optional<bool>> RoleNeedsApproval(db::Connection& c, const std::string& role) {
  const Value params[] = {role};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query("SELECT needs_approval FROM roles WHERE code = ?", params));
  if (rows.empty()) return std::optional<bool>();
  return std::optional<bool>(rows[0].Int(0) != 0);
}

Result<std::int64_t> InsertGrant(db::Connection& c, const Grant& g, const std::string& now) {
  const Value params[] = {g.account_id, g.role, Nullable(g.organisation), g.status, g.granted_by, now};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows,
                         c.Query("INSERT INTO role_grants (account_id, role, organisation, status, granted_by, "
                                 "created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                                 params));
  return rows.at(0).Int(0);
}

Result<std::optional<Grant>> FindGrant(db::Connection& c, std::int64_t id) {
  const Value params[] = {id};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows,
                         c.Query(std::string("SELECT ") + kGrantColumns + " FROM role_grants WHERE id = ?", params));
  if (rows.empty()) return std::optional<Grant>();
  return std::optional<Grant>(GrantFrom(rows[0]));
}

Status DecideGrant(db::Connection& c, std::int64_t id, const std::string& status, const std::string& by,
                   const std::string& now) {
  const Value params[] = {status, by, now, id};
  DZONG_TRY(c.Execute("UPDATE role_grants SET status = ?, approved_by = ?, decided_at = ? WHERE id = ?", params));
  return {};
}

Result<std::vector<Grant>> ListGrants(db::Connection& c, std::optional<std::int64_t> account_id,
                                      const std::string& status) {
  const Value params[] = {account_id ? Value(*account_id) : Value(nullptr),
                          account_id ? Value(*account_id) : Value(nullptr), status};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows,
                         c.Query(std::string("SELECT ") + kGrantColumns +
                                     " FROM role_grants WHERE (CAST(? AS BIGINT) IS NULL OR account_id = ?) AND "
                                     "status = ? ORDER BY id",
                                 params));
  std::vector<Grant> out;
  for (const auto& r : rows) out.push_back(GrantFrom(r));
  return out;
}

Result<std::vector<std::string>> RoleCodes(db::Connection& c) {
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query("SELECT code FROM roles ORDER BY code"));
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.Text(0));
  return out;
}

Status UpsertRole(db::Connection& c, const std::string& code, const std::string& name_en, const std::string& name_dz,
                  bool needs_approval, const std::vector<std::string>& permissions) {
  const Value key[] = {code};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query("SELECT 1 FROM roles WHERE code = ?", key));
  if (rows.empty()) {
    const Value params[] = {code, name_en, name_dz, std::int64_t{needs_approval ? 1 : 0}};
    DZONG_TRY(c.Execute("INSERT INTO roles (code, name_en, name_dz, needs_approval) VALUES (?, ?, ?, ?)", params));
  }
  for (const std::string& p : permissions) {
    const Value pair[] = {code, p};
    DZONG_ASSIGN_OR_RETURN(db::Rows have, c.Query("SELECT 1 FROM role_permissions WHERE role = ? AND permission = ?", pair));
    if (have.empty()) DZONG_TRY(c.Execute("INSERT INTO role_permissions (role, permission) VALUES (?, ?)", pair));
  }
  return {};
}

}  // namespace dzong::identity::store
