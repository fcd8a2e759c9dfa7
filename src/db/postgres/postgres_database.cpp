#include "db/postgres/postgres_database.h"

#include <libpq-fe.h>

#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <unordered_map>

#include <fmt/format.h>

namespace dzong::db {

std::string NumberPlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int next = 1;
  char quote = 0;
  for (char c : sql) {
    if (quote) {
      if (c == quote) quote = 0;
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?') {
      out += fmt::format("${}", next++);
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

// Type OIDs from pg_type that map to integers and reals.
constexpr Oid kBoolOid = 16, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23, kFloat4Oid = 700, kFloat8Oid = 701;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

class PostgresConnection final : public Connection {
 public:
  explicit PostgresConnection(PGconn* handle) : handle_(handle) {}
  ~PostgresConnection() override { PQfinish(handle_); }
  PostgresConnection(const PostgresConnection&) = delete;
  PostgresConnection& operator=(const PostgresConnection&) = delete;

  Result<Rows> Query(std::string_view sql, std::span<const Value> params) override {
    DZONG_ASSIGN_OR_RETURN(PgResult result, Run(sql, params));
    Rows rows;
    const int n = PQntuples(result.get());
    const int columns = PQnfields(result.get());
    rows.reserve(static_cast<std::size_t>(n));
    for (int r = 0; r < n; ++r) {
      std::vector<Value> values;
      values.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) values.push_back(Cell(result.get(), r, c));
      rows.emplace_back(std::move(values));
    }
    return rows;
  }

  Result<std::int64_t> Execute(std::string_view sql, std::span<const Value> params) override {
    DZONG_ASSIGN_OR_RETURN(PgResult result, Run(sql, params));
    const char* affected = PQcmdTuples(result.get());
    return (affected && *affected) ? std::stoll(affected) : 0;
  }

  Engine engine() const override { return Engine::kPostgres; }
  Status Script(std::string_view sql) override { return Exec(sql); }

  /// Runs SQL text without parameters (transaction control, scripts).
  Status Exec(std::string_view sql) {
    PgResult result(PQexec(handle_, std::string(sql).c_str()));
    return Check(result.get(), sql);
  }

  bool healthy() const { return PQstatus(handle_) == CONNECTION_OK; }

 private:
  Result<PgResult> Run(std::string_view sql, std::span<const Value> params) {
    std::string key(sql);
    auto found = statements_.find(key);
    if (found == statements_.end()) {
      std::string name = fmt::format("dzong_{}", statements_.size());
      PgResult prepared(PQprepare(handle_, name.c_str(), NumberPlaceholders(sql).c_str(), 0, nullptr));
      DZONG_TRY(Check(prepared.get(), sql));
      found = statements_.emplace(std::move(key), std::move(name)).first;
    }
    std::vector<std::string> text(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const Value& v = params[i];
      if (std::holds_alternative<std::nullptr_t>(v)) continue;
      if (const auto* n = std::get_if<std::int64_t>(&v)) {
        text[i] = std::to_string(*n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        text[i] = fmt::format("{}", *d);
      } else {
        text[i] = std::get<std::string>(v);
      }
      values[i] = text[i].c_str();
    }
    PgResult result(PQexecPrepared(handle_, found->second.c_str(), static_cast<int>(params.size()), values.data(),
                                   nullptr, nullptr, 0));
    DZONG_TRY(Check(result.get(), sql));
    return result;
  }

  Status Check(const PGresult* result, std::string_view sql) const {
    const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) return {};
    std::string message = result ? PQresultErrorMessage(result) : PQerrorMessage(handle_);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    if (PQstatus(handle_) != CONNECTION_OK) return Error(errc::kDbUnavailable, "database unavailable: " + message);
    if (state && std::string_view(state).starts_with("23")) return Error(errc::kDbConstraint, message);
    if (state && (std::string_view(state) == "40001" || std::string_view(state) == "40P01")) {
      return Error(errc::kDbUnavailable, "database busy, try again: " + message);
    }
    return Error(errc::kInternal, fmt::format("postgresql: {} in: {}", message, sql.substr(0, 120)));
  }

  static Value Cell(const PGresult* result, int row, int column) {
    if (PQgetisnull(result, row, column)) return nullptr;
    const char* text = PQgetvalue(result, row, column);
    switch (PQftype(result, column)) {
      case kInt2Oid:
      case kInt4Oid:
      case kInt8Oid:
        return static_cast<std::int64_t>(std::stoll(text));
      case kBoolOid:
        return static_cast<std::int64_t>(text[0] == 't' ? 1 : 0);
      case kFloat4Oid:
      case kFloat8Oid:
        return std::stod(text);
      default:
        return std::string(text, static_cast<std::size_t>(PQgetlength(result, row, column)));
    }
  }

  PGconn* handle_;
  std::unordered_map<std::string, std::string> statements_;
};

void IgnoreNotice(void*, const char*) {}

Result<std::unique_ptr<PostgresConnection>> Connect(const std::string& url) {
  PGconn* handle = PQconnectdb(url.c_str());
  auto connection = std::make_unique<PostgresConnection>(handle);
  if (PQstatus(handle) != CONNECTION_OK) {
    std::string message = PQerrorMessage(handle);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return Error(errc::kDbUnavailable, fmt::format("cannot connect to PostgreSQL: {}", message));
  }
  PQsetNoticeProcessor(handle, IgnoreNotice, nullptr);
  DZONG_TRY(connection->Exec("SET TIME ZONE 'UTC'"));
  return connection;
}

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(std::string url, const Options& options, std::unique_ptr<PostgresConnection> first)
      : url_(std::move(url)), options_(options) {
    idle_.push_back(std::move(first));
    open_ = 1;
  }

  Status Read(const Work& work) override {
    return InTransaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", work, /*counts_as_write=*/false);
  }

  // PostgreSQL flushes WAL for all commits that arrive while a flush is in
  // progress in one go, so concurrent Write()s on separate connections
  // already share fsyncs.
  Status Write(const Work& work) override { return InTransaction("BEGIN", work, /*counts_as_write=*/true); }

  Status Ping() override {
    DZONG_ASSIGN_OR_RETURN(auto connection, Acquire());
    Status status = connection->Exec("SELECT 1");
    Release(std::move(connection));
    return status;
  }

  PoolStats Stats() const override {
    PoolStats stats;
    std::lock_guard lock(mutex_);
    stats.connections = open_;
    stats.in_use = in_use_;
    stats.waiting = waiting_;
    stats.commits = commits_.load(std::memory_order_relaxed);
    stats.writes = writes_.load(std::memory_order_relaxed);
    return stats;
  }

  Engine engine() const override { return Engine::kPostgres; }

 private:
  Status InTransaction(std::string_view begin, const Work& work, bool counts_as_write) {
    DZONG_ASSIGN_OR_RETURN(auto connection, Acquire());
    Status status = connection->Exec(begin);
    if (status.ok()) {
      try {
        status = work(*connection);
      } catch (const std::exception& e) {
        status = Error(errc::kInternal, fmt::format("unexpected failure in database work: {}", e.what()));
      }
      if (status.ok()) {
        status = connection->Exec("COMMIT");
        if (status.ok() && counts_as_write) {
          commits_.fetch_add(1, std::memory_order_relaxed);
          writes_.fetch_add(1, std::memory_order_relaxed);
        }
      } else {
        (void)connection->Exec("ROLLBACK");
      }
    }
    Release(std::move(connection));
    return status;
  }

  Result<std::unique_ptr<PostgresConnection>> Acquire() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    cv_.wait(lock, [&] { return !idle_.empty() || open_ < options_.pool_size; });
    --waiting_;
    ++in_use_;
    if (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      return connection;
    }
    ++open_;
    lock.unlock();
    auto connection = Connect(url_);
    if (!connection.ok()) {
      std::lock_guard relock(mutex_);
      --open_;
      --in_use_;
      cv_.notify_one();
    }
    return connection;
  }

  void Release(std::unique_ptr<PostgresConnection> connection) {
    std::lock_guard lock(mutex_);
    --in_use_;
    if (connection->healthy()) {
      idle_.push_back(std::move(connection));
    } else {
      --open_;  // a broken connection is dropped; the next Acquire reconnects
    }
    cv_.notify_one();
  }

  const std::string url_;
  const Options options_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PostgresConnection>> idle_;
  std::int64_t open_ = 0;
  std::int64_t in_use_ = 0;
  std::int64_t waiting_ = 0;
  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> writes_{0};
};

}  // namespace

Result<std::unique_ptr<Database>> OpenPostgres(const std::string& url, const Options& options) {
  DZONG_ASSIGN_OR_RETURN(auto first, Connect(url));
  return std::unique_ptr<Database>(std::make_unique<PostgresDatabase>(url, options, std::move(first)));
}

}  // namespace dzong::db
