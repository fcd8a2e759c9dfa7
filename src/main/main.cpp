// dzong: the e-governance platform's one binary.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include "db/database.h"
#include "main/app.h"
#include "base/crypto.h"
#include "base/signing.h"
#include "main/config.h"
#include "main/verify_certificate.h"
#include "modules/audit/audit.h"
#include "modules/exchange/client.h"
#include "modules/exchange/exchange.h"
#include "modules/identity/identity.h"
#include "modules/keys/keys.h"
#include "modules/notify/service.h"
#include "modules/registries/registries.h"
#include <nlohmann/json.hpp>

#include "modules/services/services.h"
#include "modules/workflow/workflow.h"

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitBadConfig = 2;
constexpr int kExitBroken = 3;

/// JSON lines on stdout; access lines are JSON already, other messages are
/// wrapped by the pattern.
std::shared_ptr<spdlog::logger> MakeLogger(const std::string& level) {
  spdlog::init_thread_pool(65536, 1);
  auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  auto logger = std::make_shared<spdlog::async_logger>("dzong", sink, spdlog::thread_pool(),
                                                       spdlog::async_overflow_policy::block);
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::warn);
  return logger;
}


/// Prints what a verification found; 0 when intact, 3 when broken.
int Report(const dzong::Result<dzong::audit::VerifyReport>& report, const char* what) {
  if (!report.ok()) {
    std::fprintf(stderr, "dzong: audit verify: %s\n", report.error().message.c_str());
    return kExitFailure;
  }
  if (report->broken_at) {
    std::printf("%s BROKEN at event %lld: %s\n%s\n", what, static_cast<long long>(*report->broken_at),
                report->kind.c_str(), report->detail.c_str());
    return kExitBroken;
  }
  std::printf("%s intact: %lld events (%lld to %lld), %lld signed checkpoints verified", what,
              static_cast<long long>(report->events), static_cast<long long>(report->first_seq),
              static_cast<long long>(report->last_seq), static_cast<long long>(report->checkpoints));
  if (report->unsigned_tail > 0) {
    std::printf("; the last %lld events await their checkpoint", static_cast<long long>(report->unsigned_tail));
  }
  std::printf("\n");
  return 0;
}

int VerifyCommand(dzong::App& app, const std::string& keys_file, const std::string& export_file) {
  std::optional<std::vector<dzong::PublicKey>> keys;
  if (!keys_file.empty()) {
    std::ifstream in(keys_file);
    if (!in) {
      std::fprintf(stderr, "dzong: audit verify: --keys: cannot read %s\n", keys_file.c_str());
      return kExitFailure;
    }
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = dzong::KeysFromJwks(text.str());
    if (!parsed.ok()) {
      std::fprintf(stderr, "dzong: audit verify: --keys: %s\n", parsed.error().message.c_str());
      return kExitFailure;
    }
    keys = std::move(*parsed);
  }
  const bool terminal = isatty(STDERR_FILENO) != 0;
  const auto progress = [terminal](std::int64_t n) {
    if (terminal) std::fprintf(stderr, "\rchecked %lld events", static_cast<long long>(n));
  };
  int rc = 0;
  if (!export_file.empty()) {
    std::FILE* in = std::fopen(export_file.c_str(), "rb");
    if (!in) {
      std::fprintf(stderr, "dzong: audit verify: --file: cannot read %s\n", export_file.c_str());
      return kExitFailure;
    }
    auto report = dzong::audit::VerifyExport(in, keys, progress);
    std::fclose(in);
    if (terminal) std::fprintf(stderr, "\n");
    rc = Report(report, "export");
  } else {
    if (!keys) {
      auto published = app.Keys().Published();
      if (!published.ok()) {
        std::fprintf(stderr, "dzong: audit verify: %s\n", published.error().message.c_str());
        return kExitFailure;
      }
      keys = std::move(*published);
    }
    auto report = dzong::audit::Verify(app.Database(), *keys, progress);
    if (terminal) std::fprintf(stderr, "\n");
    rc = Report(report, "audit log");
  }
  return rc;
}

/// A sequence number, or a UTC date: its first event (from) or its last (to).
std::optional<std::int64_t> ResolveBound(dzong::App& app, const std::string& text, bool is_end) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) return std::stoll(text);
  int y = 0, m = 0, d = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d", &y, &m, &d) != 3 || text.size() != 10) return std::nullopt;
  using namespace std::chrono;
  const year_month_day day{year{y}, month{static_cast<unsigned>(m)}, std::chrono::day{static_cast<unsigned>(d)}};
  if (!day.ok()) return std::nullopt;
  const auto start = dzong::FormatUtc(time_point_cast<system_clock::duration>(sys_days{day} + days{is_end ? 1 : 0}));
  auto found = is_end ? dzong::audit::LastBefore(app.Database(), start) : dzong::audit::FirstAtOrAfter(app.Database(), start);
  if (!found.ok() || !found->has_value()) return is_end ? 0 : INT64_MAX;
  return **found;
}

int ExportCommand(dzong::App& app, const std::string& from_text, const std::string& to_text, const std::string& output) {
  const auto from = ResolveBound(app, from_text, false);
  const auto to = ResolveBound(app, to_text, true);
  if (!from || !to) {
    std::fprintf(stderr, "dzong: audit export: %s must be a sequence number or a date such as 2026-11-29\n",
                 !from ? "--from" : "--to");
    return kExitBadConfig;
  }
  std::FILE* out = output.empty() ? stdout : std::fopen(output.c_str(), "wb");
  if (!out) {
    std::fprintf(stderr, "dzong: audit export: cannot write %s\n", output.c_str());
    return kExitFailure;
  }
  auto written = dzong::audit::Export(app.Database(), app.Keys(), app.Time(), *from, *to, out);
  if (out != stdout) std::fclose(out);
  if (!written.ok()) {
    std::fprintf(stderr, "dzong: audit export: %s\n", written.error().message.c_str());
    return kExitFailure;
  }
  std::fprintf(stderr, "exported %lld events\n", static_cast<long long>(*written));
  return 0;
}

int ArchiveCommand(dzong::App& app, const std::string& before_text) {
  std::string before;
  if (before_text.empty()) {
    const auto cutoff = app.Time().Now() - std::chrono::days(app.Settings().audit.retention_days);
    before = dzong::FormatUtc(cutoff);
  } else {
    int y = 0, m = 0, d = 0;
    if (std::sscanf(before_text.c_str(), "%4d-%2d-%2d", &y, &m, &d) != 3 || before_text.size() != 10) {
      std::fprintf(stderr, "dzong: audit archive: --before must be a date such as 2026-11-29\n");
      return kExitBadConfig;
    }
    before = before_text + "T00:00:00.000000Z";
  }
  dzong::audit::Actor actor;
  actor.id = "platform-operator";
  actor.role = "operator";
  auto report = dzong::audit::Archive(app.Database(), app.Keys(), app.Time(), before, app.Settings().audit.archive_dir,
                                      actor);
  if (!report.ok()) {
    std::fprintf(stderr, "dzong: audit archive: %s\n", report.error().message.c_str());
    return kExitFailure;
  }
  if (report->events == 0) {
    std::printf("nothing to archive: no events before %s\n", before.c_str());
  } else {
    std::printf("archived %lld events (%lld to %lld) to %s\n", static_cast<long long>(report->events),
                static_cast<long long>(report->first_seq), static_cast<long long>(report->last_seq),
                report->file.c_str());
  }
  return 0;
}

int ImportCommand(dzong::App& app, const std::string& registry, const std::string& file, std::string rejects_file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "dzong: import: cannot read %s\n", file.c_str());
    return kExitFailure;
  }
  std::stringstream text;
  text << in.rdbuf();
  if (rejects_file.empty()) rejects_file = file + ".rejects.csv";
  const bool terminal = isatty(STDERR_FILENO) != 0;
  dzong::audit::Actor actor;
  actor.id = "import";
  actor.role = "operator";
  std::string rejects;
  auto report = app.Registries().Import(registry, text.str(), rejects, actor, [terminal](std::int64_t rows) {
    if (terminal) std::fprintf(stderr, "\rchecked %lld rows", static_cast<long long>(rows));
  });
  if (terminal) std::fprintf(stderr, "\n");
  if (!report.ok()) {
    std::fprintf(stderr, "dzong: import: %s\n", report.error().message.c_str());
    for (const auto& f : report.error().fields) std::fprintf(stderr, "  %s: %s\n", f.field.c_str(), f.message.c_str());
    return kExitFailure;
  }
  if (report->rejected > 0) {
    std::ofstream(rejects_file, std::ios::binary) << rejects;
  }
  std::printf("import %s: %lld rows, %lld imported, %lld unchanged, %lld refused%s%s\n", registry.c_str(),
              static_cast<long long>(report->rows), static_cast<long long>(report->imported),
              static_cast<long long>(report->unchanged), static_cast<long long>(report->rejected), report->rejected > 0 ? "; see " : "",
              report->rejected > 0 ? rejects_file.c_str() : "");
  return report->rejected > 0 ? kExitBroken : 0;
}

/// `dzong services import FILE... [--publish]`: each definition is saved as
/// its service's draft on behalf of its owner (and published with
/// --publish); every problem is printed by path and rule.
int ServicesImportCommand(dzong::App& app, const std::vector<std::string>& files, bool publish) {
  int rc = 0;
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    const nlohmann::json definition = nlohmann::json::parse(text.str(), nullptr, false);
    if (!in || definition.is_discarded()) {
      std::fprintf(stderr, "dzong: services import: %s is not a readable JSON file\n", file.c_str());
      rc = kExitFailure;
      continue;
    }
    dzong::audit::Actor actor;
    actor.id = "platform-operator";
    actor.role = "operator";
    if (definition.is_object() && definition.contains("owner") && definition["owner"].is_string()) {
      actor.organisation = definition["owner"].get<std::string>();
    }
    auto report = [&](const dzong::Error& e) {
      std::fprintf(stderr, "dzong: services import: %s: %s\n", file.c_str(), e.message.c_str());
      for (const auto& f : e.fields) {
        std::fprintf(stderr, "  %s [%s]: %s\n", f.field.empty() ? "(document)" : f.field.c_str(), f.rule.c_str(),
                     f.message.c_str());
      }
      rc = kExitFailure;
    };
    auto draft = app.Services().SaveDraft(definition, actor);
    if (!draft.ok()) {
      report(draft.error());
      continue;
    }
    if (!publish) {
      std::printf("%s: saved as draft version %lld of %s\n", file.c_str(), static_cast<long long>(draft->version),
                  draft->service.c_str());
      continue;
    }
    auto published = app.Services().Publish(draft->service, draft->version, actor);
    if (!published.ok()) {
      report(published.error());
      continue;
    }
    std::printf("%s: published version %lld of %s\n", file.c_str(), static_cast<long long>(published->version),
                published->service.c_str());
  }
  return rc;
}

/// `dzong services export CODE [--version N] [-o FILE]`: the definition as
/// JSON, the published version unless another is named.
int ServicesExportCommand(dzong::App& app, const std::string& code, std::int64_t version, const std::string& output) {
  auto service = app.Services().Get(code);
  if (!service.ok()) {
    std::fprintf(stderr, "dzong: services export: %s\n", service.error().message.c_str());
    return kExitFailure;
  }
  const std::int64_t wanted = version > 0 ? version : service->published_version.value_or(service->latest_version);
  auto found = app.Services().GetVersion(code, wanted);
  if (!found.ok()) {
    std::fprintf(stderr, "dzong: services export: %s\n", found.error().message.c_str());
    return kExitFailure;
  }
  const std::string text = found->definition.dump(2) + "\n";
  if (output.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else if (!(std::ofstream(output, std::ios::binary) << text)) {
    std::fprintf(stderr, "dzong: services export: cannot write %s\n", output.c_str());
    return kExitFailure;
  }
  std::fprintf(stderr, "exported %s version %lld (%s)\n", code.c_str(), static_cast<long long>(wanted),
               found->status.c_str());
  return 0;
}

/// Issues an API token for an account, as the account itself would from
/// its page: for an operator setting up a system or an app.
int TokensIssueCommand(dzong::App& app, const std::string& username, const std::string& scopes, int hours,
                       const std::string& name) {
  auto id = app.Database().ReadValue<std::int64_t>([&](dzong::db::Connection& c) -> dzong::Result<std::int64_t> {
    const dzong::db::Value key[] = {username};
    DZONG_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT id FROM accounts WHERE username = ? AND status = 'active'", key));
    if (rows.empty()) return dzong::Error("identity.account_not_found", "there is no active account " + username);
    return rows[0].Int(0);
  });
  auto token = id.ok() ? app.Identity().CreateToken(*id, name, scopes, std::chrono::hours(hours))
                       : dzong::Result<std::string>(id.error());
  if (!token.ok()) {
    std::fprintf(stderr, "dzong: tokens issue: %s\n", token.error().message.c_str());
    for (const auto& f : token.error().fields) std::fprintf(stderr, "  %s [%s]: %s\n", f.field.c_str(), f.rule.c_str(), f.message.c_str());
    return kExitFailure;
  }
  std::printf("%s\n", token->c_str());
  return 0;
}

int EscalateCommand(dzong::App& app) {
  if (auto loaded = app.LoadWorkingCalendar(); !loaded.ok()) {
    std::fprintf(stderr, "dzong: workflow escalate: %s\n", loaded.error().message.c_str());
    return kExitFailure;
  }
  dzong::audit::Actor actor;
  actor.id = "workflow";
  actor.role = "system";
  auto changed = app.Workflow().Escalate(actor);
  if (!changed.ok()) {
    std::fprintf(stderr, "dzong: workflow escalate: %s\n", changed.error().message.c_str());
    return kExitFailure;
  }
  std::printf("%d applications escalated\n", *changed);
  return 0;
}

int KeysCommand(dzong::App& app, const std::string& action, const std::string& kid) {
  dzong::audit::Actor actor;
  actor.id = "platform-operator";
  actor.role = "operator";
  if (action == "rotate") {
    auto key = app.Keys().Rotate(actor);
    if (!key.ok()) {
      std::fprintf(stderr, "dzong: keys rotate: %s\n", key.error().message.c_str());
      return kExitFailure;
    }
    std::printf("new active key %s\n", key->kid.c_str());
    return 0;
  }
  if (action == "retire") {
    auto key = app.Keys().Retire(kid, actor);
    if (!key.ok()) {
      std::fprintf(stderr, "dzong: keys retire: %s\n", key.error().message.c_str());
      return kExitFailure;
    }
    std::printf("retired %s at %s\n", key->kid.c_str(), key->retired_at.value_or("").c_str());
    return 0;
  }
  auto keys = app.Keys().Published();
  if (!keys.ok()) {
    std::fprintf(stderr, "dzong: keys list: %s\n", keys.error().message.c_str());
    return kExitFailure;
  }
  for (const auto& key : *keys) {
    std::printf("%s  %-8s  created %s%s%s\n", key.kid.c_str(), key.status.c_str(), key.created_at.c_str(),
                key.retired_at ? "  retired " : "", key.retired_at.value_or("").c_str());
  }
  return 0;
}

/// `dzong notify send-due`: one round of the sender, as the server's thread
/// runs it; 2 when neither a mail server nor an SMS gateway is configured.
int SendDueCommand(dzong::App& app) {
  const dzong::notify::Settings& settings = app.Notifications().settings();
  if (!settings.Mail() && !settings.Sms()) {
    std::fprintf(stderr,
                 "dzong: notify send-due: neither a mail server (notify.smtp_host) nor an SMS gateway "
                 "(notify.sms_url) is configured: notices stay pending\n");
    return kExitBadConfig;
  }
  auto report = app.Notifications().SendDue(app.Time().Now());
  if (!report.ok()) {
    std::fprintf(stderr, "dzong: notify send-due: %s\n", report.error().message.c_str());
    return kExitFailure;
  }
  std::printf("notices taken up: %d; delivered: %d; to try again: %d; failed for good: %d\n", report->notices,
              report->sent, report->retry, report->failed);
  return 0;
}

/// What `dzong exchange get` needs, from its options.
struct ExchangeGetOptions {
  dzong::exchange::ReadRequest request;
  std::string key_file;
  std::string keys_file;
};

/// Signs and sends one exchange read; the answer's body goes to standard
/// output, what the check of its signature found to standard error. 0 for a
/// valid signed answer, 3 for a refusal, 4 for an answer whose signature
/// does not hold.
int ExchangeGetCommand(ExchangeGetOptions options) {
  std::ifstream key_in(options.key_file, std::ios::binary);
  if (!key_in) {
    std::fprintf(stderr, "dzong: exchange get: cannot read the key file %s\n", options.key_file.c_str());
    return kExitFailure;
  }
  std::stringstream key_text;
  key_text << key_in.rdbuf();
  auto key = dzong::exchange::ParseKeyFile(key_text.str());
  if (!key.ok()) {
    std::fprintf(stderr, "dzong: exchange get: %s: %s\n", options.key_file.c_str(), key.error().message.c_str());
    return kExitFailure;
  }
  options.request.key = *key;
  if (!options.keys_file.empty()) {
    std::ifstream keys_in(options.keys_file, std::ios::binary);
    std::stringstream jwks;
    jwks << keys_in.rdbuf();
    auto keys = dzong::KeysFromJwks(jwks.str());
    if (!keys_in || !keys.ok()) {
      std::fprintf(stderr, "dzong: exchange get: %s is not a saved copy of /.well-known/dzong-keys.json\n",
                   options.keys_file.c_str());
      return kExitFailure;
    }
    options.request.platform_keys = *keys;
  }
  auto answer = dzong::exchange::Read(options.request);
  if (!answer.ok()) {
    std::fprintf(stderr, "dzong: exchange get: %s\n", answer.error().message.c_str());
    return kExitFailure;
  }
  std::fwrite(answer->body.data(), 1, answer->body.size(), stdout);
  std::fputc('\n', stdout);
  if (answer->status != 200) {
    std::fprintf(stderr, "refused (%d %s): %s\n", answer->status, answer->error_code.c_str(), answer->message.c_str());
    return kExitBroken;
  }
  const char* found = "bad signature";
  switch (answer->signature.value_or(dzong::SignatureCheck::kBadSignature)) {
    case dzong::SignatureCheck::kValid: found = "valid"; break;
    case dzong::SignatureCheck::kUnknownKey: found = "signed with a key the platform does not publish"; break;
    case dzong::SignatureCheck::kOutsideKeyPeriod: found = "signed outside its key's period"; break;
    case dzong::SignatureCheck::kBadSignature: break;
  }
  const bool valid = answer->signature == dzong::SignatureCheck::kValid && answer->digest_matches;
  std::fprintf(stderr, "answer signed by %s: %s%s\n", answer->signed_by.c_str(), found,
               answer->digest_matches ? "" : "; its Content-Digest does not match the body");
  return valid ? 0 : 4;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"Dzong: the e-governance platform. One server for citizens' services, registries, exchange and audit."};
  cli.set_version_flag("--version", std::string("dzong ") + DZONG_VERSION);
  std::string config_file;
  if (const char* from_env = std::getenv("DZONG_CONFIG")) config_file = from_env;
  cli.add_option("-c,--config", config_file, "TOML settings file (or DZONG_CONFIG)");
  cli.require_subcommand(1);
  auto* serve = cli.add_subcommand("serve", "serve the web pages and the API until SIGTERM or SIGINT");
  auto* migrate = cli.add_subcommand("migrate", "apply database migrations that have not been applied");
  auto* seed = cli.add_subcommand("seed", "migrate, then add the reference data that is missing");
  bool demo = false;
  seed->add_flag("--demo", demo, "also add the demo accounts listed in the README");
  std::int64_t population = 0;
  std::uint64_t population_seed = 1;
  seed->add_option("--population", population, "also generate this many people in the population register")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{20'000'000}));
  seed->add_option("--population-seed", population_seed, "the generator's seed: the same seed, the same people");
  auto* audit_cmd = cli.add_subcommand("audit", "the tamper-evident audit log");
  audit_cmd->require_subcommand(1);
  auto* verify = audit_cmd->add_subcommand(
      "verify", "recompute the hash chain, check every signed checkpoint, and report the first break");
  std::string keys_file, export_file;
  verify->add_option("--keys", keys_file, "check signatures against this saved copy of /.well-known/dzong-keys.json");
  verify->add_option("--file", export_file, "verify an export file instead of the database");
  auto* export_cmd = audit_cmd->add_subcommand("export", "write events as newline-delimited JSON with their checkpoints");
  std::string from_text, to_text, output;
  export_cmd->add_option("--from", from_text, "first event: a sequence number, or a UTC date (YYYY-MM-DD)")->required();
  export_cmd->add_option("--to", to_text, "last event: a sequence number, or a UTC date (YYYY-MM-DD), inclusive")->required();
  export_cmd->add_option("-o,--output", output, "file to write (default: standard output)");
  auto* archive_cmd = audit_cmd->add_subcommand(
      "archive", "move events older than the retention period to an export file under the archive directory");
  std::string before_text;
  archive_cmd->add_option("--before", before_text, "archive events before this UTC date (YYYY-MM-DD) instead");
  auto* checkpoint_cmd = audit_cmd->add_subcommand("checkpoint", "sign a checkpoint of the chain's head now");
  auto* import_cmd = cli.add_subcommand("import", "import a registry's records from CSV (stewards' bulk load)");
  std::string import_registry, import_file, rejects_file;
  import_cmd->add_option("registry", import_registry, "the registry's code, e.g. population")->required();
  import_cmd->add_option("file", import_file, "CSV with a header row of the registry's field names")->required();
  import_cmd->add_option("--rejects", rejects_file, "where refused rows go (default: <file>.rejects.csv)");
  auto* export_records = cli.add_subcommand("export", "export a registry's current records");
  std::string export_registry, export_format = "csv", export_output;
  export_records->add_option("registry", export_registry, "the registry's code")->required();
  export_records->add_option("--format", export_format, "csv or ndjson")->check(CLI::IsMember({"csv", "ndjson"}));
  export_records->add_option("-o,--output", export_output, "file to write (default: standard output)");
  auto* keys_cmd = cli.add_subcommand("keys", "the platform's signing keys");
  keys_cmd->require_subcommand(1);
  auto* keys_list = keys_cmd->add_subcommand("list", "list every key and its period");
  auto* keys_rotate = keys_cmd->add_subcommand("rotate", "make a new active key; the old one stays published");
  auto* keys_retire = keys_cmd->add_subcommand("retire", "end a replaced key's period");
  std::string retire_kid;
  keys_retire->add_option("kid", retire_kid, "the key id")->required();
  auto* exchange_cmd = cli.add_subcommand("exchange", "the exchange between agencies, as an agency's system uses it");
  exchange_cmd->require_subcommand(1);
  auto* keygen = exchange_cmd->add_subcommand("keygen", "make a system's key file; prints the public key to register");
  std::string keygen_output;
  keygen->add_option("-o,--output", keygen_output, "the key file to write (created with mode 0600)")->required();
  auto* get = exchange_cmd->add_subcommand("get", "sign and send a read of one record, and check the signed answer");
  ExchangeGetOptions get_options;
  get->add_option("registry", get_options.request.registry, "the registry's code, e.g. population")->required();
  get->add_option("key", get_options.request.record_key, "the record's key, e.g. a CID")->required();
  get->add_option("--server", get_options.request.server, "the platform, e.g. http://127.0.0.1:8080")->required();
  get->add_option("--client", get_options.request.client, "the system's registered name, BT/GOV/<ORG>/<SUBSYSTEM>")
      ->required();
  get->add_option("--key-file", get_options.key_file, "the system's key file (dzong exchange keygen)")->required();
  get->add_option("--purpose", get_options.request.purpose, "the agreement's purpose code")->required();
  get->add_option("--issue", get_options.request.issue, "the case or application number the read is for");
  get->add_option("--keys", get_options.keys_file,
                  "check the answer against this saved copy of /.well-known/dzong-keys.json (default: fetch it)");
  auto* verify_log = exchange_cmd->add_subcommand("verify-log", "recompute the message log's hash chain");
  auto* tokens_cmd = cli.add_subcommand("tokens", "API tokens of accounts");
  tokens_cmd->require_subcommand(1);
  auto* tokens_issue = tokens_cmd->add_subcommand("issue", "issue an API token for an account; prints it once");
  std::string token_user;
  std::string token_scopes = "account.self";
  std::string token_name = "issued by the operator";
  int token_hours = 24;
  tokens_issue->add_option("username", token_user, "the account's username (a citizen's CID)")->required();
  tokens_issue->add_option("--scopes", token_scopes, "permissions the token carries, space-separated; the account must hold them");
  tokens_issue->add_option("--hours", token_hours, "how long it is valid")->check(CLI::Range(1, 24 * 365));
  tokens_issue->add_option("--name", token_name, "what the token is for");
  auto* workflow_cmd = cli.add_subcommand("workflow", "applications and their workflow");
  workflow_cmd->require_subcommand(1);
  auto* escalate = workflow_cmd->add_subcommand("escalate", "mark applications due soon or overdue and tell their officers (the server does it every few minutes)");
  auto* services_cmd = cli.add_subcommand("services", "service definitions as JSON (docs/schemas/service-definition.schema.json)");
  services_cmd->require_subcommand(1);
  auto* services_import = services_cmd->add_subcommand("import", "save definitions as drafts of their services");
  std::vector<std::string> services_files;
  bool services_publish = false;
  services_import->add_option("files", services_files, "definition files (JSON)")->required();
  services_import->add_flag("--publish", services_publish, "publish each draft (validation and the once-only lint must pass)");
  auto* services_export = services_cmd->add_subcommand("export", "write a service's definition as JSON");
  std::string services_code, services_output;
  std::int64_t services_version = 0;
  services_export->add_option("code", services_code, "the service's code, e.g. birth-registration")->required();
  services_export->add_option("--version", services_version, "a version number (default: the published one)");
  services_export->add_option("-o,--output", services_output, "file to write (default: standard output)");
  auto* notify_cmd = cli.add_subcommand("notify", "notices to people by email and SMS");
  notify_cmd->require_subcommand(1);
  auto* send_due = notify_cmd->add_subcommand(
      "send-due", "deliver the notices that are due once, by the mail server and SMS gateway configured, and exit");
  auto* verify_certificate = cli.add_subcommand(
      "verify", "check a certificate offline, from its PDF or the text of its QR code, against saved published keys");
  dzong::VerifyCertificateOptions certificate_check;
  verify_certificate->add_option("certificate", certificate_check.input, "the certificate's PDF, or its signed payload (DZ1.…)")
      ->required();
  verify_certificate->add_option("--keys", certificate_check.keys_file, "a saved copy of /.well-known/dzong-keys.json")
      ->required();
  verify_certificate->add_option("--status-list", certificate_check.status_file,
                                 "a saved copy of the status list (/status/1) to check revocation against");
  verify_certificate->add_option("--at", certificate_check.at, "check expiry at this UTC time instead of now");
  CLI11_PARSE(cli, argc, argv);

  // The client side needs no database and no settings.
  if (*keygen) {
    const std::string text = dzong::exchange::NewKeyFile();
    const int fd = ::open(keygen_output.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      std::fprintf(stderr, "dzong: exchange keygen: cannot create %s (it must not exist yet)\n", keygen_output.c_str());
      if (fd >= 0) ::close(fd);
      return kExitFailure;
    }
    ::close(fd);
    std::printf("%s\n", dzong::Base64Encode(dzong::exchange::ParseKeyFile(text)->PublicKey()).c_str());
    return 0;
  }
  if (*get) return ExchangeGetCommand(std::move(get_options));
  if (*verify_certificate) return dzong::VerifyCertificateCommand(certificate_check);

  auto config = dzong::LoadConfig(config_file, dzong::ProcessEnvironment());
  if (!config.ok()) {
    std::fprintf(stderr, "dzong: configuration error: %s\n", config.error().message.c_str());
    return kExitBadConfig;
  }
  auto log = MakeLogger(config->log_level);
  auto app = dzong::App::Create(*config, log);
  if (!app.ok()) {
    std::fprintf(stderr, "dzong: %s\n", app.error().message.c_str());
    return kExitFailure;
  }
  int rc = 0;
  if (*migrate) {
    auto report = (*app)->Migrate();
    if (!report.ok()) {
      std::fprintf(stderr, "dzong: migrate: %s\n", report.error().message.c_str());
      rc = kExitFailure;
    } else {
      for (const auto& name : report->applied) std::printf("applied %s\n", name.c_str());
      std::printf("migrations: %zu applied now, %zu already applied\n", report->applied.size(),
                  report->already_applied);
    }
  } else if (*seed) {
    auto report = (*app)->Seed(demo, population, population_seed);
    if (!report.ok()) {
      std::fprintf(stderr, "dzong: seed: %s\n", report.error().message.c_str());
      rc = kExitFailure;
    } else {
      std::printf("seed: %s\n", report->c_str());
    }
  } else if (*verify) {
    rc = VerifyCommand(**app, keys_file, export_file);
  } else if (*export_cmd) {
    rc = ExportCommand(**app, from_text, to_text, output);
  } else if (*archive_cmd) {
    rc = ArchiveCommand(**app, before_text);
  } else if (*checkpoint_cmd) {
    auto cp = dzong::audit::SignCheckpoint((*app)->Database(), (*app)->Keys(), (*app)->Time(), std::nullopt, "requested");
    if (!cp.ok()) {
      std::fprintf(stderr, "dzong: audit checkpoint: %s\n", cp.error().message.c_str());
      rc = kExitFailure;
    } else {
      std::printf("checkpoint at event %lld signed with key %s\n", static_cast<long long>(cp->seq),
                  cp->signature.kid.c_str());
    }
  } else if (*import_cmd) {
    rc = ImportCommand(**app, import_registry, import_file, rejects_file);
  } else if (*export_records) {
    std::FILE* out = export_output.empty() ? stdout : std::fopen(export_output.c_str(), "wb");
    if (!out) {
      std::fprintf(stderr, "dzong: export: cannot write %s\n", export_output.c_str());
      rc = kExitFailure;
    } else {
      auto written = (*app)->Registries().Export(export_registry, export_format, out);
      if (out != stdout) std::fclose(out);
      if (!written.ok()) {
        std::fprintf(stderr, "dzong: export: %s\n", written.error().message.c_str());
        rc = kExitFailure;
      } else {
        std::fprintf(stderr, "exported %lld records\n", static_cast<long long>(*written));
      }
    }
  } else if (*verify_log) {
    auto report = dzong::exchange::VerifyMessageLog((*app)->Database());
    if (!report.ok()) {
      std::fprintf(stderr, "dzong: exchange verify-log: %s\n", report.error().message.c_str());
      rc = kExitFailure;
    } else if (report->broken_at) {
      std::printf("message log BROKEN at message %lld: %s\n", static_cast<long long>(*report->broken_at),
                  report->detail.c_str());
      rc = kExitBroken;
    } else {
      std::printf("message log intact: %lld messages\n", static_cast<long long>(report->messages));
    }
  } else if (*services_import) {
    auto migrated = (*app)->Migrate();
    rc = migrated.ok() ? ServicesImportCommand(**app, services_files, services_publish) : kExitFailure;
  } else if (*services_export) {
    rc = ServicesExportCommand(**app, services_code, services_version, services_output);
  } else if (*tokens_issue) {
    rc = TokensIssueCommand(**app, token_user, token_scopes, token_hours, token_name);
  } else if (*escalate) {
    rc = EscalateCommand(**app);
  } else if (*send_due) {
    rc = SendDueCommand(**app);
  } else if (*keys_list || *keys_rotate || *keys_retire) {
    rc = KeysCommand(**app, *keys_rotate ? "rotate" : *keys_retire ? "retire" : "list", retire_kid);
  } else if (*serve) {
    auto port = (*app)->Listen();
    if (!port.ok()) {
      std::fprintf(stderr, "dzong: %s\n", port.error().message.c_str());
      rc = port.error().code == "config.invalid" ? kExitBadConfig : kExitFailure;
    } else {
      log->warn(R"({{"type":"event","event":"server.started","address":"{}","port":{},"threads":{},"database":"{}"}})",
                config->server.address, *port, config->server.threads,
                config->database_url.starts_with("sqlite") ? "sqlite" : "postgresql");
      (*app)->Serve(/*signals=*/true);
      log->warn(R"({"type":"event","event":"server.stopped"})");
    }
  }
  app->reset();
  log->flush();
  spdlog::shutdown();
  return rc;
}
