#pragma once
// The real server, in process, on a fresh database and a free port.

#include <memory>
#include <thread>

#include "base/crypto.h"
#include "main/app.h"
#include "support/http_client.h"
#include "support/test_database.h"

namespace dzong::testing {

inline constexpr char kOperatorToken[] = "test-operator-token-0123456789abcdef";

class TestServer {
 public:
  /// `adjust` may change the configuration before the server starts.
  explicit TestServer(const std::function<void(Config&)>& adjust = {}, bool seed = true) {
    config_.database_url = database_.url();
    config_.server.port = 0;
    config_.server.threads = 4;
    config_.operator_token = kOperatorToken;
    config_.access_log = false;
    config_.fast_password_hashing = true;
    config_.key_encryption_key = RandomBytes(kSealKeyBytes);
    if (adjust) adjust(config_);
    auto app = App::Create(config_, nullptr);
    if (!app.ok()) throw std::runtime_error("App::Create: " + app.error().message);
    app_ = std::move(app).value();
    if (seed) {
      auto seeded = app_->Seed(/*demo=*/true);
      if (!seeded.ok()) throw std::runtime_error("seed: " + seeded.error().message);
    } else {
      auto migrated = app_->Migrate();
      if (!migrated.ok()) throw std::runtime_error("migrate: " + migrated.error().message);
    }
    auto port = app_->Listen();
    if (!port.ok()) throw std::runtime_error("listen: " + port.error().message);
    port_ = *port;
    thread_ = std::thread([this] { app_->Serve(/*signals=*/false); });
  }

  ~TestServer() { Stop(); }

  void Stop() {
    if (thread_.joinable()) {
      app_->Shutdown();
      thread_.join();
    }
  }

  std::uint16_t port() const { return port_; }
  App& app() { return *app_; }
  const Config& config() const { return config_; }
  const TestDatabase& database() const { return database_; }
  std::unique_ptr<HttpClient> Client() const { return std::make_unique<HttpClient>(port_); }

 private:
  TestDatabase database_;
  Config config_;
  std::unique_ptr<App> app_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

/// Authorization header of the platform operator.
inline std::vector<std::pair<std::string, std::string>> Operator() {
  return {{"Authorization", std::string("Bearer ") + kOperatorToken}};
}

}  // namespace dzong::testing
