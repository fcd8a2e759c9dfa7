// The database layer on the engine under test: values, errors, rollback,
// group commit and migrations.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <fmt/format.h>

#include "base/clock.h"
#include "db/database.h"
#include "db/migrate.h"
#include "support/test_database.h"

namespace dzong::testing {
namespace {

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = db::Open({database_.url(), 4, 64});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    db_ = std::move(opened).value();
    ASSERT_TRUE(db_->Write([](db::Connection& c) {
                     return c.Script("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, "
                                     "score REAL, UNIQUE (body))");
                   }).ok());
  }

  std::int64_t Count() {
    return db_->ReadValue<std::int64_t>([](db::Connection& c) -> Result<std::int64_t> {
                DZONG_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT COUNT(*) FROM notes"));
                return rows.at(0).Int(0);
              })
        .value();
  }

  TestDatabase database_;
  std::unique_ptr<db::Database> db_;
  SystemClock clock_;
};

TEST_F(DatabaseTest, ValuesRoundTrip) {
  ASSERT_TRUE(db_->Write([](db::Connection& c) -> Status {
                   const db::Value a[] = {std::int64_t{1}, std::string("ཐིམ་ཕུག 'quoted' ?"), 2.5};
                   DZONG_TRY(c.Execute("INSERT INTO notes (id, body, score) VALUES (?, ?, ?)", a));
                   const db::Value b[] = {std::int64_t{2}, std::string("no score"), nullptr};
                   DZONG_TRY(c.Execute("INSERT INTO notes (id, body, score) VALUES (?, ?, ?)", b));
                   return {};
                 }).ok());
  auto rows = db_->ReadValue<db::Rows>([](db::Connection& c) {
    return c.Query("SELECT id, body, score FROM notes WHERE body <> '?' ORDER BY id");
  });
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 2U);
  EXPECT_EQ((*rows)[0].Int(0), 1);
  EXPECT_EQ((*rows)[0].Text(1), "ཐིམ་ཕུག 'quoted' ?");
  EXPECT_DOUBLE_EQ((*rows)[0].Real(2), 2.5);
  EXPECT_TRUE((*rows)[1].IsNull(2));
}

TEST_F(DatabaseTest, ConstraintViolationIsAnErrorValueAndRollsBack) {
  const db::Value one[] = {std::string("same")};
  ASSERT_TRUE(db_->Write([&](db::Connection& c) -> Status {
                   DZONG_TRY(c.Execute("INSERT INTO notes (body) VALUES (?)", one));
                   return {};
                 }).ok());
  Status s = db_->Write([&](db::Connection& c) -> Status {
    const db::Value other[] = {std::string("other")};
    DZONG_TRY(c.Execute("INSERT INTO notes (body) VALUES (?)", other));
    DZONG_TRY(c.Execute("INSERT INTO notes (body) VALUES (?)", one));  // duplicate
    return {};
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "db.constraint");
  EXPECT_EQ(Count(), 1);  // "other" was rolled back with its transaction
}

TEST_F(DatabaseTest, AFailingWriteDoesNotTakeOthersWithIt) {
  constexpr int kWriters = 16;
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 20; ++k) {
        Status s = db_->Write([&](db::Connection& c) -> Status {
          const db::Value v[] = {fmt::format("w{}-{}", i, k)};
          DZONG_TRY(c.Execute("INSERT INTO notes (body) VALUES (?)", v));
          if (k % 5 == 0) return Error("test.refused", "this write changes its mind");
          return {};
        });
        (s.ok() ? ok : failed)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kWriters * 16);
  EXPECT_EQ(failed.load(), kWriters * 4);
  EXPECT_EQ(Count(), kWriters * 16);
  const db::PoolStats stats = db_->Stats();
  EXPECT_EQ(stats.writes, static_cast<std::uint64_t>(kWriters * 16 + 1));
}

TEST_F(DatabaseTest, MigrationsApplyOnceAndRefuseEditedFiles) {
  const EmbeddedFile v1[] = {{"0001_first.sql", "CREATE TABLE first_table (x INTEGER);"},
                             {"0002_second.sql", "CREATE TABLE second_table (y TEXT);"}};
  const db::ModuleMigrations modules[] = {{"sample", v1}};
  auto first = db::Migrate(*db_, modules, clock_);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->applied, (std::vector<std::string>{"sample/0001_first.sql", "sample/0002_second.sql"}));
  auto second = db::Migrate(*db_, modules, clock_);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->applied.empty());
  EXPECT_EQ(second->already_applied, 2U);

  const EmbeddedFile edited[] = {{"0001_first.sql", "CREATE TABLE first_table (x INTEGER, z INTEGER);"}};
  const db::ModuleMigrations changed[] = {{"sample", edited}};
  auto refused = db::Migrate(*db_, changed, clock_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "db.migration_changed");
}

TEST_F(DatabaseTest, AFailedMigrationLeavesNoTrace) {
  const EmbeddedFile broken[] = {{"0001_broken.sql", "CREATE TABLE half (x INTEGER); CREATE TABLE oops ("}};
  const db::ModuleMigrations modules[] = {{"broken", broken}};
  ASSERT_FALSE(db::Migrate(*db_, modules, clock_).ok());
  auto rows = db_->ReadValue<db::Rows>(
      [](db::Connection& c) { return c.Query("SELECT COUNT(*) FROM schema_migrations WHERE module = 'broken'"); });
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Int(0), 0);
  // The table the first statement created was rolled back with it.
  Status s = db_->Read([](db::Connection& c) -> Status {
    DZONG_TRY(c.Query("SELECT x FROM half"));
    return {};
  });
  EXPECT_FALSE(s.ok());
}

TEST_F(DatabaseTest, BadMigrationNamesAreRefused) {
  const EmbeddedFile misnamed[] = {{"first.sql", "SELECT 1;"}};
  const db::ModuleMigrations modules[] = {{"misnamed", misnamed}};
  auto r = db::Migrate(*db_, modules, clock_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "db.bad_migration_name");
}

}  // namespace
}  // namespace dzong::testing
