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
};

/// Reads settings. `file` may be empty (defaults and environment only).
/// `environment` is passed in so that tests do not touch the process's.
/// Errors: config.invalid, with a message "<key>: <problem>".
Result<Config> LoadConfig(const std::string& file, const std::map<std::string, std::string>& environment);

/// The DZONG_* variables of this process.
std::map<std::string, std::string> ProcessEnvironment();

}  // namespace dzong
