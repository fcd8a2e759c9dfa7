#include "db/sqlite/sqlite_database.h"

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

namespace dzong::db {
namespace {

Error SqliteError(sqlite3* handle, int rc, std::string_view sql) {
  const int primary = rc & 0xff;
  std::string detail = handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc);
  if (primary == SQLITE_CONSTRAINT) return Error(errc::kDbConstraint, detail);
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_IOERR || primary == SQLITE_FULL ||
      primary == SQLITE_CANTOPEN) {
    return Error(errc::kDbUnavailable, fmt::format("database unavailable: {}", detail));
  }
  return Error(errc::kInternal, fmt::format("sqlite: {} in: {}", detail, sql.substr(0, 120)));
}

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(sqlite3* handle) : handle_(handle) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close_v2(handle_);
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  Result<Rows> Query(std::string_view sql, std::span<const Value> params) override {
    DZONG_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql, params));
    Rows rows;
    const int columns = sqlite3_column_count(stmt);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::vector<Value> values;
      values.reserve(static_cast<std::size_t>(columns));
      for (int i = 0; i < columns; ++i) values.push_back(ColumnValue(stmt, i));
      rows.emplace_back(std::move(values));
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) return SqliteError(handle_, rc, sql);
    return rows;
  }

  Status QueryEach(std::string_view sql, std::span<const Value> params,
                   const std::function<bool(const RowView&)>& each) override {
    DZONG_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql, params));
    struct View final : RowView {
      sqlite3_stmt* stmt;
      explicit View(sqlite3_stmt* s) : stmt(s) {}
      bool IsNull(int column) const override { return sqlite3_column_type(stmt, column) == SQLITE_NULL; }
      std::int64_t Int(int column) const override { return sqlite3_column_int64(stmt, column); }
      std::string_view Text(int column) const override {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
        return text ? std::string_view(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, column)))
                    : std::string_view();
      }
    } view(stmt);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      if (!each(view)) {
        rc = SQLITE_DONE;
        break;
      }
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) return SqliteError(handle_, rc, sql);
    return {};
  }

  Result<std::int64_t> Execute(std::string_view sql, std::span<const Value> params) override {
    DZONG_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql, params));
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) return SqliteError(handle_, rc, sql);
    return static_cast<std::int64_t>(sqlite3_changes64(handle_));
  }

  Engine engine() const override { return Engine::kSqlite; }
  Status Script(std::string_view sql) override { return Exec(sql); }

  Status Exec(std::string_view sql) {
    const std::string text(sql);
    char* message = nullptr;
    const int rc = sqlite3_exec(handle_, text.c_str(), nullptr, nullptr, &message);
    if (rc != SQLITE_OK) {
      std::string detail = message ? message : sqlite3_errstr(rc);
      sqlite3_free(message);
      Error e = SqliteError(handle_, rc, sql);
      e.message = detail;
      return e;
    }
    return {};
  }

 private:
  Result<sqlite3_stmt*> Prepare(std::string_view sql, std::span<const Value> params) {
    sqlite3_stmt* stmt = nullptr;
    auto found = statements_.find(sql);
    if (found != statements_.end()) {
      stmt = found->second;
    } else {
      const int rc = sqlite3_prepare_v3(handle_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                        &stmt, nullptr);
      if (rc != SQLITE_OK) return SqliteError(handle_, rc, sql);
      statements_.emplace(std::string(sql), stmt);
    }
    sqlite3_clear_bindings(stmt);
    if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(stmt)) {
      return Error(errc::kInternal, fmt::format("statement wants {} parameters, got {}: {}",
                                                sqlite3_bind_parameter_count(stmt), params.size(), sql.substr(0, 120)));
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      const Value& v = params[i];
      int rc = SQLITE_OK;
      if (std::holds_alternative<std::nullptr_t>(v)) {
        rc = sqlite3_bind_null(stmt, index);
      } else if (const auto* n = std::get_if<std::int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, index, *n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, index, *d);
      } else {
        const auto& s = std::get<std::string>(v);
        rc = sqlite3_bind_text64(stmt, index, s.data(), s.size(), SQLITE_STATIC, SQLITE_UTF8);
      }
      if (rc != SQLITE_OK) return SqliteError(handle_, rc, sql);
    }
    return stmt;
  }

  static Value ColumnValue(sqlite3_stmt* stmt, int i) {
    switch (sqlite3_column_type(stmt, i)) {
      case SQLITE_INTEGER:
        return static_cast<std::int64_t>(sqlite3_column_int64(stmt, i));
      case SQLITE_FLOAT:
        return sqlite3_column_double(stmt, i);
      case SQLITE_NULL:
        return nullptr;
      default: {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
        return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, i)));
      }
    }
  }

  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  sqlite3* handle_;
  std::unordered_map<std::string, sqlite3_stmt*, Hash, std::equal_to<>> statements_;
};

Result<std::unique_ptr<SqliteConnection>> Connect(const std::string& path, bool read_only) {
  sqlite3* handle = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &handle, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error e(errc::kDbUnavailable, fmt::format("cannot open SQLite database '{}': {}", path,
                                              handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc)));
    sqlite3_close_v2(handle);
    return e;
  }
  auto connection = std::make_unique<SqliteConnection>(handle);
  sqlite3_busy_timeout(handle, 5000);
  sqlite3_extended_result_codes(handle, 1);
  // Statement journals (each write's savepoint) and sorts stay in memory: on
  // a temporary file they cost a write to disk for every savepoint, which
  // durability does not need (the WAL is what survives a crash).
  DZONG_TRY(connection->Exec("PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY;"));
  if (read_only) {
    DZONG_TRY(connection->Exec("PRAGMA query_only=ON;"));
  } else {
    DZONG_TRY(connection->Exec("PRAGMA journal_mode=WAL;"));
  }
  return connection;
}

/// A write waiting for the group committer. It lives on the caller's stack;
/// the caller blocks until `done`.
struct PendingWrite {
  const Work* work;
  Status status;
  bool done = false;
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::string path, const Options& options, std::unique_ptr<SqliteConnection> writer,
                 std::unique_ptr<SqliteConnection> checkpointer)
      : path_(std::move(path)), options_(options), writer_(std::move(writer)), checkpointer_(std::move(checkpointer)) {
    open_connections_ = 2;
    writer_thread_ = std::thread([this] { WriterLoop(); });
    checkpoint_thread_ = std::thread([this] { CheckpointLoop(); });
  }

  ~SqliteDatabase() override {
    {
      std::lock_guard lock(queue_mutex_);
      stopping_ = true;
    }
    queue_cv_.notify_all();
    checkpoint_cv_.notify_all();
    writer_thread_.join();
    checkpoint_thread_.join();
  }

  Status Read(const Work& work) override {
    DZONG_ASSIGN_OR_RETURN(std::unique_ptr<SqliteConnection> connection, AcquireReader());
    // Prepared once per connection, like every other statement.
    auto begun = connection->Execute("BEGIN", {});
    Status status = begun.ok() ? Status() : Status(std::move(begun).error());
    if (status.ok()) {
      status = RunGuarded(work, *connection);
      // A read transaction changes nothing; ending it cannot lose work.
      (void)connection->Execute(status.ok() ? "COMMIT" : "ROLLBACK", {});
    }
    ReleaseReader(std::move(connection));
    return status;
  }

  Status Write(const Work& work) override {
    PendingWrite pending{&work, {}, false};
    {
      std::unique_lock lock(queue_mutex_);
      if (stopping_) return Error(errc::kDbUnavailable, "database is closing");
      queue_.push_back(&pending);
      queue_cv_.notify_one();
      done_cv_.wait(lock, [&] { return pending.done; });
    }
    return std::move(pending.status);
  }

  Status Ping() override {
    return Read([](Connection& c) -> Status {
      DZONG_TRY(c.Query("SELECT 1"));
      return {};
    });
  }

  PoolStats Stats() const override {
    PoolStats stats;
    {
      std::lock_guard lock(pool_mutex_);
      stats.connections = open_connections_;
      stats.in_use = in_use_;
      stats.waiting = waiting_;
    }
    {
      std::lock_guard lock(queue_mutex_);
      stats.write_queue = static_cast<std::int64_t>(queue_.size());
    }
    stats.commits = commits_.load(std::memory_order_relaxed);
    stats.writes = writes_.load(std::memory_order_relaxed);
    return stats;
  }

  Engine engine() const override { return Engine::kSqlite; }

 private:
  static Status RunGuarded(const Work& work, Connection& connection) {
    try {
      return work(connection);
    } catch (const std::exception& e) {
      return Error(errc::kInternal, fmt::format("unexpected failure in database work: {}", e.what()));
    }
  }

  Result<std::unique_ptr<SqliteConnection>> AcquireReader() {
    std::unique_lock lock(pool_mutex_);
    ++waiting_;
    pool_cv_.wait(lock, [&] { return !readers_.empty() || readers_open_ < options_.pool_size; });
    --waiting_;
    ++in_use_;
    if (!readers_.empty()) {
      auto connection = std::move(readers_.back());
      readers_.pop_back();
      return connection;
    }
    ++readers_open_;
    ++open_connections_;
    lock.unlock();
    auto connection = Connect(path_, /*read_only=*/true);
    if (!connection.ok()) {
      std::lock_guard relock(pool_mutex_);
      --readers_open_;
      --open_connections_;
      --in_use_;
      pool_cv_.notify_one();
    }
    return connection;
  }

  void ReleaseReader(std::unique_ptr<SqliteConnection> connection) {
    std::lock_guard lock(pool_mutex_);
    --in_use_;
    readers_.push_back(std::move(connection));
    pool_cv_.notify_one();
  }

  // The group committer: takes every write queued so far (up to max_batch),
  // runs each inside its own savepoint of one transaction, commits once, and
  // only then wakes the writers. One fsync acknowledges the whole group.
  void WriterLoop() {
    std::vector<PendingWrite*> batch;
    for (;;) {
      {
        std::unique_lock lock(queue_mutex_);
        queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, nothing left
        const auto take = std::min<std::size_t>(queue_.size(), static_cast<std::size_t>(options_.max_batch));
        batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
      }
      CommitGroup(batch);
      {
        std::lock_guard lock(queue_mutex_);
        for (PendingWrite* p : batch) p->done = true;
      }
      done_cv_.notify_all();
    }
  }

  // Copies committed pages from the WAL back into the database on a thread
  // of its own, a few times a second, so that a commit never waits for it
  // (SQLite's automatic checkpoint, off on the writer, ran inside a commit).
  void CheckpointLoop() {
    std::uint64_t seen = 0;
    std::unique_lock lock(queue_mutex_);
    while (!stopping_) {
      checkpoint_cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return stopping_; });
      if (stopping_) break;
      const std::uint64_t commits = commits_.load(std::memory_order_relaxed);
      if (commits == seen) continue;
      seen = commits;
      lock.unlock();
      (void)checkpointer_->Exec("PRAGMA wal_checkpoint(PASSIVE)");
      lock.lock();
    }
  }

  void CommitGroup(const std::vector<PendingWrite*>& batch) {
    Status begun = writer_->Exec("BEGIN IMMEDIATE");
    if (!begun.ok()) {
      for (PendingWrite* p : batch) p->status = begun;
      return;
    }
    std::size_t succeeded = 0;
    for (PendingWrite* p : batch) {
      Status s = writer_->Exec("SAVEPOINT dzong_write");
      if (s.ok()) {
        s = RunGuarded(*p->work, *writer_);
        if (!s.ok()) (void)writer_->Exec("ROLLBACK TO dzong_write");
        Status released = writer_->Exec("RELEASE dzong_write");
        if (s.ok() && !released.ok()) s = released;
      }
      if (s.ok()) ++succeeded;
      p->status = std::move(s);
    }
    Status committed = writer_->Exec("COMMIT");
    if (!committed.ok()) {
      (void)writer_->Exec("ROLLBACK");
      for (PendingWrite* p : batch) {
        if (p->status.ok()) p->status = committed;
      }
      return;
    }
    commits_.fetch_add(1, std::memory_order_relaxed);
    writes_.fetch_add(succeeded, std::memory_order_relaxed);
  }

  const std::string path_;
  const Options options_;

  mutable std::mutex pool_mutex_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<SqliteConnection>> readers_;
  int readers_open_ = 0;
  std::int64_t open_connections_ = 0;
  std::int64_t in_use_ = 0;
  std::int64_t waiting_ = 0;

  mutable std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::condition_variable done_cv_;
  std::deque<PendingWrite*> queue_;
  bool stopping_ = false;
  std::unique_ptr<SqliteConnection> writer_;
  std::thread writer_thread_;
  std::unique_ptr<SqliteConnection> checkpointer_;
  std::condition_variable checkpoint_cv_;
  std::thread checkpoint_thread_;
  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> writes_{0};
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path, const Options& options) {
  // Memory statistics take a process-wide mutex on every allocation SQLite
  // makes; nothing reads them, and with them off concurrent readers stop
  // queueing on that mutex. Must precede SQLite's initialisation.
  static const int configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return sqlite3_initialize();
  }();
  if (configured != SQLITE_OK) return Error(errc::kDbUnavailable, "SQLite failed to initialise");
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) {
    return Error(errc::kDbUnavailable, fmt::format("cannot create directory '{}': {}", parent.string(), ec.message()));
  }
  DZONG_ASSIGN_OR_RETURN(auto writer, Connect(path, /*read_only=*/false));
  DZONG_TRY(writer->Exec("PRAGMA wal_autocheckpoint=0;"));
  DZONG_ASSIGN_OR_RETURN(auto checkpointer, Connect(path, /*read_only=*/false));
  return std::unique_ptr<Database>(
      std::make_unique<SqliteDatabase>(path, options, std::move(writer), std::move(checkpointer)));
}

}  // namespace dzong::db
