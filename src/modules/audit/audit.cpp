#include "modules/audit/audit.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/jcs.h"
#include "base/crypto.h"
#include "modules/audit/internal.h"

namespace dzong {
std::span<const EmbeddedFile> AuditMigrationFiles();
}

namespace dzong::audit {

namespace internal {

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json Nullable(const std::optional<std::string>& v) { return v ? json(*v) : json(); }

db::Value NullableValue(const std::optional<std::string>& v) {
  if (!v) return nullptr;
  return *v;
}

}  // namespace internal

using namespace internal;

const char kEventColumns[] =
    "seq, at, actor, actor_organisation, action, object_type, object_id, subject, purpose, outcome, request_id, "
    "remote, detail, prev_hash, hash, actor_role";

Actor ActorOf(const http::Request& request) {
  Actor actor;
  actor.id = request.principal.id;
  actor.organisation = request.principal.organisation;
  actor.request_id = request.request_id;
  actor.remote = request.remote_address;
  actor.purpose = std::string(request.HeaderValue("X-Purpose"));
  // The case or application the purpose serves (X-Road's X-Road-Issue).
  if (const std::string_view issue = request.HeaderValue("X-Road-Issue"); !issue.empty()) {
    actor.purpose += (actor.purpose.empty() ? "" : " / ") + std::string(issue);
  }
  if (!request.route_event.empty() && request.route_event != "none") {
    actor.call = Actor::Call{request.route_event, request.route, request.path, request.query,
                             &request.call_recorded_status};
  }
  const http::Principal& p = request.principal;
  if (!p.authenticated) {
    actor.role = p.id == "anonymous" ? "" : p.kind;
  } else if (p.kind == "official" && !p.roles.empty()) {
    for (const auto& role : p.roles) actor.role += (actor.role.empty() ? "" : " ") + role;
  } else {
    actor.role = p.kind;
  }
  return actor;
}

StoredEvent EventFromRow(const db::Row& r) {
  StoredEvent e;
  e.seq = r.Int(0);
  e.at = r.Text(1);
  e.event.actor = r.Text(2);
  e.event.actor_organisation = r.OptText(3);
  e.event.action = r.Text(4);
  e.event.object_type = r.Text(5);
  e.event.object_id = r.Text(6);
  e.event.subject = r.OptText(7);
  e.event.purpose = r.Text(8);
  e.event.allowed = r.Text(9) == "allowed";
  e.event.request_id = r.Text(10);
  e.event.remote = r.Text(11);
  e.event.detail = r.Text(12);
  e.prev_hash = r.Text(13);
  e.hash = r.Text(14);
  e.event.actor_role = r.OptText(15).value_or("");
  return e;
}

std::span<const EmbeddedFile> Migrations() { return AuditMigrationFiles(); }

Event For(const Actor& actor, std::string action, std::string object_type, std::string object_id,
          std::string detail) {
  Event e;
  e.actor = actor.id;
  e.actor_organisation = actor.organisation;
  e.actor_role = actor.role;
  e.action = std::move(action);
  e.object_type = std::move(object_type);
  e.object_id = std::move(object_id);
  e.purpose = actor.purpose;
  e.request_id = actor.request_id;
  e.remote = actor.remote;
  e.detail = std::move(detail);
  return e;
}

namespace {

// The length of the UTF-8 sequence that starts at `p` (a byte of 0x80 or
// more), or 0 when it is not strict UTF-8 (Unicode 15, table 3-7): what
// nlohmann::json accepts.
int Utf8SequenceLength(const unsigned char* p, const unsigned char* end) {
  const unsigned char c = *p;
  int extra = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    extra = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    extra = 2;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    extra = 3;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (end - p <= extra || p[1] < lo || p[1] > hi) return 0;
  for (int i = 2; i <= extra; ++i) {
    if (p[i] < 0x80 || p[i] > 0xBF) return 0;
  }
  return extra + 1;
}

bool ValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    if (*p < 0x80) {
      ++p;
      continue;
    }
    const int length = Utf8SequenceLength(p, end);
    if (length == 0) return false;
    p += length;
  }
  return true;
}

// A JSON string exactly as nlohmann::json::dump writes it (no ASCII
// escaping, lower-case \u00xx for other control characters, invalid UTF-8
// replaced by U+FFFD), without building a json value.
void AppendString(std::string& out, std::string_view s) {
  if (!ValidUtf8(s)) {
    out += json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
    return;
  }
  AppendJsonString(out, s);
}

void AppendNullable(std::string& out, const std::optional<std::string_view>& v) {
  if (v) {
    AppendString(out, *v);
  } else {
    out += "null";
  }
}

std::optional<std::string_view> ViewOfOptional(const std::optional<std::string>& v) {
  if (!v) return std::nullopt;
  return std::string_view(*v);
}

}  // namespace

EventView ViewOf(const StoredEvent& e) {
  EventView v;
  v.seq = e.seq;
  v.at = e.at;
  v.actor = e.event.actor;
  v.actor_organisation = ViewOfOptional(e.event.actor_organisation);
  v.actor_role = e.event.actor_role;
  v.action = e.event.action;
  v.object_type = e.event.object_type;
  v.object_id = e.event.object_id;
  v.subject = ViewOfOptional(e.event.subject);
  v.purpose = e.event.purpose;
  v.allowed = e.event.allowed;
  v.request_id = e.event.request_id;
  v.remote = e.event.remote;
  v.detail = e.event.detail;
  v.prev_hash = e.prev_hash;
  v.hash = e.hash;
  return v;
}

namespace {

// Writes `s` as a JSON string at `p`, as AppendString would, eight plain
// ASCII bytes at a time. Returns false at invalid UTF-8 (the caller then
// takes the slow path, which replaces it as the JSON library does).
bool WriteString(char*& p, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
  const auto* in = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = in + s.size();
  *p++ = '"';
  while (in < end) {
    while (end - in >= 8) {
      std::uint64_t x;
      std::memcpy(&x, in, 8);
      const std::uint64_t control = (x - kOnes * 0x20) & ~x & kHighs;
      const std::uint64_t q = x ^ (kOnes * '"');
      const std::uint64_t b = x ^ (kOnes * '\\');
      const std::uint64_t special = ((q - kOnes) & ~q & kHighs) | ((b - kOnes) & ~b & kHighs);
      if ((x & kHighs) | control | special) break;
      std::memcpy(p, in, 8);
      p += 8;
      in += 8;
    }
    if (in >= end) break;
    const unsigned char c = *in;
    if (c >= 0x80) {
      const int length = Utf8SequenceLength(in, end);
      if (length == 0) return false;
      std::memcpy(p, in, static_cast<std::size_t>(length));
      p += length;
      in += length;
      continue;
    }
    ++in;
    switch (c) {
      case '"': *p++ = '\\'; *p++ = '"'; break;
      case '\\': *p++ = '\\'; *p++ = '\\'; break;
      case '\b': *p++ = '\\'; *p++ = 'b'; break;
      case '\f': *p++ = '\\'; *p++ = 'f'; break;
      case '\n': *p++ = '\\'; *p++ = 'n'; break;
      case '\r': *p++ = '\\'; *p++ = 'r'; break;
      case '\t': *p++ = '\\'; *p++ = 't'; break;
      default:
        if (c >= 0x20) {
          *p++ = static_cast<char>(c);
        } else {
          std::memcpy(p, "\\u00", 4);
          p[4] = kHex[c >> 4];
          p[5] = kHex[c & 0xF];
          p += 6;
        }
    }
  }
  *p++ = '"';
  return true;
}

void AppendCanonicalSlow(std::string& out, const EventView& e) {
  out += '[';
  out += std::to_string(e.seq);
  const auto field = [&out](std::string_view v) {
    out += ',';
    AppendString(out, v);
  };
  field(e.at);
  field(e.actor);
  out += ',';
  AppendNullable(out, e.actor_organisation);
  field(e.action);
  field(e.object_type);
  field(e.object_id);
  out += ',';
  AppendNullable(out, e.subject);
  field(e.purpose);
  field(e.allowed ? "allowed" : "denied");
  field(e.request_id);
  field(e.remote);
  field(e.detail);
  field(e.prev_hash);
  if (!e.actor_role.empty()) field(e.actor_role);
  out += ']';
}

}  // namespace

std::string_view CanonicalView(const EventView& e) {
  thread_local std::vector<char> scratch;
  thread_local std::string slow;
  const auto bound = [](std::string_view v) { return 6 * v.size() + 3; };
  const auto bound_opt = [&](const std::optional<std::string_view>& v) { return v ? bound(*v) : 5; };
  const std::size_t need = 64 + bound(e.at) + bound(e.actor) + bound_opt(e.actor_organisation) + bound(e.action) +
                           bound(e.object_type) + bound(e.object_id) + bound_opt(e.subject) + bound(e.purpose) + 10 +
                           bound(e.request_id) + bound(e.remote) + bound(e.detail) + bound(e.prev_hash) +
                           bound(e.actor_role);
  if (scratch.size() < need) scratch.resize(need);
  char* p = scratch.data();
  bool ok = true;
  *p++ = '[';
  p = std::to_chars(p, p + 24, e.seq).ptr;
  const auto field = [&](std::string_view v) {
    *p++ = ',';
    ok = ok && WriteString(p, v);
  };
  const auto nullable = [&](const std::optional<std::string_view>& v) {
    if (v) {
      field(*v);
    } else {
      std::memcpy(p, ",null", 5);
      p += 5;
    }
  };
  field(e.at);
  field(e.actor);
  nullable(e.actor_organisation);
  field(e.action);
  field(e.object_type);
  field(e.object_id);
  nullable(e.subject);
  field(e.purpose);
  field(e.allowed ? "allowed" : "denied");
  field(e.request_id);
  field(e.remote);
  field(e.detail);
  field(e.prev_hash);
  if (!e.actor_role.empty()) field(e.actor_role);
  *p++ = ']';
  if (ok) return {scratch.data(), static_cast<std::size_t>(p - scratch.data())};
  slow.clear();
  AppendCanonicalSlow(slow, e);
  return slow;
}

void AppendCanonicalEncoding(std::string& out, const EventView& e) { out.append(CanonicalView(e)); }

std::string CanonicalEncoding(const StoredEvent& e) {
  std::string out;
  out.reserve(256 + e.event.detail.size());
  AppendCanonicalEncoding(out, ViewOf(e));
  return out;
}

std::string EventHash(const StoredEvent& e) { return Sha256Hex(CanonicalEncoding(e)); }

namespace {

/// "INSERT INTO audit_events (...) VALUES (?, …), (?, …) …" for `rows` rows.
const std::string& InsertStatement(std::size_t rows) {
  static const std::array<std::string, 4> statements = [] {
    std::array<std::string, 4> out;
    constexpr std::size_t kSizes[] = {1, 4, 16, 64};
    for (std::size_t i = 0; i < out.size(); ++i) {
      out[i] = std::string("INSERT INTO audit_events (") + kEventColumns + ") VALUES ";
      for (std::size_t r = 0; r < kSizes[i]; ++r) {
        out[i] += r == 0 ? "" : ", ";
        out[i] += "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
      }
    }
    return out;
  }();
  return statements[rows >= 64 ? 3 : rows >= 16 ? 2 : rows >= 4 ? 1 : 0];
}

constexpr std::size_t kColumnsPerRow = 16;

}  // namespace

Result<std::int64_t> AppendAll(db::Connection& c, std::span<const Event> events, const Clock& clock) {
  if (events.empty()) return std::int64_t{0};
  // Taking the numbers updates the head row first: on PostgreSQL that row
  // lock orders concurrent appends until commit; on SQLite the single writer
  // already does.
  const db::Value count[] = {static_cast<std::int64_t>(events.size())};
  DZONG_ASSIGN_OR_RETURN(db::Rows head,
                         c.Query("UPDATE audit_head SET seq = seq + ? WHERE id = 1 RETURNING seq, hash", count));
  if (head.empty()) return Error(errc::kInternal, "the audit log has no head; run dzong migrate");
  const std::int64_t last = head[0].Int(0);
  std::string prev = head[0].Text(1);
  const std::string at = FormatUtc(clock.Now());
  std::vector<db::Value> params;
  std::size_t done = 0;
  std::int64_t seq = last - static_cast<std::int64_t>(events.size()) + 1;
  while (done < events.size()) {
    const std::size_t left = events.size() - done;
    const std::size_t rows = left >= 64 ? 64 : left >= 16 ? 16 : left >= 4 ? 4 : 1;
    params.clear();
    params.reserve(rows * kColumnsPerRow);
    for (std::size_t i = 0; i < rows; ++i, ++seq) {
      const Event& event = events[done + i];
      EventView v;
      v.seq = seq;
      v.at = at;
      v.actor = event.actor;
      if (event.actor_organisation) v.actor_organisation = *event.actor_organisation;
      v.actor_role = event.actor_role;
      v.action = event.action;
      v.object_type = event.object_type;
      v.object_id = event.object_id;
      if (event.subject) v.subject = *event.subject;
      v.purpose = event.purpose;
      v.allowed = event.allowed;
      v.request_id = event.request_id;
      v.remote = event.remote;
      v.detail = event.detail;
      v.prev_hash = prev;
      char hash[64];
      Sha256HexInto(CanonicalView(v), hash);
      params.emplace_back(seq);
      params.emplace_back(at);
      params.emplace_back(event.actor);
      params.push_back(NullableValue(event.actor_organisation));
      params.emplace_back(event.action);
      params.emplace_back(event.object_type);
      params.emplace_back(event.object_id);
      params.push_back(NullableValue(event.subject));
      params.emplace_back(event.purpose);
      params.emplace_back(std::string(event.allowed ? "allowed" : "denied"));
      params.emplace_back(event.request_id);
      params.emplace_back(event.remote);
      params.emplace_back(event.detail);
      params.emplace_back(std::move(prev));
      prev.assign(hash, sizeof hash);
      params.emplace_back(prev);
      params.push_back(event.actor_role.empty() ? db::Value(nullptr) : db::Value(event.actor_role));
    }
    DZONG_TRY(c.Execute(InsertStatement(rows), params));
    done += rows;
  }
  const db::Value update[] = {prev};
  DZONG_TRY(c.Execute("UPDATE audit_head SET hash = ? WHERE id = 1", update));
  return last;
}

Result<std::int64_t> Append(db::Connection& c, const Event& event, const Clock& clock) {
  return AppendAll(c, std::span<const Event>(&event, 1), clock);
}

Event CallEvent(const Actor& actor, const std::string& action, const std::string& route, const std::string& path,
                const std::string& query, int status, bool denied) {
  json detail = {{"path", path}, {"status", status}};
  if (!query.empty()) detail["query"] = query;
  Event event = For(actor, action, "route", route, Dump(detail));
  event.allowed = !denied;
  return event;
}

Result<std::int64_t> AppendWithCall(db::Connection& c, const Event& event, const Actor& actor, int status,
                                    const Clock& clock) {
  if (!actor.call) return Append(c, event, clock);
  const Event both[] = {event, CallEvent(actor, actor.call->action, actor.call->route, actor.call->path,
                                         actor.call->query, status, false)};
  DZONG_ASSIGN_OR_RETURN(std::int64_t last, AppendAll(c, both, clock));
  // Read by the dispatcher only when the answer has this status, which it
  // has only if this transaction committed.
  if (actor.call->recorded_status) *actor.call->recorded_status = status;
  return last;
}

// ---------------------------------------------------------------- appender

struct Appender::State {
  State(db::Database& d, const Clock& c) : db(d), clock(c) {}
  db::Database& db;
  const Clock& clock;
  /// One caller's part of a batch.
  struct Item {
    std::vector<Event> events;
    std::function<Status(db::Connection&)> with;
    Status result;
  };
  struct Batch {
    std::vector<std::shared_ptr<Item>> items;
    bool done = false;
  };
  std::mutex mutex;
  std::condition_variable work;    ///< the appender's thread waits here for events
  std::condition_variable landed;  ///< callers wait here for their batch to commit
  std::shared_ptr<Batch> open;
  bool stopping = false;
  std::thread thread;

  /// Writes a batch in one transaction: each caller's own work in a savepoint
  /// (a refusal undoes only that caller's part), then every event kept.
  Status Commit(Batch& batch) {
    std::vector<Event> events;
    return db.Write([&](db::Connection& c) -> Status {
      events.clear();
      for (auto& item : batch.items) {
        item->result = {};
        if (item->with) {
          DZONG_TRY(c.Execute("SAVEPOINT caller"));
          item->result = item->with(c);
          if (!item->result.ok()) DZONG_TRY(c.Execute("ROLLBACK TO SAVEPOINT caller"));
          DZONG_TRY(c.Execute("RELEASE SAVEPOINT caller"));
          if (!item->result.ok()) continue;
        }
        for (const Event& e : item->events) events.push_back(e);
      }
      DZONG_TRY(AppendAll(c, events, clock));
      return {};
    });
  }
};

Appender::Appender(db::Database& db, const Clock& clock) : state_(std::make_unique<State>(db, clock)) {
  state_->thread = std::thread([this] {
    State& s = *state_;
    std::unique_lock lock(s.mutex);
    for (;;) {
      s.work.wait(lock, [&] { return s.stopping || s.open; });
      if (!s.open) break;  // stopping, nothing left
      std::shared_ptr<State::Batch> batch = std::move(s.open);
      s.open.reset();
      lock.unlock();
      // Every event that arrived while the last batch was committing goes in
      // this one: one transaction, one head update, one fsync for them all.
      Status result = s.Commit(*batch);
      lock.lock();
      if (!result.ok()) {
        for (auto& item : batch->items) item->result = result;
      }
      batch->done = true;
      s.landed.notify_all();
    }
  });
}

Appender::~Appender() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->work.notify_all();
  if (state_->thread.joinable()) state_->thread.join();
}

Status Appender::Record(std::vector<Event> events, std::function<Status(db::Connection&)> with) {
  if (events.empty() && !with) return {};
  State& s = *state_;
  auto item = std::make_shared<State::Item>();
  item->events = std::move(events);
  item->with = std::move(with);
  std::unique_lock lock(s.mutex);
  if (s.stopping) return Error(errc::kShuttingDown, "the audit log is closing");
  if (!s.open) s.open = std::make_shared<State::Batch>();
  std::shared_ptr<State::Batch> mine = s.open;
  mine->items.push_back(item);
  s.work.notify_one();
  s.landed.wait(lock, [&] { return mine->done; });
  return item->result;
}

}  // namespace dzong::audit
