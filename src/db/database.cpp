#include "db/database.h"

#include <fmt/format.h>

#include "db/postgres/postgres_database.h"
#include "db/sqlite/sqlite_database.h"

namespace dzong::db {

std::int64_t Row::Int(std::size_t i) const {
  const Value& v = values_.at(i);
  if (const auto* n = std::get_if<std::int64_t>(&v)) return *n;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
  if (const auto* s = std::get_if<std::string>(&v)) return std::stoll(*s);
  return 0;
}

double Row::Real(std::size_t i) const {
  const Value& v = values_.at(i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* n = std::get_if<std::int64_t>(&v)) return static_cast<double>(*n);
  if (const auto* s = std::get_if<std::string>(&v)) return std::stod(*s);
  return 0;
}

const std::string& Row::Text(std::size_t i) const {
  static const std::string kEmpty;
  const Value& v = values_.at(i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return kEmpty;
}

std::optional<std::string> Row::OptText(std::size_t i) const {
  if (IsNull(i)) return std::nullopt;
  return Text(i);
}

Status ValidateUrl(std::string_view url) {
  if (url.starts_with("sqlite://")) {
    if (url.size() == std::string_view("sqlite://").size()) {
      return Error("db.bad_url", "sqlite URL has no path; write sqlite:///absolute/path.db or sqlite://relative/path.db");
    }
    return {};
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) return {};
  return Error("db.bad_url",
               fmt::format("must start with sqlite:// or postgresql:// (got '{}')", url.substr(0, url.find(':'))));
}

Result<std::unique_ptr<Database>> Open(const Options& options) {
  DZONG_TRY(ValidateUrl(options.url));
  if (options.url.starts_with("sqlite://")) {
    return OpenSqlite(options.url.substr(std::string_view("sqlite://").size()), options);
  }
  return OpenPostgres(options.url, options);
}

}  // namespace dzong::db
