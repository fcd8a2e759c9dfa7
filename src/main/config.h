#pragma once
// The server's settings: defaults, then a TOML file, then DZONG_* environment
// variables. Every problem names the key.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "http/server.h"

namespace dzong {

struct Config {
  std::string data_dir = "./var";
  std::string database_url;  ///< defaults to sqlite://<data_dir>/dzong.db
  int database_pool_size = 8;
  http::ServerOptions server;
  std::string log_level = "info";
  bool access_log = true;
  std::string operator_token;  ///< bearer token of the platform operator; empty disables it
  std::string assets_dir = DZONG_DEFAULT_ASSETS_DIR;  ///< built web assets (scripts/build-assets)
  bool behind_tls = false;     ///< served behind a TLS proxy: Secure cookies, HSTS
  /// Addresses of reverse proxies whose X-Forwarded-For names the client.
  std::vector<std::string> trusted_proxies;
  bool fast_password_hashing = false;  ///< test suites only: Argon2id at minimum cost
  /// Seals the platform's signing keys at rest: 32 raw bytes, from 64 hex
  /// digits in keys.encryption_key or DZONG_KEY_ENCRYPTION_KEY. Empty: none.
  std::string key_encryption_key;
  /// A PKCS#11 token that makes and keeps the signing keys instead
  /// ([keys] pkcs11_module, pkcs11_token, pkcs11_pin; DZONG_PKCS11_*).
  /// Empty module: keys are sealed under the key-encryption key.
  struct Pkcs11 {
    std::string module;  ///< e.g. /usr/lib/softhsm/libsofthsm2.so
    std::string token;   ///< the token's label
    std::string pin;     ///< its user PIN
  } pkcs11;
  struct Audit {
    std::int64_t checkpoint_every = 1000;                     ///< events between signed checkpoints
    std::chrono::milliseconds checkpoint_interval{60'000};    ///< longest an event waits for one
    int retention_days = 3650;                                ///< older events may be archived
    std::string archive_dir;                                  ///< defaults to <data_dir>/audit-archive
    bool show_officer_names = false;  ///< the data tracker names officers, not only their roles
  } audit;
  struct Forms {
    /// How long a draft application is kept from when it was started
    /// ([forms] draft_lifetime_days, DZONG_DRAFT_LIFETIME_DAYS).
    std::chrono::seconds draft_lifetime{std::chrono::hours(24 * 30)};
  } forms;
  struct Workflow {
    /// The days of the week that are no working days for SLAs ([workflow]
    /// weekend, DZONG_WEEKEND): "sat,sun".
    std::string weekend = "sat,sun";
    /// How often due dates are checked for escalation ([workflow] escalation_minutes).
    std::chrono::seconds escalation_interval{600};
  } workflow;
  /// How notices leave the platform ([notify], DZONG_NOTIFY_*). With neither
  /// a mail server nor an SMS gateway, notices stay pending (and are read in
  /// the inbox on the platform).
  struct Notify {
    std::string smtp_host;      ///< the mail relay; empty: no email
    int smtp_port = 25;
    std::string mail_from;      ///< the sender's address; needed with smtp_host
    std::string sms_url;        ///< http://host[:port]/path of the SMS gateway; empty: no SMS
    std::string sms_token;      ///< the gateway's bearer token
    std::string site_url;       ///< links in messages start with it; defaults to http://<listen address>
    int poll_seconds = 5;       ///< how often the server's sender looks; 0: only `dzong notify send-due`
    int timeout_seconds = 30;   ///< longest wait for the mail server or the gateway
  } notify;
  struct Payments {
    /// Signs the simulated gateway's callbacks (HMAC-SHA256):
    /// [payments] sim_secret or DZONG_PAYMENTS_SIM_SECRET. Empty: a random
    /// one per process (enough for one `dzong serve`).
    std::string sim_secret;
    /// The simulated gateway posts its callbacks ([payments] sim_callbacks);
    /// when false the platform learns outcomes by status query only.
    bool sim_callbacks = true;
    /// Where gateways post callbacks ([payments] callback_origin,
    /// "https://dzong.example.bt"); empty: this server's own listening address.
    std::string callback_origin;
  } payments;
};

/// Reads settings. `file` may be empty (defaults and environment only).
/// `environment` is passed in so that tests do not touch the process's.
/// Errors: config.invalid, with a message "<key>: <problem>".
Result<Config> LoadConfig(const std::string& file, const std::map<std::string, std::string>& environment);

/// The DZONG_* variables of this process.
std::map<std::string, std::string> ProcessEnvironment();

}  // namespace dzong
