#include <gtest/gtest.h>

#include "db/postgres/postgres_database.h"

namespace dzong::db {
namespace {

TEST(PlaceholdersTest, NumbersQuestionMarksOutsideQuotes) {
  EXPECT_EQ(NumberPlaceholders("SELECT a FROM t WHERE b = ? AND c = ?"), "SELECT a FROM t WHERE b = $1 AND c = $2");
  EXPECT_EQ(NumberPlaceholders("SELECT '?' , \"q?\" FROM t WHERE x = ?"), "SELECT '?' , \"q?\" FROM t WHERE x = $1");
  EXPECT_EQ(NumberPlaceholders("SELECT 'it''s ?' WHERE y = ?"), "SELECT 'it''s ?' WHERE y = $1");
}

}  // namespace
}  // namespace dzong::db
