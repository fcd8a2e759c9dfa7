#include "main/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace dzong {
namespace {

std::string WriteFile(const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("dzong-config-" + std::to_string(::getpid()) + ".toml");
  std::ofstream(path) << text;
  return path.string();
}

TEST(ConfigTest, DefaultsServeSqliteUnderVar) {
  auto c = LoadConfig("", {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->database_url, "sqlite://./var/dzong.db");
  EXPECT_EQ(c->server.address, "127.0.0.1");
  EXPECT_EQ(c->server.port, 8080);
  EXPECT_EQ(c->log_level, "info");
}

TEST(ConfigTest, EnvironmentOverridesTheFile) {
  const auto file = WriteFile("data_dir = \"/srv/dzong\"\n[server]\nlisten = \"0.0.0.0:9000\"\n[log]\nlevel = \"warn\"\n");
  auto c = LoadConfig(file, {{"DZONG_LISTEN", "127.0.0.1:7000"}, {"DZONG_LOG_LEVEL", "debug"}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->data_dir, "/srv/dzong");
  EXPECT_EQ(c->database_url, "sqlite:///srv/dzong/dzong.db");
  EXPECT_EQ(c->server.port, 7000);
  EXPECT_EQ(c->log_level, "debug");
  auto d = LoadConfig(file, {{"DZONG_DATABASE_URL", "postgresql://db.example/dzong"}, {"DZONG_DATA_DIR", "/tmp/x"}});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->database_url, "postgresql://db.example/dzong");
  EXPECT_EQ(d->data_dir, "/tmp/x");
  std::remove(file.c_str());
}

TEST(ConfigTest, DraftsLiveThirtyDaysUnlessSetInDays) {
  auto defaults = LoadConfig("", {});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->forms.draft_lifetime, std::chrono::hours(24 * 30));
  const auto file = WriteFile("[forms]\ndraft_lifetime_days = 7\n");
  auto c = LoadConfig(file, {});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->forms.draft_lifetime, std::chrono::hours(24 * 7));
  auto e = LoadConfig(file, {{"DZONG_DRAFT_LIFETIME_DAYS", "3"}});
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->forms.draft_lifetime, std::chrono::hours(24 * 3));
  auto bad = LoadConfig(file, {{"DZONG_DRAFT_LIFETIME_DAYS", "0"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("DZONG_DRAFT_LIFETIME_DAYS"), std::string::npos);
  const auto wrong = WriteFile("[forms]\ndraft_lifetime_days = 400\n");
  auto too_long = LoadConfig(wrong, {});
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.error().message.find("forms.draft_lifetime_days"), std::string::npos) << too_long.error().message;
  std::remove(file.c_str());
}

TEST(ConfigTest, EveryProblemNamesItsKey) {
  const auto message = [](const std::string& file, std::map<std::string, std::string> env) {
    auto c = LoadConfig(file, env);
    EXPECT_FALSE(c.ok());
    return c.ok() ? std::string() : c.error().message;
  };
  EXPECT_EQ(message("", {{"DZONG_DATABASE_URL", "mysql://x"}}).rfind("DZONG_DATABASE_URL: must start with", 0), 0U);
  EXPECT_EQ(message("", {{"DZONG_LISTEN", "8080"}}).rfind("DZONG_LISTEN: expected host:port", 0), 0U);
  EXPECT_EQ(message("", {{"DZONG_LISTEN", "127.0.0.1:99999"}}).rfind("DZONG_LISTEN: port must be", 0), 0U);
  EXPECT_EQ(message("", {{"DZONG_LOG_LEVEL", "loud"}}).rfind("DZONG_LOG_LEVEL: must be one of", 0), 0U);
  EXPECT_EQ(message("", {{"DZONG_OPERATOR_TOKEN", "short"}}).rfind("DZONG_OPERATOR_TOKEN: must be at least", 0), 0U);

  const auto typo = WriteFile("[server]\nlisten = \"127.0.0.1:1\"\nthreds = 4\n");
  EXPECT_EQ(message(typo, {}), "server.threds: unknown setting");
  const auto type = WriteFile("[database]\npool_size = \"many\"\n");
  EXPECT_EQ(message(type, {}), "database.pool_size: must be a whole number");
  const auto range = WriteFile("[server]\nbody_limit_bytes = 10\n");
  EXPECT_EQ(message(range, {}).rfind("server.body_limit_bytes: must be between", 0), 0U);
  const auto broken = WriteFile("[server\n");
  EXPECT_NE(message(broken, {}).find(":1:"), std::string::npos);
  std::remove(broken.c_str());
}

}  // namespace
}  // namespace dzong
