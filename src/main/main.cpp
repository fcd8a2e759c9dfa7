// dzong: the e-governance platform's one binary.
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include "db/database.h"
#include "main/app.h"
#include "modules/audit/audit.h"
#include "main/config.h"

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitBadConfig = 2;

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
  auto* audit_cmd = cli.add_subcommand("audit", "the tamper-evident audit log");
  audit_cmd->require_subcommand(1);
  auto* verify = audit_cmd->add_subcommand("verify", "recompute the hash chain and report the first break");
  CLI11_PARSE(cli, argc, argv);

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
    auto report = (*app)->Seed(demo);
    if (!report.ok()) {
      std::fprintf(stderr, "dzong: seed: %s\n", report.error().message.c_str());
      rc = kExitFailure;
    } else {
      std::printf("seed: %s\n", report->c_str());
    }
  } else if (*verify) {
    const bool terminal = isatty(STDERR_FILENO) != 0;
    auto report = dzong::audit::Verify((*app)->Database(), [terminal](std::int64_t n) {
      if (terminal) std::fprintf(stderr, "\rchecked %lld events", static_cast<long long>(n));
    });
    if (terminal) std::fprintf(stderr, "\n");
    if (!report.ok()) {
      std::fprintf(stderr, "dzong: audit verify: %s\n", report.error().message.c_str());
      rc = kExitFailure;
    } else if (report->broken_at) {
      std::printf("audit log BROKEN at event %lld: %s\n", static_cast<long long>(*report->broken_at),
                  report->kind.c_str());
      rc = 3;
    } else {
      std::printf("audit log intact: %lld events\n", static_cast<long long>(report->events));
    }
  } else if (*serve) {
    auto port = (*app)->Listen();
    if (!port.ok()) {
      std::fprintf(stderr, "dzong: %s\n", port.error().message.c_str());
      rc = kExitFailure;
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
