#pragma once
// The one database interface every module's store speaks. Two drivers sit
// behind it (sqlite/, postgres/); SQL differences live in the drivers.
//
// Reads run in a snapshot transaction on a pooled connection. Writes run
// through Write(): the SQLite driver funnels concurrent writers into one
// writer thread that commits them in groups, so many acknowledged writes
// share one fsync; PostgreSQL groups WAL flushes of concurrent commits itself.
// A Write's callback returns only once its transaction is durable.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.h"

namespace dzong::db {

enum class Engine { kSqlite, kPostgres };

/// A SQL value: NULL, integer, real or text. Booleans travel as 0/1.
using Value = std::variant<std::nullptr_t, std::int64_t, double, std::string>;

/// One result row; columns by position, in the order the SELECT names them.
class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  bool IsNull(std::size_t i) const { return std::holds_alternative<std::nullptr_t>(values_.at(i)); }
  std::int64_t Int(std::size_t i) const;
  double Real(std::size_t i) const;
  const std::string& Text(std::size_t i) const;
  std::optional<std::string> OptText(std::size_t i) const;
  std::size_t size() const { return values_.size(); }

 private:
  std::vector<Value> values_;
};

using Rows = std::vector<Row>;

/// A row as the driver holds it, for scans that must not copy: the views
/// are valid only inside the QueryEach callback.
class RowView {
 public:
  virtual ~RowView() = default;
  virtual bool IsNull(int column) const = 0;
  virtual std::int64_t Int(int column) const = 0;
  virtual std::string_view Text(int column) const = 0;
};

/// A connection inside a transaction. Statements use `?` placeholders; the
/// driver prepares each distinct statement once per connection and reuses it.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual Result<Rows> Query(std::string_view sql, std::span<const Value> params = {}) = 0;
  /// Calls `each` for every row until it returns false; nothing is copied.
  virtual Status QueryEach(std::string_view sql, std::span<const Value> params,
                           const std::function<bool(const RowView&)>& each) = 0;
  /// Runs a statement and returns the number of rows it changed.
  virtual Result<std::int64_t> Execute(std::string_view sql, std::span<const Value> params = {}) = 0;
  /// Runs several `;`-separated statements without parameters (migrations).
  /// Scripts use the SQL both engines share; `INTEGER PRIMARY KEY` declares
  /// an auto-assigned 64-bit id on both.
  virtual Status Script(std::string_view sql) = 0;
  virtual Engine engine() const = 0;
};

/// Counters for /metrics.
struct PoolStats {
  std::int64_t connections = 0;     ///< open connections, readers and writers
  std::int64_t in_use = 0;          ///< connections lent out right now
  std::int64_t waiting = 0;         ///< callers waiting for a connection
  std::int64_t write_queue = 0;     ///< writes waiting for the group committer
  std::uint64_t commits = 0;        ///< transactions committed (fsyncs, for SQLite)
  std::uint64_t writes = 0;         ///< Write() calls committed
};

using Work = std::function<Status(Connection&)>;

class Database {
 public:
  virtual ~Database() = default;

  /// Runs `work` in a read-only snapshot transaction.
  virtual Status Read(const Work& work) = 0;
  /// Runs `work` in a write transaction; returns once it is durable. An error
  /// returned by `work` rolls back its changes only.
  virtual Status Write(const Work& work) = 0;
  /// A cheap round trip, for /readyz.
  virtual Status Ping() = 0;
  virtual PoolStats Stats() const = 0;
  virtual Engine engine() const = 0;

  /// Typed helpers: the callback fills `out` and returns a Status.
  template <typename T, typename F>
  Result<T> ReadValue(F&& fn) {
    std::optional<T> out;
    Status s = Read([&](Connection& c) -> Status {
      Result<T> r = fn(c);
      if (!r.ok()) return std::move(r).error();
      out.emplace(std::move(r).value());
      return {};
    });
    if (!s.ok()) return std::move(s).error();
    return std::move(*out);
  }
  template <typename T, typename F>
  Result<T> WriteValue(F&& fn) {
    std::optional<T> out;
    Status s = Write([&](Connection& c) -> Status {
      Result<T> r = fn(c);
      if (!r.ok()) return std::move(r).error();
      out.emplace(std::move(r).value());
      return {};
    });
    if (!s.ok()) return std::move(s).error();
    return std::move(*out);
  }
};

struct Options {
  std::string url;           ///< sqlite:///path or postgresql://…
  int pool_size = 8;         ///< read connections (SQLite) or all connections (PostgreSQL)
  int max_batch = 256;       ///< most writes one group commit takes (SQLite)
};

/// Opens the database the URL names. Errors: db.bad_url, db.unavailable.
Result<std::unique_ptr<Database>> Open(const Options& options);

/// Checks a database URL without opening it; the error names what is wrong.
Status ValidateUrl(std::string_view url);

}  // namespace dzong::db
