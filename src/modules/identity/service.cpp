#include <algorithm>
#include <mutex>
#include <semaphore>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "modules/identity/identity.h"
#include "modules/identity/store.h"
#include "modules/notify/notify.h"

namespace dzong::identity {

std::string QrSvg(const std::string& text);

namespace {

// At most two Argon2id hashes run at once in a process, whatever the load:
// each costs ~200 ms of a core, and the other core must keep serving.
std::counting_semaphore<2> hash_slots(2);

class HashSlot {
 public:
  HashSlot() { hash_slots.acquire(); }
  ~HashSlot() { hash_slots.release(); }
  HashSlot(const HashSlot&) = delete;
  HashSlot& operator=(const HashSlot&) = delete;
};

bool ValidSystemId(const std::string& id) {
  // BT/GOV/<ORG>/<SUBSYSTEM>
  if (!id.starts_with("BT/GOV/")) return false;
  const auto slash = id.find('/', 7);
  if (slash == std::string::npos || slash == 7 || slash + 1 >= id.size()) return false;
  return std::all_of(id.begin() + 7, id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '/';
  }) && id.find('/', slash + 1) == std::string::npos;
}

/// The time step whose code `code` is, among the previous, current and next
/// (clocks drift); nullopt when none matches.
std::optional<std::int64_t> MatchTotp(const std::string& secret, const std::string& code,
                                      std::chrono::system_clock::time_point now) {
  const std::int64_t now_step = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() / 30;
  std::optional<std::int64_t> matched;
  for (std::int64_t step = now_step - 1; step <= now_step + 1; ++step) {
    if (code.size() == 6 && ConstantTimeEquals(TotpCode(secret, step), code)) matched = step;
  }
  return matched;
}

}  // namespace

IdentityService::IdentityService(db::Database& db, const Clock& clock, Policy policy)
    : db_(db), clock_(clock), policy_(policy) {}

std::string IdentityService::Hash(const std::string& password) const {
  HashSlot slot;
  return policy_.fast_hashing ? PasswordHashFast(password) : PasswordHash(password);
}

Result<Account> IdentityService::CreateAccount(const NewAccount& input, const std::string& actor) {
  std::vector<FieldError> errors;
  if (input.display_name.empty() || input.display_name.size() > 200) {
    errors.push_back({"display_name", "required", "Enter the person's full name (up to 200 characters)"});
  }
  switch (input.kind) {
    case AccountKind::kCitizen: {
      auto cid = ValidateCid("username", input.username);
      errors.insert(errors.end(), cid.begin(), cid.end());
      break;
    }
    case AccountKind::kOfficial: {
      const bool shape = input.username.size() >= 3 && input.username.size() <= 64 &&
                         std::all_of(input.username.begin(), input.username.end(), [](char c) {
                           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
                         });
      if (!shape) {
        errors.push_back({"username", "pattern",
                          "Usernames are 3 to 64 characters: lower-case letters, digits, '.', '-' and '_'"});
      }
      if (!input.organisation) errors.push_back({"organisation", "required", "Choose the official's organisation"});
      break;
    }
    case AccountKind::kSystem: {
      if (!ValidSystemId(input.username)) {
        errors.push_back({"username", "pattern", "A system is named BT/GOV/<ORGANISATION>/<SUBSYSTEM>, e.g. BT/GOV/DCRC/CENSUS"});
      }
      const auto key = input.public_key ? Base64Decode(*input.public_key) : std::nullopt;
      if (!key || key->size() != 32) {
        errors.push_back({"public_key", "ed25519", "Give the system's Ed25519 public key: 32 bytes, base64"});
      }
      if (!input.organisation) errors.push_back({"organisation", "required", "Choose the system's organisation"});
      break;
    }
  }
  if (input.kind != AccountKind::kSystem) {
    auto password = ValidatePassword("password", input.password, input.username);
    errors.insert(errors.end(), password.begin(), password.end());
  }
  if (!errors.empty()) return Invalid(std::move(errors));
  const std::optional<std::string> hash =
      input.kind == AccountKind::kSystem ? std::nullopt : std::optional<std::string>(Hash(input.password));
  return db_.WriteValue<Account>([&](db::Connection& c) -> Result<Account> {
    DZONG_ASSIGN_OR_RETURN(auto existing, store::FindAccountByUsername(c, input.username));
    if (existing) {
      return Error(errc::kAlreadyExists, fmt::format("An account for {} already exists", input.username),
                   {{"username", "unique", "An account with this username already exists"}});
    }
    if (input.organisation) {
      DZONG_ASSIGN_OR_RETURN(bool known, store::OrganisationExists(c, *input.organisation));
      if (!known) {
        return Invalid({{"organisation", "not_found", fmt::format("There is no organisation {}", *input.organisation)}});
      }
    }
    const std::string now = FormatUtc(clock_.Now());
    DZONG_ASSIGN_OR_RETURN(const std::int64_t id,
                           store::InsertAccount(c, input, hash, input.public_key, now));
    DZONG_TRY(RecordSecurityEvent(c, "identity.account_created", id, "-", fmt::format("by {}", actor)));
    DZONG_ASSIGN_OR_RETURN(auto created, store::FindAccount(c, id));
    return created->account;
  });
}

Result<Account> IdentityService::GetAccount(std::int64_t id) {
  DZONG_ASSIGN_OR_RETURN(auto found, db_.ReadValue<std::optional<store::AccountRow>>(
                                         [&](db::Connection& c) { return store::FindAccount(c, id); }));
  if (!found) return Error(errc::kNotFound, "There is no such account");
  return found->account;
}

Result<std::optional<Account>> IdentityService::FindAccount(const std::string& username) {
  DZONG_ASSIGN_OR_RETURN(auto found, db_.ReadValue<std::optional<store::AccountRow>>([&](db::Connection& c) {
                           return store::FindAccountByUsername(c, username);
                         }));
  if (!found) return std::optional<Account>();
  return std::optional<Account>(found->account);
}

Result<std::vector<Account>> IdentityService::ListAccounts(const std::optional<std::string>& organisation) {
  return db_.ReadValue<std::vector<Account>>(
      [&](db::Connection& c) { return store::ListAccounts(c, organisation); });
}

Result<Caller> IdentityService::LoadCaller(std::int64_t account_id) {
  return db_.ReadValue<Caller>([&](db::Connection& c) -> Result<Caller> {
    DZONG_ASSIGN_OR_RETURN(auto row, store::FindAccount(c, account_id));
    if (!row) return Error(errc::kNotFound, "There is no such account");
    return store::LoadCaller(c, row->account);
  });
}

Status IdentityService::CheckThrottle(db::Connection& c, const std::string& subject, int limit) {
  const auto now = clock_.Now();
  DZONG_ASSIGN_OR_RETURN(int failures, store::RecentAttempts(c, subject, FormatUtc(now - policy_.throttle_window)));
  if (failures >= limit) {
    return Error(errc::kThrottled, "Too many sign-in attempts. Wait 15 minutes and try again.");
  }
  return {};
}

Status IdentityService::CountFailure(db::Connection& c, const std::string& subject) {
  const auto now = clock_.Now();
  DZONG_TRY(store::CountAttempt(c, subject, FormatUtc(now), FormatUtc(now - policy_.throttle_window)));
  return {};
}

Status IdentityService::RecordSecurityEvent(db::Connection& c, const std::string& event,
                                            std::optional<std::int64_t> account, const std::string& remote,
                                            const std::string& detail) {
  return store::InsertSecurityEvent(c, FormatUtc(clock_.Now()), event, account, remote, detail);
}

Result<NewSession> IdentityService::StartSession(db::Connection& c, const Account& account, bool mfa_done,
                                                 const std::string& remote, const std::string& user_agent) {
  NewSession session;
  session.raw_id = RandomHex(32);
  session.csrf_token = RandomHex(16);
  const auto now = clock_.Now();
  DZONG_TRY(store::InsertSession(c, Sha256Hex(session.raw_id), account.id, session.csrf_token, mfa_done,
                                 FormatUtc(now), FormatUtc(now + policy_.session_absolute), remote,
                                 user_agent.substr(0, 200)));
  session.needs_totp = !mfa_done && account.totp_enrolled;
  session.needs_enrolment = !mfa_done && !account.totp_enrolled;
  return session;
}

Result<NewSession> IdentityService::SignIn(const std::string& username, const std::string& password,
                                           const std::string& remote, const std::string& user_agent) {
  // Refuse before any hashing, so that a refused attempt costs no CPU. Only
  // failures count: people signing in correctly are never held back.
  DZONG_TRY(db_.Read([&](db::Connection& c) -> Status {
    DZONG_TRY(CheckThrottle(c, "address:" + remote, policy_.failures_per_address));
    return CheckThrottle(c, "account:" + username, policy_.failures_per_account);
  }));
  DZONG_ASSIGN_OR_RETURN(auto row, db_.ReadValue<std::optional<store::AccountRow>>([&](db::Connection& c) {
                           return store::FindAccountByUsername(c, username);
                         }));
  const std::string now = FormatUtc(clock_.Now());
  if (row && row->locked_until && *row->locked_until > now) {
    return Error(errc::kLocked, "This account is locked after too many failed attempts. Try again later.");
  }
  bool verified = false;
  {
    HashSlot slot;
    // Without an account, verify against a fixed hash anyway, so that the
    // answer takes as long and does not tell which usernames exist.
    std::call_once(nobody_once_, [&] {
      nobody_hash_ = policy_.fast_hashing ? PasswordHashFast("no account") : PasswordHash("no account");
    });
    verified = PasswordVerify(row && row->password_hash ? *row->password_hash : nobody_hash_, password) && row &&
               row->password_hash && row->account.status == "active";
  }
  if (!verified) {
    DZONG_TRY(db_.Write([&](db::Connection& c) -> Status {
      DZONG_TRY(CountFailure(c, "address:" + remote));
      return CountFailure(c, "account:" + username);
    }));
    if (row) {
      DZONG_TRY(db_.Write([&](db::Connection& c) -> Status {
        DZONG_ASSIGN_OR_RETURN(int failures, store::AddFailure(c, row->account.id));
        if (failures >= policy_.lock_after_failures) {
          DZONG_TRY(store::Lock(c, row->account.id, FormatUtc(clock_.Now() + policy_.lock_for)));
          DZONG_TRY(RecordSecurityEvent(c, "identity.account_locked", row->account.id, remote,
                                        fmt::format("{} failed sign-in attempts", failures)));
        }
        return RecordSecurityEvent(c, "identity.sign_in_failed", row->account.id, remote, "wrong password");
      }));
    }
    return Error(errc::kInvalidCredentials, "The username or password is not right",
                 {{"password", "invalid_credentials", "The username or password is not right"}});
  }
  return db_.WriteValue<NewSession>([&](db::Connection& c) -> Result<NewSession> {
    DZONG_TRY(store::ClearFailures(c, row->account.id));
    DZONG_TRY(store::ClearThrottle(c, "account:" + username));
    DZONG_TRY(RecordSecurityEvent(c, "identity.signed_in", row->account.id, remote, ""));
    return StartSession(c, row->account, row->account.kind != AccountKind::kOfficial, remote, user_agent);
  });
}

Result<SessionState> IdentityService::ResumeSession(const std::string& raw_session) {
  if (raw_session.size() != 64) return Error(errc::kSessionInvalid, "Your session has ended; sign in again");
  const std::string hash = Sha256Hex(raw_session);
  const auto now = clock_.Now();
  DZONG_ASSIGN_OR_RETURN(auto state, db_.ReadValue<std::optional<SessionState>>([&](db::Connection& c) {
                           return store::FindSession(c, hash, FormatUtc(now), FormatUtc(now - policy_.session_idle));
                         }));
  if (!state) return Error(errc::kSessionInvalid, "Your session has ended; sign in again");
  // Record activity at most once a minute: a write per request would cost a
  // commit per page view.
  if (state->last_seen_at < FormatUtc(now - std::chrono::minutes(1))) {
    (void)db_.Write([&](db::Connection& c) { return store::TouchSession(c, hash, FormatUtc(now)); });
  }
  return std::move(*state);
}

Result<NewSession> IdentityService::CompleteTotp(const std::string& raw_session, const std::string& code) {
  DZONG_ASSIGN_OR_RETURN(SessionState state, ResumeSession(raw_session));
  return db_.WriteValue<NewSession>([&](db::Connection& c) -> Result<NewSession> {
    DZONG_ASSIGN_OR_RETURN(auto row, store::FindAccount(c, state.caller.account.id));
    if (!row || !row->totp_secret) return Error(errc::kTotpInvalid, "Set up your authenticator app first");
    const auto secret = Base32Decode(*row->totp_secret);
    const auto matched = secret ? MatchTotp(*secret, code, clock_.Now()) : std::nullopt;
    if (!matched) {
      DZONG_TRY(RecordSecurityEvent(c, "identity.totp_failed", row->account.id, "-", ""));
      return Error(errc::kTotpInvalid, "The code is not right; enter the 6 digits your app shows now",
                   {{"code", "totp", "The code is not right; enter the 6 digits your app shows now"}});
    }
    if (*matched <= row->totp_last_step) {
      DZONG_TRY(RecordSecurityEvent(c, "identity.totp_replayed", row->account.id, "-", ""));
      return Error(errc::kTotpReplayed, "This code has been used already; wait for the next one",
                   {{"code", "replayed", "This code has been used already; wait for the next one"}});
    }
    DZONG_TRY(store::SetTotpStep(c, row->account.id, *matched));
    DZONG_TRY(store::EndSession(c, state.id_hash, FormatUtc(clock_.Now())));
    return StartSession(c, row->account, true, "-", "");
  });
}

Result<TotpEnrolment> IdentityService::BeginTotpEnrolment(const Account& account) {
  TotpEnrolment e;
  e.secret_base32 = Base32Encode(RandomBytes(20));
  e.otpauth_uri = fmt::format("otpauth://totp/Dzong:{}?secret={}&issuer=Dzong&algorithm=SHA1&digits=6&period=30",
                              account.username, e.secret_base32);
  e.qr_svg = QrSvg(e.otpauth_uri);
  return e;
}

Result<NewSession> IdentityService::ConfirmTotpEnrolment(const std::string& raw_session,
                                                         const std::string& secret_base32, const std::string& code) {
  DZONG_ASSIGN_OR_RETURN(SessionState state, ResumeSession(raw_session));
  const auto secret = Base32Decode(secret_base32);
  if (!secret || secret->size() < 16) return Error(errc::kTotpInvalid, "Start setting up your app again");
  if (state.caller.account.totp_enrolled) return Error(errc::kTotpInvalid, "Your app is set up already");
  const auto matched = MatchTotp(*secret, code, clock_.Now());
  if (!matched) {
    return Error(errc::kTotpInvalid, "The code is not right; enter the 6 digits your app shows now",
                 {{"code", "totp", "The code is not right; enter the 6 digits your app shows now"}});
  }
  return db_.WriteValue<NewSession>([&](db::Connection& c) -> Result<NewSession> {
    DZONG_TRY(store::SetTotpSecret(c, state.caller.account.id, secret_base32, *matched));
    DZONG_TRY(RecordSecurityEvent(c, "identity.totp_enrolled", state.caller.account.id, "-", ""));
    DZONG_TRY(store::EndSession(c, state.id_hash, FormatUtc(clock_.Now())));
    Account enrolled = state.caller.account;
    enrolled.totp_enrolled = true;
    return StartSession(c, enrolled, true, "-", "");
  });
}

Status IdentityService::SignOut(const std::string& raw_session) {
  if (raw_session.empty()) return {};
  return db_.Write(
      [&](db::Connection& c) { return store::EndSession(c, Sha256Hex(raw_session), FormatUtc(clock_.Now())); });
}

Status IdentityService::SignOutEverywhere(std::int64_t account_id) {
  return db_.Write([&](db::Connection& c) -> Status {
    DZONG_TRY(store::EndAllSessions(c, account_id, FormatUtc(clock_.Now())));
    DZONG_TRY(store::RevokeAllTokens(c, account_id, FormatUtc(clock_.Now())));
    return RecordSecurityEvent(c, "identity.signed_out_everywhere", account_id, "-", "");
  });
}

Result<std::vector<SessionInfo>> IdentityService::ListSessions(std::int64_t account_id,
                                                              const std::string& current_hash) {
  return db_.ReadValue<std::vector<SessionInfo>>([&](db::Connection& c) {
    return store::ListSessions(c, account_id, FormatUtc(clock_.Now()), current_hash);
  });
}

Status IdentityService::RequestPasswordReset(const std::string& username) {
  const std::string raw = RandomHex(32);
  return db_.Write([&](db::Connection& c) -> Status {
    DZONG_ASSIGN_OR_RETURN(auto row, store::FindAccountByUsername(c, username));
    if (!row || row->account.kind == AccountKind::kSystem) return {};
    const auto now = clock_.Now();
    DZONG_TRY(store::InsertReset(c, Sha256Hex(raw), row->account.id, FormatUtc(now),
                                 FormatUtc(now + policy_.reset_token_life)));
    const nlohmann::json payload = {{"reset_path", "/reset-password?token=" + raw},
                                    {"display_name", row->account.display_name}};
    DZONG_TRY(notify::Enqueue(c, {"account", row->account.username, "identity.password_reset", payload, "", ""},
                              FormatUtc(now)));
    return RecordSecurityEvent(c, "identity.password_reset_requested", row->account.id, "-", "");
  });
}

Status IdentityService::ResetPassword(const std::string& raw_token, const std::string& new_password) {
  const std::string hash = Sha256Hex(raw_token);
  DZONG_ASSIGN_OR_RETURN(auto account, db_.ReadValue<std::optional<store::AccountRow>>([&](db::Connection& c) {
                           return store::FindResetAccount(c, hash, FormatUtc(clock_.Now()));
                         }));
  if (!account) {
    return Error(errc::kResetTokenInvalid,
                 "This link has expired or has been used. Ask for a new one on the forgotten password page.");
  }
  if (auto errors = ValidatePassword("password", new_password, account->account.username); !errors.empty()) {
    return Invalid(std::move(errors));
  }
  const std::string password_hash = Hash(new_password);
  return db_.Write([&](db::Connection& c) -> Status {
    const std::string now = FormatUtc(clock_.Now());
    DZONG_ASSIGN_OR_RETURN(bool claimed, store::UseReset(c, hash, now));
    if (!claimed) {
      return Error(errc::kResetTokenInvalid,
                   "This link has expired or has been used. Ask for a new one on the forgotten password page.");
    }
    DZONG_TRY(store::SetPassword(c, account->account.id, password_hash, now));
    DZONG_TRY(store::EndAllSessions(c, account->account.id, now));
    return RecordSecurityEvent(c, "identity.password_reset", account->account.id, "-", "");
  });
}

Result<std::string> IdentityService::CreateToken(std::int64_t account_id, const std::string& name,
                                                 const std::string& scopes, std::chrono::hours life) {
  std::vector<FieldError> errors;
  if (name.empty() || name.size() > 100) errors.push_back({"name", "required", "Give the token a name (up to 100 characters)"});
  if (life.count() < 1 || life.count() > 24 * 365) errors.push_back({"expires_in_days", "range", "A token lasts 1 to 365 days"});
  DZONG_ASSIGN_OR_RETURN(Caller caller, LoadCaller(account_id));
  std::istringstream words(scopes);
  std::string scope;
  int count = 0;
  while (words >> scope) {
    ++count;
    if (!caller.Has(scope)) errors.push_back({"scopes", "not_held", fmt::format("You do not hold the permission {}", scope)});
  }
  if (count == 0) errors.push_back({"scopes", "required", "Choose at least one permission for the token"});
  if (!errors.empty()) return Invalid(std::move(errors));
  const std::string raw = "dzt_" + RandomHex(32);
  DZONG_TRY(db_.Write([&](db::Connection& c) {
    const auto now = clock_.Now();
    return store::InsertToken(c, account_id, name, Sha256Hex(raw), scopes, FormatUtc(now), FormatUtc(now + life));
  }));
  return raw;
}

Result<std::vector<TokenInfo>> IdentityService::ListTokens(std::int64_t account_id) {
  return db_.ReadValue<std::vector<TokenInfo>>([&](db::Connection& c) { return store::ListTokens(c, account_id); });
}

Status IdentityService::RevokeToken(std::int64_t account_id, std::int64_t token_id) {
  return db_.Write([&](db::Connection& c) -> Status {
    DZONG_ASSIGN_OR_RETURN(bool revoked, store::RevokeToken(c, account_id, token_id, FormatUtc(clock_.Now())));
    if (!revoked) return Error(errc::kNotFound, "There is no such token among yours");
    return {};
  });
}

Result<Caller> IdentityService::AuthenticateToken(const std::string& raw_token) {
  using TokenOwner = std::optional<std::pair<std::int64_t, std::string>>;
  DZONG_ASSIGN_OR_RETURN(auto found, db_.ReadValue<TokenOwner>(
                                         [&](db::Connection& c) {
                                           return store::FindToken(c, Sha256Hex(raw_token), FormatUtc(clock_.Now()));
                                         }));
  if (!found) return Error(errc::kTokenInvalid, "The bearer token is not valid, has expired or was revoked");
  DZONG_ASSIGN_OR_RETURN(Caller caller, LoadCaller(found->first));
  std::set<std::string, std::less<>> scoped;
  std::istringstream words(found->second);
  std::string scope;
  while (words >> scope) {
    if (caller.Has(scope)) scoped.insert(scope);
  }
  caller.permissions = std::move(scoped);
  caller.may_act_everywhere = caller.Has("accounts.all_organisations");
  return caller;
}

Result<Caller> IdentityService::AuthenticateSystem(const std::string& key_id, const std::string& signature_base,
                                                  const std::string& signature) {
  DZONG_ASSIGN_OR_RETURN(auto row, db_.ReadValue<std::optional<store::AccountRow>>([&](db::Connection& c) {
                           return store::FindAccountByUsername(c, key_id);
                         }));
  const auto key = row && row->public_key ? Base64Decode(*row->public_key) : std::nullopt;
  if (!row || row->account.kind != AccountKind::kSystem || row->account.status != "active" || !key ||
      !Ed25519Verify(*key, signature_base, signature)) {
    return Error(dzong::errc::kUnauthenticated, "request signature: not valid for a registered system");
  }
  return LoadCaller(row->account.id);
}

Result<Grant> IdentityService::GrantRole(const Caller& actor, std::int64_t account_id, const std::string& role) {
  if (!actor.Has("roles.grant")) return Error(dzong::errc::kForbidden, "You may not grant roles");
  return db_.WriteValue<Grant>([&](db::Connection& c) -> Result<Grant> {
    DZONG_ASSIGN_OR_RETURN(auto target, store::FindAccount(c, account_id));
    if (!target) return Error(errc::kNotFound, "There is no such account");
    if (!actor.may_act_everywhere && target->account.organisation != actor.account.organisation) {
      return Error(errc::kOutsideOrganisation, "You can only grant roles to people in your own organisation",
                   {{"account", "own_organisation", "This person is not in your organisation"}});
    }
    DZONG_ASSIGN_OR_RETURN(auto needs_approval, store::RoleNeedsApproval(c, role));
    if (!needs_approval) return Invalid({{"role", "one_of", fmt::format("There is no role {}", role)}});
    if (*needs_approval && !actor.Has("roles.approve")) {
      return Error(dzong::errc::kForbidden, "Only a platform administrator may propose this role");
    }
    Grant g;
    g.account_id = account_id;
    g.role = role;
    g.organisation = target->account.organisation;
    g.status = *needs_approval ? "pending" : "active";
    g.granted_by = actor.account.username;
    DZONG_ASSIGN_OR_RETURN(g.id, store::InsertGrant(c, g, FormatUtc(clock_.Now())));
    DZONG_TRY(RecordSecurityEvent(c, *needs_approval ? "identity.role_proposed" : "identity.role_granted", account_id,
                                  "-", fmt::format("{} by {}", role, actor.account.username)));
    return g;
  });
}

Result<Grant> IdentityService::ApproveGrant(const Caller& actor, std::int64_t grant_id) {
  if (!actor.Has("roles.approve")) return Error(dzong::errc::kForbidden, "You may not approve roles");
  return db_.WriteValue<Grant>([&](db::Connection& c) -> Result<Grant> {
    DZONG_ASSIGN_OR_RETURN(auto grant, store::FindGrant(c, grant_id));
    if (!grant || grant->status != "pending") return Error(errc::kNotFound, "There is no such grant waiting for approval");
    if (grant->granted_by == actor.account.username) {
      return Error(errc::kSecondApproverRequired, "A second administrator must approve a grant you proposed");
    }
    DZONG_TRY(store::DecideGrant(c, grant_id, "active", actor.account.username, FormatUtc(clock_.Now())));
    DZONG_TRY(RecordSecurityEvent(c, "identity.role_approved", grant->account_id, "-",
                                  fmt::format("{} by {}", grant->role, actor.account.username)));
    grant->status = "active";
    grant->approved_by = actor.account.username;
    return *grant;
  });
}

Status IdentityService::RevokeGrant(const Caller& actor, std::int64_t grant_id) {
  if (!actor.Has("roles.grant")) return Error(dzong::errc::kForbidden, "You may not revoke roles");
  return db_.Write([&](db::Connection& c) -> Status {
    DZONG_ASSIGN_OR_RETURN(auto grant, store::FindGrant(c, grant_id));
    if (!grant || grant->status == "revoked") return Error(errc::kNotFound, "There is no such grant");
    if (!actor.may_act_everywhere && grant->organisation != actor.account.organisation) {
      return Error(errc::kOutsideOrganisation, "You can only change roles in your own organisation");
    }
    DZONG_TRY(store::DecideGrant(c, grant_id, "revoked", actor.account.username, FormatUtc(clock_.Now())));
    return RecordSecurityEvent(c, "identity.role_revoked", grant->account_id, "-",
                               fmt::format("{} by {}", grant->role, actor.account.username));
  });
}

Result<std::vector<Grant>> IdentityService::ListGrants(std::optional<std::int64_t> account_id,
                                                      const std::string& status) {
  return db_.ReadValue<std::vector<Grant>>([&](db::Connection& c) { return store::ListGrants(c, account_id, status); });
}

Result<std::vector<std::string>> IdentityService::RoleCodes() {
  return db_.ReadValue<std::vector<std::string>>([](db::Connection& c) { return store::RoleCodes(c); });
}

}  // namespace dzong::identity
