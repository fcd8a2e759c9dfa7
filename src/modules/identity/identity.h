#pragma once
// People and systems: accounts (citizens, officials, agency systems), how
// they sign in (Argon2id passwords, TOTP for officials), server-side sessions
// and API tokens, and the roles that decide what each may do.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/embedded.h"
#include "base/result.h"
#include "db/database.h"

namespace dzong::http {
class Router;
}
namespace dzong::web {
class Web;
}

namespace dzong::identity {

namespace errc {
inline constexpr char kInvalidCredentials[] = "identity.invalid_credentials";
inline constexpr char kLocked[] = "identity.account_locked";
inline constexpr char kThrottled[] = "identity.too_many_attempts";
inline constexpr char kTotpInvalid[] = "identity.totp_invalid";
inline constexpr char kTotpReplayed[] = "identity.totp_replayed";
inline constexpr char kSessionInvalid[] = "identity.session_invalid";
inline constexpr char kTokenInvalid[] = "identity.token_invalid";
inline constexpr char kResetTokenInvalid[] = "identity.reset_token_invalid";
inline constexpr char kNotFound[] = "identity.not_found";
inline constexpr char kAlreadyExists[] = "identity.already_exists";
inline constexpr char kOutsideOrganisation[] = "identity.outside_organisation";
inline constexpr char kSecondApproverRequired[] = "identity.second_approver_required";
inline constexpr char kCsrf[] = "identity.csrf_failed";
}  // namespace errc

enum class AccountKind { kCitizen, kOfficial, kSystem };
std::string_view KindName(AccountKind kind);

struct Account {
  std::int64_t id = 0;
  AccountKind kind = AccountKind::kCitizen;
  std::string username;  ///< CID for citizens; login name for officials; BT/GOV/ORG/SUB for systems
  std::string display_name;
  std::optional<std::string> organisation;
  bool totp_enrolled = false;
  std::string status;
  std::optional<std::string> language;
  std::string created_at;
};

struct Grant {
  std::int64_t id = 0;
  std::int64_t account_id = 0;
  std::string role;
  std::optional<std::string> organisation;
  std::string status;  ///< active, pending, revoked
  std::string granted_by;
  std::optional<std::string> approved_by;
};

/// Who is asking, as the identity module knows them.
struct Caller {
  Account account;
  std::vector<Grant> grants;                       ///< active grants only
  std::set<std::string, std::less<>> permissions;  ///< union over active grants
  bool may_act_everywhere = false;                 ///< holds accounts.all_organisations
  bool Has(std::string_view permission) const { return permissions.contains(permission); }
};

struct NewAccount {
  AccountKind kind = AccountKind::kCitizen;
  std::string username;
  std::string display_name;
  std::optional<std::string> organisation;
  std::string password;
  std::optional<std::string> public_key;  ///< base64 Ed25519, for systems
};

struct SessionInfo {
  std::string id_hash;
  std::string created_at;
  std::string last_seen_at;
  std::string remote;
  std::string user_agent;
  bool current = false;
};

/// A signed-in browser: the raw id goes in the cookie and nowhere else.
struct NewSession {
  std::string raw_id;
  std::string csrf_token;
  bool needs_totp = false;       ///< an official with TOTP enrolled: ask for a code
  bool needs_enrolment = false;  ///< an official without TOTP: enrol before anything else
};

struct SessionState {
  Caller caller;
  std::string id_hash;
  std::string csrf_token;
  bool mfa_done = false;
  std::string last_seen_at;
};

struct TokenInfo {
  std::int64_t id = 0;
  std::string name;
  std::string scopes;
  std::string created_at;
  std::string expires_at;
  bool revoked = false;
};

struct TotpEnrolment {
  std::string secret_base32;
  std::string otpauth_uri;
  std::string qr_svg;  ///< an SVG drawing of the URI, for the enrolment page
};

struct Policy {
  std::chrono::minutes session_idle{30};
  std::chrono::hours session_absolute{12};
  int lock_after_failures = 5;
  std::chrono::minutes lock_for{15};
  int failures_per_account = 10;  ///< failed sign-ins in a window before the account's are refused
  /// Failed sign-ins from one network address in a window. Higher than per
  /// account: a community centre signs many people in from one address.
  int failures_per_address = 50;
  std::chrono::minutes throttle_window{15};
  std::chrono::minutes reset_token_life{30};
  /// Argon2id at libsodium's minimum cost instead of the interactive one.
  /// For test suites only, which hash hundreds of passwords.
  bool fast_hashing = false;
};

class IdentityService {
 public:
  IdentityService(db::Database& db, const Clock& clock, Policy policy = {});

  // Accounts.
  Result<Account> CreateAccount(const NewAccount& input, const std::string& actor);
  Result<Account> GetAccount(std::int64_t id);
  /// The account with this username (a citizen's is their CID), if any.
  Result<std::optional<Account>> FindAccount(const std::string& username);
  Result<std::vector<Account>> ListAccounts(const std::optional<std::string>& organisation);
  Result<Caller> LoadCaller(std::int64_t account_id);

  // Signing in.
  Result<NewSession> SignIn(const std::string& username, const std::string& password, const std::string& remote,
                            const std::string& user_agent);
  /// Checks a TOTP code for the session's account and completes sign-in:
  /// the session id is rotated, so the new raw id replaces the cookie.
  Result<NewSession> CompleteTotp(const std::string& raw_session, const std::string& code);
  Result<TotpEnrolment> BeginTotpEnrolment(const Account& account);
  /// Stores the secret once the person proves their app has it.
  Result<NewSession> ConfirmTotpEnrolment(const std::string& raw_session, const std::string& secret_base32,
                                          const std::string& code);
  Result<SessionState> ResumeSession(const std::string& raw_session);
  Status SignOut(const std::string& raw_session);
  Status SignOutEverywhere(std::int64_t account_id);
  Result<std::vector<SessionInfo>> ListSessions(std::int64_t account_id, const std::string& current_hash);

  // Passwords.
  /// Queues a reset message in the notification outbox; says nothing about
  /// whether the account exists.
  Status RequestPasswordReset(const std::string& username);
  Status ResetPassword(const std::string& raw_token, const std::string& new_password);

  // API tokens.
  Result<std::string> CreateToken(std::int64_t account_id, const std::string& name, const std::string& scopes,
                                  std::chrono::hours life);
  Result<std::vector<TokenInfo>> ListTokens(std::int64_t account_id);
  Status RevokeToken(std::int64_t account_id, std::int64_t token_id);
  /// The caller behind a bearer token, with permissions narrowed to its scopes.
  Result<Caller> AuthenticateToken(const std::string& raw_token);

  /// The agency system that signed a request (RFC 9421, Ed25519), checked
  /// against its registered public key. The caller has already parsed and
  /// time-checked the signature input.
  Result<Caller> AuthenticateSystem(const std::string& key_id, const std::string& signature_base,
                                    const std::string& signature);

  // Roles.
  Result<Grant> GrantRole(const Caller& actor, std::int64_t account_id, const std::string& role);
  Result<Grant> ApproveGrant(const Caller& actor, std::int64_t grant_id);
  Status RevokeGrant(const Caller& actor, std::int64_t grant_id);
  Result<std::vector<Grant>> ListGrants(std::optional<std::int64_t> account_id, const std::string& status);
  /// Every role code, for forms and for the route × role test.
  Result<std::vector<std::string>> RoleCodes();

  /// Seeds roles and their permissions, and the demo accounts when `demo`.
  Result<std::string> Seed(bool demo);

 private:
  Status CheckThrottle(db::Connection& c, const std::string& subject, int limit);
  Status CountFailure(db::Connection& c, const std::string& subject);
  Status RecordSecurityEvent(db::Connection& c, const std::string& event, std::optional<std::int64_t> account,
                             const std::string& remote, const std::string& detail);
  std::string Hash(const std::string& password) const;
  Result<NewSession> StartSession(db::Connection& c, const Account& account, bool mfa_done, const std::string& remote,
                                  const std::string& user_agent);

  db::Database& db_;
  const Clock& clock_;
  Policy policy_;
  std::once_flag nobody_once_;
  std::string nobody_hash_;  ///< verified against when the username is unknown
};

/// Checks the shape of a Citizenship ID: 11 digits. Empty when valid.
std::vector<FieldError> ValidateCid(const std::string& field, const std::string& cid);
/// The password policy: 12 to 128 characters, not all one kind of character,
/// not containing the username, not a commonly used password.
std::vector<FieldError> ValidatePassword(const std::string& field, const std::string& password,
                                         const std::string& username);
/// RFC 6238 code (SHA-1, 6 digits, 30 s) for a time step.
std::string TotpCode(std::string_view secret, std::int64_t step);

std::span<const EmbeddedFile> Migrations();

/// The sign-in, account and administration pages.
Status AddPages(http::Router& router, IdentityService& identity, web::Web& web);
/// The JSON API for accounts and roles.
Status AddRoutes(http::Router& router, IdentityService& identity);

/// An account or grant id from a path or query; 0 when it is not a number.
std::int64_t ParseId(const std::string& text);

/// Draws a QR code as SVG.
std::string QrSvg(const std::string& text);

}  // namespace dzong::identity
