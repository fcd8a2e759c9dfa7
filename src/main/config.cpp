#include "main/config.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <functional>
#include <thread>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "db/database.h"
#include "modules/keys/keys.h"
#include "modules/workflow/workflow.h"

extern char** environ;

namespace dzong {
namespace {

Error Invalid(std::string_view key, std::string_view problem) {
  return Error("config.invalid", fmt::format("{}: {}", key, problem));
}

Status ParseListen(std::string_view key, std::string_view text, http::ServerOptions& server) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Invalid(key, fmt::format("expected host:port such as 127.0.0.1:8080, got '{}'", text));
  }
  std::string_view host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return Invalid(key, fmt::format("port must be a number from 0 to 65535, got '{}'", port_text));
  }
  server.address = std::string(host == "localhost" ? "127.0.0.1" : host);
  server.port = static_cast<std::uint16_t>(port);
  return {};
}

Status CheckLevel(std::string_view key, const std::string& level) {
  static constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
  if (std::find(std::begin(kLevels), std::end(kLevels), level) == std::end(kLevels)) {
    return Invalid(key, fmt::format("must be one of trace, debug, info, warn, error, off; got '{}'", level));
  }
  return {};
}

// Reads one table of the TOML file; refuses keys it does not know, so a typo
// is an error and not a silently ignored setting.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string prefix) : table_(table), prefix_(std::move(prefix)) {}

  Status String(const char* name, std::string& out) {
    seen_.emplace_back(name);
    const toml::node* node = table_.get(name);
    if (!node) return {};
    if (!node->is_string()) return Invalid(Key(name), "must be a string");
    out = node->as_string()->get();
    return {};
  }
  Status Int(const char* name, std::int64_t min, std::int64_t max, std::int64_t& out) {
    seen_.emplace_back(name);
    const toml::node* node = table_.get(name);
    if (!node) return {};
    if (!node->is_integer()) return Invalid(Key(name), "must be a whole number");
    const std::int64_t v = node->as_integer()->get();
    if (v < min || v > max) return Invalid(Key(name), fmt::format("must be between {} and {}, got {}", min, max, v));
    out = v;
    return {};
  }
  Status StringList(const char* name, std::vector<std::string>& out) {
    seen_.emplace_back(name);
    const toml::node* node = table_.get(name);
    if (!node) return {};
    const toml::array* array = node->as_array();
    if (!array) return Invalid(Key(name), "must be a list of strings");
    out.clear();
    for (const toml::node& item : *array) {
      if (!item.is_string()) return Invalid(Key(name), "must be a list of strings");
      out.push_back(item.as_string()->get());
    }
    return {};
  }
  Status Bool(const char* name, bool& out) {
    seen_.emplace_back(name);
    const toml::node* node = table_.get(name);
    if (!node) return {};
    if (!node->is_boolean()) return Invalid(Key(name), "must be true or false");
    out = node->as_boolean()->get();
    return {};
  }
  const toml::table* Table(const char* name) {
    seen_.emplace_back(name);
    const toml::node* node = table_.get(name);
    return node ? node->as_table() : nullptr;
  }
  Status Finish() const {
    for (const auto& [key, value] : table_) {
      if (std::find(seen_.begin(), seen_.end(), key.str()) == seen_.end()) {
        return Invalid(Key(key.str()), "unknown setting");
      }
    }
    return {};
  }
  std::string Key(std::string_view name) const { return prefix_.empty() ? std::string(name) : prefix_ + "." + std::string(name); }

 private:
  const toml::table& table_;
  std::string prefix_;
  std::vector<std::string> seen_;
};

Status ReadFile(const std::string& file, Config& config) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return Error("config.invalid", fmt::format("--config: settings file '{}' does not exist or is not a file", file));
  }
  toml::table root;
  try {
    root = toml::parse_file(file);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return Error("config.invalid", fmt::format("{}:{}:{}: {}", file, where.line, where.column, e.description()));
  }
  TableReader top(root, "");
  DZONG_TRY(top.String("data_dir", config.data_dir));
  std::string listen;
  std::int64_t n = 0;
  if (const toml::table* t = top.Table("server")) {
    TableReader r(*t, "server");
    DZONG_TRY(r.String("listen", listen));
    if (!listen.empty()) DZONG_TRY(ParseListen("server.listen", listen, config.server));
    n = config.server.threads;
    DZONG_TRY(r.Int("threads", 1, 256, n));
    config.server.threads = static_cast<int>(n);
    n = static_cast<std::int64_t>(config.server.header_limit);
    DZONG_TRY(r.Int("header_limit_bytes", 1024, 1 << 20, n));
    config.server.header_limit = static_cast<std::size_t>(n);
    n = static_cast<std::int64_t>(config.server.body_limit);
    DZONG_TRY(r.Int("body_limit_bytes", 1024, 1LL << 30, n));
    config.server.body_limit = static_cast<std::size_t>(n);
    n = config.server.read_timeout.count();
    DZONG_TRY(r.Int("read_timeout_ms", 100, 3600000, n));
    config.server.read_timeout = std::chrono::milliseconds(n);
    n = config.server.idle_timeout.count();
    DZONG_TRY(r.Int("idle_timeout_ms", 100, 3600000, n));
    config.server.idle_timeout = std::chrono::milliseconds(n);
    DZONG_TRY(r.Bool("behind_tls", config.behind_tls));
    DZONG_TRY(r.StringList("trusted_proxies", config.trusted_proxies));
    DZONG_TRY(r.String("assets_dir", config.assets_dir));
    n = config.server.shutdown_grace.count();
    DZONG_TRY(r.Int("shutdown_grace_ms", 0, 3600000, n));
    config.server.shutdown_grace = std::chrono::milliseconds(n);
    DZONG_TRY(r.Finish());
  } else if (root.get("server")) {
    return Invalid("server", "must be a table ([server])");
  }
  if (const toml::table* t = top.Table("database")) {
    TableReader r(*t, "database");
    DZONG_TRY(r.String("url", config.database_url));
    n = config.database_pool_size;
    DZONG_TRY(r.Int("pool_size", 1, 512, n));
    config.database_pool_size = static_cast<int>(n);
    DZONG_TRY(r.Finish());
  } else if (root.get("database")) {
    return Invalid("database", "must be a table ([database])");
  }
  if (const toml::table* t = top.Table("log")) {
    TableReader r(*t, "log");
    DZONG_TRY(r.String("level", config.log_level));
    DZONG_TRY(r.Bool("access_log", config.access_log));
    DZONG_TRY(r.Finish());
  } else if (root.get("log")) {
    return Invalid("log", "must be a table ([log])");
  }
  if (const toml::table* t = top.Table("auth")) {
    TableReader r(*t, "auth");
    DZONG_TRY(r.String("operator_token", config.operator_token));
    DZONG_TRY(r.Bool("fast_password_hashing", config.fast_password_hashing));
    DZONG_TRY(r.Finish());
  } else if (root.get("auth")) {
    return Invalid("auth", "must be a table ([auth])");
  }
  if (const toml::table* t = top.Table("keys")) {
    TableReader r(*t, "keys");
    std::string kek;
    DZONG_TRY(r.String("encryption_key", kek));
    if (!kek.empty()) {
      DZONG_ASSIGN_OR_RETURN(config.key_encryption_key, keys::ParseKeyEncryptionKey("keys.encryption_key", kek));
    }
    DZONG_TRY(r.String("pkcs11_module", config.pkcs11.module));
    DZONG_TRY(r.String("pkcs11_token", config.pkcs11.token));
    DZONG_TRY(r.String("pkcs11_pin", config.pkcs11.pin));
    DZONG_TRY(r.Finish());
  } else if (root.get("keys")) {
    return Invalid("keys", "must be a table ([keys])");
  }
  if (const toml::table* t = top.Table("audit")) {
    TableReader r(*t, "audit");
    DZONG_TRY(r.Int("checkpoint_every", 1, 100'000'000, config.audit.checkpoint_every));
    n = config.audit.checkpoint_interval.count() / 1000;
    DZONG_TRY(r.Int("checkpoint_seconds", 1, 86400, n));
    config.audit.checkpoint_interval = std::chrono::seconds(n);
    n = config.audit.retention_days;
    DZONG_TRY(r.Int("retention_days", 1, 365 * 100, n));
    config.audit.retention_days = static_cast<int>(n);
    DZONG_TRY(r.String("archive_dir", config.audit.archive_dir));
    DZONG_TRY(r.Bool("show_officer_names", config.audit.show_officer_names));
    DZONG_TRY(r.Finish());
  } else if (root.get("audit")) {
    return Invalid("audit", "must be a table ([audit])");
  }
  if (const toml::table* t = top.Table("forms")) {
    TableReader r(*t, "forms");
    n = config.forms.draft_lifetime.count() / 86400;
    DZONG_TRY(r.Int("draft_lifetime_days", 1, 365, n));
    config.forms.draft_lifetime = std::chrono::hours(24 * n);
    DZONG_TRY(r.Finish());
  } else if (root.get("forms")) {
    return Invalid("forms", "must be a table ([forms])");
  }
  if (const toml::table* t = top.Table("workflow")) {
    TableReader r(*t, "workflow");
    DZONG_TRY(r.String("weekend", config.workflow.weekend));
    if (auto weekend = workflow::ParseWeekend(config.workflow.weekend); !weekend.ok()) {
      return Invalid("workflow.weekend", weekend.error().fields.empty() ? weekend.error().message
                                                                          : weekend.error().fields[0].message);
    }
    n = config.workflow.escalation_interval.count() / 60;
    DZONG_TRY(r.Int("escalation_minutes", 1, 24 * 60, n));
    config.workflow.escalation_interval = std::chrono::minutes(n);
    DZONG_TRY(r.Finish());
  } else if (root.get("workflow")) {
    return Invalid("workflow", "must be a table ([workflow])");
  }
  if (const toml::table* t = top.Table("notify")) {
    TableReader r(*t, "notify");
    DZONG_TRY(r.String("smtp_host", config.notify.smtp_host));
    n = config.notify.smtp_port;
    DZONG_TRY(r.Int("smtp_port", 1, 65535, n));
    config.notify.smtp_port = static_cast<int>(n);
    DZONG_TRY(r.String("mail_from", config.notify.mail_from));
    DZONG_TRY(r.String("sms_url", config.notify.sms_url));
    DZONG_TRY(r.String("sms_token", config.notify.sms_token));
    DZONG_TRY(r.String("site_url", config.notify.site_url));
    n = config.notify.poll_seconds;
    DZONG_TRY(r.Int("poll_seconds", 0, 3600, n));
    config.notify.poll_seconds = static_cast<int>(n);
    n = config.notify.timeout_seconds;
    DZONG_TRY(r.Int("timeout_seconds", 1, 600, n));
    config.notify.timeout_seconds = static_cast<int>(n);
    DZONG_TRY(r.Finish());
  } else if (root.get("notify")) {
    return Invalid("notify", "must be a table ([notify])");
  }
  if (const toml::table* t = top.Table("payments")) {
    TableReader r(*t, "payments");
    DZONG_TRY(r.String("sim_secret", config.payments.sim_secret));
    DZONG_TRY(r.Bool("sim_callbacks", config.payments.sim_callbacks));
    DZONG_TRY(r.String("callback_origin", config.payments.callback_origin));
    DZONG_TRY(r.Finish());
  } else if (root.get("payments")) {
    return Invalid("payments", "must be a table ([payments])");
  }
  return top.Finish();
}

/// A whole number from `min` to `max` in an environment variable.
Status EnvInt(const char* name, const std::string& text, int min, int max, int& out) {
  int v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v < min || v > max) {
    return Invalid(name, fmt::format("must be a whole number from {} to {}", min, max));
  }
  out = v;
  return {};
}

/// The notify settings hold together: a mail server needs a sender address,
/// and the gateway and links are http(s) addresses.
Status CheckNotify(const Config::Notify& n, const std::function<const std::string*(const char*)>& env) {
  const auto key = [&](const char* variable, const char* setting) { return env(variable) ? variable : setting; };
  if (!n.smtp_host.empty() && n.mail_from.empty()) {
    return Invalid(key("DZONG_NOTIFY_MAIL_FROM", "notify.mail_from"),
                   "must be set when a mail server is (notify.smtp_host): the address mail is sent from");
  }
  if (!n.mail_from.empty()) {
    const auto at = n.mail_from.find('@');
    if (at == std::string::npos || at == 0 || at + 1 == n.mail_from.size() ||
        n.mail_from.find_first_of(" <>\r\n\"") != std::string::npos) {
      return Invalid(key("DZONG_NOTIFY_MAIL_FROM", "notify.mail_from"),
                     fmt::format("must be an address such as noreply@dzong.gov.bt, got '{}'", n.mail_from));
    }
  }
  if (!n.sms_url.empty() && !n.sms_url.starts_with("http://")) {
    return Invalid(key("DZONG_NOTIFY_SMS_URL", "notify.sms_url"),
                   "must be an http:// address such as http://127.0.0.1:9090/sms (put a TLS relay in front of an "
                   "https gateway)");
  }
  if (!n.site_url.starts_with("http://") && !n.site_url.starts_with("https://")) {
    return Invalid(key("DZONG_NOTIFY_SITE_URL", "notify.site_url"),
                   fmt::format("must start with http:// or https://, got '{}'", n.site_url));
  }
  return {};
}

}  // namespace

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    if (!entry.starts_with("DZONG_")) continue;
    const auto eq = entry.find('=');
    if (eq != std::string_view::npos) out.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return out;
}

Result<Config> LoadConfig(const std::string& file, const std::map<std::string, std::string>& environment) {
  Config config;
  // Handlers wait for their durable commit on the thread that serves them, so
  // more threads than cores let concurrent writes share one fsync.
  config.server.threads = static_cast<int>(std::max(64U, 32 * std::thread::hardware_concurrency()));
  if (!file.empty()) DZONG_TRY(ReadFile(file, config));

  const auto env = [&](const char* name) -> const std::string* {
    auto it = environment.find(name);
    return it == environment.end() ? nullptr : &it->second;
  };
  if (auto* v = env("DZONG_DATA_DIR")) config.data_dir = *v;
  if (auto* v = env("DZONG_DATABASE_URL")) config.database_url = *v;
  if (auto* v = env("DZONG_LISTEN")) DZONG_TRY(ParseListen("DZONG_LISTEN", *v, config.server));
  if (auto* v = env("DZONG_LOG_LEVEL")) config.log_level = *v;
  if (auto* v = env("DZONG_OPERATOR_TOKEN")) config.operator_token = *v;
  if (auto* v = env("DZONG_DRAFT_LIFETIME_DAYS")) {
    int days = 0;
    const auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), days);
    if (ec != std::errc() || ptr != v->data() + v->size() || days < 1 || days > 365) {
      return Invalid("DZONG_DRAFT_LIFETIME_DAYS", "must be a whole number of days from 1 to 365");
    }
    config.forms.draft_lifetime = std::chrono::hours(24 * days);
  }
  if (auto* v = env("DZONG_WEEKEND")) {
    if (auto weekend = workflow::ParseWeekend(*v); !weekend.ok()) {
      return Invalid("DZONG_WEEKEND", "must name days of the week, e.g. sat,sun");
    }
    config.workflow.weekend = *v;
  }
  if (auto* v = env("DZONG_NOTIFY_SMTP_HOST")) config.notify.smtp_host = *v;
  if (auto* v = env("DZONG_NOTIFY_SMTP_PORT")) DZONG_TRY(EnvInt("DZONG_NOTIFY_SMTP_PORT", *v, 1, 65535, config.notify.smtp_port));
  if (auto* v = env("DZONG_NOTIFY_MAIL_FROM")) config.notify.mail_from = *v;
  if (auto* v = env("DZONG_NOTIFY_SMS_URL")) config.notify.sms_url = *v;
  if (auto* v = env("DZONG_NOTIFY_SMS_TOKEN")) config.notify.sms_token = *v;
  if (auto* v = env("DZONG_NOTIFY_SITE_URL")) config.notify.site_url = *v;
  if (auto* v = env("DZONG_NOTIFY_POLL_SECONDS")) {
    DZONG_TRY(EnvInt("DZONG_NOTIFY_POLL_SECONDS", *v, 0, 3600, config.notify.poll_seconds));
  }
  if (auto* v = env("DZONG_PAYMENTS_SIM_SECRET")) config.payments.sim_secret = *v;
  if (auto* v = env("DZONG_KEY_ENCRYPTION_KEY")) {
    DZONG_ASSIGN_OR_RETURN(config.key_encryption_key, keys::ParseKeyEncryptionKey("DZONG_KEY_ENCRYPTION_KEY", *v));
  }
  if (auto* v = env("DZONG_PKCS11_MODULE")) config.pkcs11.module = *v;
  if (auto* v = env("DZONG_PKCS11_TOKEN")) config.pkcs11.token = *v;
  if (auto* v = env("DZONG_PKCS11_PIN")) config.pkcs11.pin = *v;
  if (!config.pkcs11.module.empty() && (config.pkcs11.token.empty() || config.pkcs11.pin.empty())) {
    return Invalid(config.pkcs11.token.empty() ? "keys.pkcs11_token" : "keys.pkcs11_pin",
                   "must be set when keys.pkcs11_module is: the label of the token that holds the signing key, "
                   "and its user PIN (DZONG_PKCS11_PIN keeps it out of the file)");
  }

  if (config.data_dir.empty()) return Invalid("data_dir", "must not be empty");
  if (config.assets_dir.empty()) return Invalid("server.assets_dir", "must not be empty");
  if (config.audit.archive_dir.empty()) config.audit.archive_dir = config.data_dir + "/audit-archive";
  if (config.database_url.empty()) config.database_url = "sqlite://" + config.data_dir + "/dzong.db";
  if (config.notify.site_url.empty()) {
    const bool v6 = config.server.address.find(':') != std::string::npos;
    config.notify.site_url = fmt::format("http://{}{}{}:{}", v6 ? "[" : "", config.server.address, v6 ? "]" : "",
                                         config.server.port);
  }
  while (config.notify.site_url.ends_with('/')) config.notify.site_url.pop_back();
  DZONG_TRY(CheckNotify(config.notify, env));
  if (Status s = db::ValidateUrl(config.database_url); !s.ok()) {
    return Invalid(env("DZONG_DATABASE_URL") ? "DZONG_DATABASE_URL" : "database.url", s.error().message);
  }
  DZONG_TRY(CheckLevel(env("DZONG_LOG_LEVEL") ? "DZONG_LOG_LEVEL" : "log.level", config.log_level));
  if (!config.operator_token.empty() && config.operator_token.size() < 32) {
    return Invalid(env("DZONG_OPERATOR_TOKEN") ? "DZONG_OPERATOR_TOKEN" : "auth.operator_token",
                   "must be at least 32 characters (use e.g. `openssl rand -hex 32`)");
  }
  return config;
}

}  // namespace dzong
