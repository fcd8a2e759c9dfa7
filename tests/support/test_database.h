#pragma once
// A fresh, empty database for one test: a temporary SQLite file, or a new
// PostgreSQL database when TEST_POSTGRES_URL names a server (the test
// script starts one). Removed when the test ends.

#include <string>

namespace dzong::testing {

class TestDatabase {
 public:
  TestDatabase();
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  /// The URL to give the server.
  const std::string& url() const { return url_; }
  bool postgres() const { return !admin_url_.empty(); }
  /// The engine under test, for test names and messages.
  static std::string EngineName();

 private:
  std::string url_;
  std::string admin_url_;
  std::string name_;
  std::string directory_;
};

}  // namespace dzong::testing
