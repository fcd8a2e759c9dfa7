#include "support/test_database.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "base/crypto.h"

namespace dzong::testing {
namespace {

void AdminCommand(const std::string& admin_url, const std::string& sql) {
  PGconn* c = PQconnectdb(admin_url.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    const std::string message = PQerrorMessage(c);
    PQfinish(c);
    throw std::runtime_error("cannot reach the test PostgreSQL server: " + message);
  }
  PGresult* r = PQexec(c, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  const std::string message = PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(c);
  if (!ok) throw std::runtime_error(sql + ": " + message);
}

// Puts a database name into a libpq URL: postgresql://host/NAME?params.
std::string WithDatabase(const std::string& url, const std::string& name) {
  const auto scheme = url.find("://");
  const auto path = url.find('/', scheme + 3);
  const auto query = url.find('?', scheme + 3);
  const std::string base = url.substr(0, path == std::string::npos ? std::min(query, url.size()) : path);
  const std::string params = query == std::string::npos ? "" : url.substr(query);
  return base + "/" + name + params;
}

}  // namespace

std::string TestDatabase::EngineName() {
  const char* pg = std::getenv("TEST_POSTGRES_URL");
  return pg && *pg ? "postgresql" : "sqlite";
}

TestDatabase::TestDatabase() {
  const char* pg = std::getenv("TEST_POSTGRES_URL");
  if (pg && *pg) {
    admin_url_ = pg;
    name_ = "dzong_test_" + RandomHex(6);
    AdminCommand(admin_url_, "CREATE DATABASE " + name_);
    url_ = WithDatabase(admin_url_, name_);
  } else {
    directory_ = (std::filesystem::temp_directory_path() / ("dzong-test-" + RandomHex(6))).string();
    std::filesystem::create_directories(directory_);
    url_ = "sqlite://" + directory_ + "/dzong.db";
  }
}

TestDatabase::~TestDatabase() {
  try {
    if (!admin_url_.empty()) AdminCommand(admin_url_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    if (!directory_.empty()) std::filesystem::remove_all(directory_);
  } catch (const std::exception&) {
    // Leftovers in a temporary server or folder are removed with it.
  }
}

}  // namespace dzong::testing
