// Nothing acknowledged is lost: 64 citizens' apps submit applications at
// once to the real server process, which is killed with SIGKILL in the
// middle. After a restart, every submission that got a reference exists
// with its notice in the outbox, and none exists twice, even when the
// apps retry with their idempotency keys.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "main/app.h"
#include "modules/identity/identity.h"
#include "modules/registries/registries.h"
#include "support/http_client.h"
#include "support/test_database.h"

namespace dzong::testing {
namespace {

using nlohmann::json;

constexpr char kCitizen[] = "11410012345";

std::uint16_t FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string Hex(const std::string& bytes) {
  std::string out;
  for (unsigned char ch : bytes) out += fmt::format("{:02x}", ch);
  return out;
}

class CrashTest : public ::testing::Test {
 protected:
  CrashTest() : data_dir_(std::filesystem::temp_directory_path() / ("dzong-crash-" + RandomHex(6))) {
    std::filesystem::create_directories(data_dir_);
    config_.database_url = database_.url();
    config_.data_dir = data_dir_.string();
    config_.fast_password_hashing = true;
    config_.access_log = false;
    config_.key_encryption_key = RandomBytes(kSealKeyBytes);
  }
  ~CrashTest() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
  }

  std::unique_ptr<App> Open() {
    auto app = App::Create(config_, nullptr);
    if (!app.ok()) throw std::runtime_error(app.error().message);
    return std::move(app).value();
  }

  /// The server as an operator runs it: its own process.
  void Serve() {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setenv("DZONG_DATABASE_URL", config_.database_url.c_str(), 1);
      ::setenv("DZONG_DATA_DIR", config_.data_dir.c_str(), 1);
      ::setenv("DZONG_LISTEN", fmt::format("127.0.0.1:{}", port_).c_str(), 1);
      ::setenv("DZONG_KEY_ENCRYPTION_KEY", Hex(config_.key_encryption_key).c_str(), 1);
      ::setenv("DZONG_LOG_LEVEL", "error", 1);
      const std::string log = (data_dir_ / "serve.log").string();
      if (std::freopen(log.c_str(), "a", stdout) == nullptr || std::freopen(log.c_str(), "a", stderr) == nullptr) _exit(126);
      ::execl(DZONG_BINARY, DZONG_BINARY, "serve", static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 300; ++i) {
      try {
        HttpClient client(port_);
        if (client.Get("/readyz").status == 200) return;
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "the server did not start";
  }

  HttpResponse Submit(const std::string& key) {
    static const std::string body = json{{"consent", false},
                                         {"answers",
                                          {{"given_name", "Sonam"},
                                           {"surname", "Choden"},
                                           {"date_of_birth", "1990-04-12"},
                                           {"dzongkhag", "Thimphu"},
                                           {"gewog", "Chang"},
                                           {"village", "Motithang"},
                                           {"household_number", "TH-0412"},
                                           {"clearance_type", "general"}}}}
                                        .dump();
    HttpClient client(port_);
    return client.Send("POST", "/api/v1/services/security-clearance/applications", body,
                       {{"Authorization", "Bearer " + token_},
                        {"Content-Type", "application/json"},
                        {"Idempotency-Key", key}});
  }

  std::filesystem::path data_dir_;
  TestDatabase database_;
  Config config_;
  std::uint16_t port_ = FreePort();
  pid_t pid_ = -1;
  std::string token_;
};

TEST_F(CrashTest, EverySubmissionThatGotAReferenceSurvivesSigkillOnceWithItsNotice) {
  {
    auto app = Open();
    ASSERT_TRUE(app->Seed(/*demo=*/true).ok());
    audit::Actor seeder;
    seeder.id = "seed";
    ASSERT_TRUE(app->Registries().SeedPopulation(20, 3, true, seeder).ok());
    auto id = app->Database().ReadValue<std::int64_t>([](db::Connection& c) -> Result<std::int64_t> {
      const db::Value key[] = {std::string(kCitizen)};
      DZONG_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT id FROM accounts WHERE username = ?", key));
      return rows.at(0).Int(0);
    });
    ASSERT_TRUE(id.ok());
    auto token = app->Identity().CreateToken(*id, "citizen app", "account.self", std::chrono::hours(1));
    ASSERT_TRUE(token.ok()) << token.error().message;
    token_ = *token;
  }
  Serve();
  ASSERT_GT(pid_, 0);

  // 64 apps submit until the server is gone; each remembers what it was told.
  std::mutex mutex;
  std::map<std::string, std::string> acknowledged;  // key → reference
  std::vector<std::string> sent;
  std::atomic<bool> killed = false;
  std::vector<std::thread> apps;
  for (int a = 0; a < 64; ++a) {
    apps.emplace_back([&, a] {
      for (int i = 0; i < 1000 && !killed; ++i) {
        const std::string key = fmt::format("crash-{}-{}", a, i);
        {
          std::lock_guard lock(mutex);
          sent.push_back(key);
        }
        try {
          auto r = Submit(key);
          if (r.status == 201) {
            std::lock_guard lock(mutex);
            acknowledged[key] = json::parse(r.body)["reference"];
          }
        } catch (const std::exception&) {
          return;  // the server is gone
        }
      }
    });
  }
  // Kill once a good number have been acknowledged.
  for (int i = 0; i < 600; ++i) {
    {
      std::lock_guard lock(mutex);
      if (acknowledged.size() >= 150) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  killed = true;
  for (auto& t : apps) t.join();
  ASSERT_GT(acknowledged.size(), 0u);

  // Restarted: each acknowledged reference is there once, with its notice.
  Serve();
  auto app = Open();
  const auto count = [&](const std::string& sql, std::vector<db::Value> params) {
    return app->Database()
        .ReadValue<std::int64_t>([&](db::Connection& c) -> Result<std::int64_t> {
          DZONG_ASSIGN_OR_RETURN(auto rows, c.Query(sql, params));
          return rows.at(0).Int(0);
        })
        .value();
  };
  std::size_t missing = 0;
  std::size_t without_notice = 0;
  for (const auto& [key, reference] : acknowledged) {
    if (count("SELECT COUNT(*) FROM applications a JOIN application_requests r ON r.application_id = a.id WHERE "
              "a.reference = ? AND r.idempotency_key = ?",
              {reference, key}) != 1) {
      ++missing;
    }
    if (count("SELECT COUNT(*) FROM notification_outbox WHERE template = 'application.submitted' AND payload LIKE ?",
              {"%\"" + reference + "\"%"}) != 1) {
      ++without_notice;
    }
  }
  EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged";
  EXPECT_EQ(without_notice, 0u);
  // The apps retry everything they sent: nothing is made twice, the
  // acknowledged get their reference again.
  const std::int64_t before = count("SELECT COUNT(*) FROM applications", {});
  EXPECT_EQ(before, count("SELECT COUNT(*) FROM application_requests", {}));
  std::size_t retried_made = 0;
  for (const std::string& key : sent) {
    auto r = Submit(key);
    ASSERT_EQ(r.status, 201) << r.body;
    const std::string reference = json::parse(r.body)["reference"];
    const auto acked = acknowledged.find(key);
    if (acked != acknowledged.end()) {
      EXPECT_EQ(reference, acked->second);
    } else {
      ++retried_made;
    }
  }
  const std::int64_t after = count("SELECT COUNT(*) FROM applications", {});
  EXPECT_EQ(after, static_cast<std::int64_t>(sent.size()));
  EXPECT_EQ(count("SELECT COUNT(DISTINCT reference) FROM applications", {}), after);
  EXPECT_EQ(count("SELECT COUNT(*) FROM notification_outbox WHERE template = 'application.submitted'", {}), after);
  std::printf("  %zu sent, %zu acknowledged before SIGKILL, %lld made in all; after restart %zu missing\n", sent.size(),
              acknowledged.size(), static_cast<long long>(before), missing);
}

}  // namespace
}  // namespace dzong::testing
