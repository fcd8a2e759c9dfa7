#pragma once
// The identity module's SQL.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "db/database.h"
#include "modules/identity/identity.h"

namespace dzong::identity::store {

struct AccountRow {
  Account account;
  std::optional<std::string> password_hash;
  std::optional<std::string> totp_secret;
  std::int64_t totp_last_step = 0;
  std::optional<std::string> locked_until;
  std::optional<std::string> public_key;  ///< base64 Ed25519, systems only
};

Result<std::optional<AccountRow>> FindAccount(db::Connection& c, std::int64_t id);
Result<std::optional<AccountRow>> FindAccountByUsername(db::Connection& c, const std::string& username);
Result<std::vector<Account>> ListAccounts(db::Connection& c, const std::optional<std::string>& organisation);
Result<std::int64_t> InsertAccount(db::Connection& c, const NewAccount& a, const std::optional<std::string>& hash,
                                   const std::optional<std::string>& public_key, const std::string& now);
Result<bool> OrganisationExists(db::Connection& c, const std::string& code);
Result<Caller> LoadCaller(db::Connection& c, const Account& account);

Result<int> AddFailure(db::Connection& c, std::int64_t account_id);
Status Lock(db::Connection& c, std::int64_t account_id, const std::string& until);
Status ClearFailures(db::Connection& c, std::int64_t account_id);
Status SetPassword(db::Connection& c, std::int64_t account_id, const std::string& hash, const std::string& now);
Status SetTotpSecret(db::Connection& c, std::int64_t account_id, const std::string& secret, std::int64_t step);
Status SetTotpStep(db::Connection& c, std::int64_t account_id, std::int64_t step);

/// Adds one attempt for `subject` and returns the attempts in the window.
Result<int> CountAttempt(db::Connection& c, const std::string& subject, const std::string& now,
                         const std::string& window_start);
/// Failed attempts for `subject` since `window_start`, without counting one.
Result<int> RecentAttempts(db::Connection& c, const std::string& subject, const std::string& window_start);
Status ClearThrottle(db::Connection& c, const std::string& subject);
Status InsertSecurityEvent(db::Connection& c, const std::string& at, const std::string& event,
                           std::optional<std::int64_t> account, const std::string& remote, const std::string& detail);

Status InsertSession(db::Connection& c, const std::string& id_hash, std::int64_t account_id, const std::string& csrf,
                     bool mfa_done, const std::string& now, const std::string& expires, const std::string& remote,
                     const std::string& user_agent);
/// A live session: not ended, not past its absolute expiry, seen since `idle_since`.
Result<std::optional<SessionState>> FindSession(db::Connection& c, const std::string& id_hash, const std::string& now,
                                                const std::string& idle_since);
Status TouchSession(db::Connection& c, const std::string& id_hash, const std::string& now);
Status EndSession(db::Connection& c, const std::string& id_hash, const std::string& now);
Status EndAllSessions(db::Connection& c, std::int64_t account_id, const std::string& now);
Result<std::vector<SessionInfo>> ListSessions(db::Connection& c, std::int64_t account_id, const std::string& now,
                                              const std::string& current_hash);

Status InsertReset(db::Connection& c, const std::string& hash, std::int64_t account_id, const std::string& now,
                   const std::string& expires);
Result<std::optional<AccountRow>> FindResetAccount(db::Connection& c, const std::string& hash, const std::string& now);
/// Marks an unused, unexpired reset token used; false when it was not.
Result<bool> UseReset(db::Connection& c, const std::string& hash, const std::string& now);

Status InsertToken(db::Connection& c, std::int64_t account_id, const std::string& name, const std::string& hash,
                   const std::string& scopes, const std::string& now, const std::string& expires);
Result<std::vector<TokenInfo>> ListTokens(db::Connection& c, std::int64_t account_id);
Result<bool> RevokeToken(db::Connection& c, std::int64_t account_id, std::int64_t token_id, const std::string& now);
Status RevokeAllTokens(db::Connection& c, std::int64_t account_id, const std::string& now);
/// The account id and scopes of a live token.
Result<std::optional<std::pair<std::int64_t, std::string>>> FindToken(db::Connection& c, const std::string& hash,
                                                                      const std::string& now);

/// nullopt when the role does not exist; else whether it needs approval.
Result<std::optional<bool>> RoleNeedsApproval(db::Connection& c, const std::string& role);
Result<std::int64_t> InsertGrant(db::Connection& c, const Grant& g, const std::string& now);
Result<std::optional<Grant>> FindGrant(db::Connection& c, std::int64_t id);
Status DecideGrant(db::Connection& c, std::int64_t id, const std::string& status, const std::string& by,
                   const std::string& now);
Result<std::vector<Grant>> ListGrants(db::Connection& c, std::optional<std::int64_t> account_id,
                                      const std::string& status);
Result<std::vector<std::string>> RoleCodes(db::Connection& c);
Status UpsertRole(db::Connection& c, const std::string& code, const std::string& name_en, const std::string& name_dz,
                  bool needs_approval, const std::vector<std::string>& permissions);

}  // namespace dzong::identity::store
