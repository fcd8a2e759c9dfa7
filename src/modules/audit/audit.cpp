#include "modules/audit/audit.h"

#include <algorithm>
#include <cstring>
#include <array>
#include <charconv>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"

namespace dzong {
std::span<const EmbeddedFile> AuditMigrationFiles();
}

namespace dzong::audit {
namespace {

using nlohmann::json;

json Nullable(const std::optional<std::string>& v) { return v ? json(*v) : json(); }

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

db::Value NullableValue(const std::optional<std::string>& v) {
  if (!v) return nullptr;
  return *v;
}

}  // namespace

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

// Strict UTF-8 (Unicode 15, table 3-7): what nlohmann::json accepts.
bool ValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
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
      return false;
    }
    if (end - p <= extra) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (int i = 2; i <= extra; ++i) {
      if (p[i] < 0x80 || p[i] > 0xBF) return false;
    }
    p += extra + 1;
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
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
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
        return false;
      }
      if (end - in <= extra || in[1] < lo || in[1] > hi) return false;
      for (int i = 2; i <= extra; ++i) {
        if (in[i] < 0x80 || in[i] > 0xBF) return false;
      }
      std::memcpy(p, in, static_cast<std::size_t>(extra) + 1);
      p += extra + 1;
      in += extra + 1;
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
  struct Batch {
    std::vector<Event> events;
    bool done = false;
    Status result;
  };
  std::mutex mutex;
  std::condition_variable work;    ///< the appender's thread waits here for events
  std::condition_variable landed;  ///< callers wait here for their batch to commit
  std::shared_ptr<Batch> open;
  bool stopping = false;
  std::thread thread;
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
      Status result = s.db.Write([&](db::Connection& c) -> Status {
        DZONG_TRY(AppendAll(c, batch->events, s.clock));
        return {};
      });
      lock.lock();
      batch->result = std::move(result);
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

Status Appender::Record(std::vector<Event> events) {
  if (events.empty()) return {};
  State& s = *state_;
  std::unique_lock lock(s.mutex);
  if (s.stopping) return Error(errc::kShuttingDown, "the audit log is closing");
  if (!s.open) s.open = std::make_shared<State::Batch>();
  std::shared_ptr<State::Batch> mine = s.open;
  for (Event& e : events) mine->events.push_back(std::move(e));
  s.work.notify_one();
  s.landed.wait(lock, [&] { return mine->done; });
  return mine->result;
}

// ---------------------------------------------------------------- checkpoints

namespace {

constexpr char kCheckpointColumns[] = "seq, at, hash, kid, signature, reason";

Checkpoint CheckpointFromRow(const db::Row& r) {
  Checkpoint cp;
  cp.seq = r.Int(0);
  cp.at = r.Text(1);
  cp.hash = r.Text(2);
  cp.signature.kid = r.Text(3);
  cp.signature.bytes = Base64UrlDecode(r.Text(4)).value_or(std::string());
  cp.reason = r.Text(5);
  return cp;
}

Result<std::optional<Checkpoint>> CheckpointAt(db::Connection& c, std::int64_t seq) {
  const db::Value key[] = {seq};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(std::string("SELECT ") + kCheckpointColumns +
                                                    " FROM audit_checkpoints WHERE seq = ?",
                                                key));
  if (rows.empty()) return std::optional<Checkpoint>();
  return std::optional<Checkpoint>(CheckpointFromRow(rows[0]));
}

/// The chain's start: after the last archive, from its signed checkpoint.
struct Anchor {
  std::int64_t first_seq = 1;
  std::string prev_hash = std::string(64, '0');
  std::optional<Checkpoint> checkpoint;
};

Result<Anchor> ReadAnchor(db::Connection& c) {
  Anchor anchor;
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query("SELECT MAX(last_seq) FROM audit_archives"));
  if (rows.empty() || rows[0].IsNull(0)) return anchor;
  const std::int64_t last = rows[0].Int(0);
  anchor.first_seq = last + 1;
  DZONG_ASSIGN_OR_RETURN(anchor.checkpoint, CheckpointAt(c, last));
  if (anchor.checkpoint) anchor.prev_hash = anchor.checkpoint->hash;
  return anchor;
}

json EventJson(const StoredEvent& e) {
  return {{"type", "event"},
          {"seq", e.seq},
          {"at", e.at},
          {"actor", e.event.actor},
          {"actor_organisation", Nullable(e.event.actor_organisation)},
          {"actor_role", e.event.actor_role},
          {"action", e.event.action},
          {"object_type", e.event.object_type},
          {"object_id", e.event.object_id},
          {"subject", Nullable(e.event.subject)},
          {"purpose", e.event.purpose},
          {"outcome", e.event.allowed ? "allowed" : "denied"},
          {"request_id", e.event.request_id},
          {"remote", e.event.remote},
          {"detail", e.event.detail},
          {"prev_hash", e.prev_hash},
          {"hash", e.hash}};
}

json CheckpointJson(const Checkpoint& cp) {
  return {{"type", "checkpoint"},
          {"seq", cp.seq},
          {"at", cp.at},
          {"hash", cp.hash},
          {"kid", cp.signature.kid},
          {"signature", Base64UrlEncode(cp.signature.bytes)},
          {"reason", cp.reason}};
}

}  // namespace

std::string CheckpointMessage(std::int64_t seq, std::string_view hash, std::string_view at) {
  return fmt::format("dzong-audit-checkpoint/1\n{}\n{}\n{}", seq, hash, at);
}

Result<Checkpoint> SignCheckpoint(db::Database& db, Signer& signer, const Clock& clock,
                                  std::optional<std::int64_t> seq, const std::string& reason) {
  // Events never change once written, so the hash can be read outside the
  // transaction that stores the checkpoint.
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, db.ReadValue<db::Rows>([&](db::Connection& c) {
                           if (seq) {
                             const db::Value key[] = {*seq};
                             return c.Query("SELECT seq, hash FROM audit_events WHERE seq = ?", key);
                           }
                           return c.Query("SELECT seq, hash FROM audit_head WHERE id = 1 AND seq > 0");
                         }));
  if (rows.empty()) {
    return Error("audit.empty", seq ? fmt::format("there is no audit event {}", *seq)
                                    : std::string("the audit log has no events to sign yet"));
  }
  Checkpoint cp;
  cp.seq = rows[0].Int(0);
  cp.hash = rows[0].Text(1);
  cp.reason = reason;
  // The key's period must have begun by the time the checkpoint states: make
  // the first key before taking the time, and sign again if a rotation came
  // in between.
  for (int attempt = 0; attempt < 3; ++attempt) {
    DZONG_ASSIGN_OR_RETURN(std::string kid, signer.ActiveKeyId());
    cp.at = FormatUtc(clock.Now());
    DZONG_ASSIGN_OR_RETURN(cp.signature, signer.Sign(CheckpointMessage(cp.seq, cp.hash, cp.at)));
    if (cp.signature.kid == kid) break;
  }
  return db.WriteValue<Checkpoint>([&](db::Connection& c) -> Result<Checkpoint> {
    DZONG_ASSIGN_OR_RETURN(std::optional<Checkpoint> existing, CheckpointAt(c, cp.seq));
    if (existing) return *existing;
    const db::Value row[] = {cp.seq, cp.at, cp.hash, cp.signature.kid, Base64UrlEncode(cp.signature.bytes),
                             cp.reason};
    DZONG_TRY(c.Execute(std::string("INSERT INTO audit_checkpoints (") + kCheckpointColumns +
                            ") VALUES (?, ?, ?, ?, ?, ?)",
                        row));
    return cp;
  });
}

// ---------------------------------------------------------------- verifying

ChainChecker::ChainChecker(std::vector<PublicKey> keys, std::int64_t first_seq, std::string prev_hash)
    : keys_(std::move(keys)), expected_seq_(first_seq), expected_prev_(std::move(prev_hash)) {
  report_.first_seq = first_seq;
  last_checkpoint_seq_ = first_seq - 1;
}

bool ChainChecker::Fail(std::int64_t seq, std::string kind, std::string detail) {
  report_.broken_at = seq;
  report_.kind = std::move(kind);
  report_.detail = std::move(detail);
  return false;
}

bool ChainChecker::Event(const EventView& e) {
  if (broken()) return false;
  if (pending_) {
    // Swapped events also swap their times; a forged one need not.
    if (e.at < pending_->at) {
      return Fail(pending_->seq, "reordered", fmt::format("event {} is out of order", pending_->seq));
    }
    return Fail(pending_->seq, "inserted",
                fmt::format("event {} does not follow from the event before it", pending_->seq));
  }
  if (e.seq > expected_seq_) {
    return Fail(expected_seq_, "deleted",
                e.seq == expected_seq_ + 1 ? fmt::format("event {} is missing", expected_seq_)
                                           : fmt::format("events {} to {} are missing", expected_seq_, e.seq - 1));
  }
  if (e.seq < expected_seq_) return Fail(e.seq, "inserted", fmt::format("event {} appears twice", e.seq));
  char hash[64];
  Sha256HexInto(CanonicalView(e), hash);
  if (e.hash != std::string_view(hash, sizeof hash)) {
    return Fail(e.seq, "edited", fmt::format("event {} was changed after it was written", e.seq));
  }
  if (e.prev_hash != expected_prev_) {
    pending_ = Pending{e.seq, std::string(e.at)};
    return true;
  }
  expected_prev_.assign(e.hash);
  ++expected_seq_;
  ++report_.events;
  report_.last_seq = e.seq;
  return true;
}

bool ChainChecker::CheckpointFor(const Checkpoint& cp) {
  if (broken()) return false;
  if (pending_ && pending_->seq == cp.seq) return true;  // the event's own verdict comes first
  if (cp.seq != report_.last_seq) return true;          // not in the part being checked
  if (cp.hash != expected_prev_) {
    return Fail(last_checkpoint_seq_ + 1, "edited",
                fmt::format("the chain from event {} to {} differs from what checkpoint {} signed: it was "
                            "rewritten",
                            last_checkpoint_seq_ + 1, cp.seq, cp.seq));
  }
  const SignatureCheck check = CheckSignature(keys_, cp.signature, CheckpointMessage(cp.seq, cp.hash, cp.at), cp.at);
  if (check != SignatureCheck::kValid) {
    return Fail(cp.seq, "bad signature",
                fmt::format("the checkpoint at event {} (key {}): {}", cp.seq, cp.signature.kid,
                            SignatureCheckName(check)));
  }
  ++report_.checkpoints;
  last_checkpoint_seq_ = cp.seq;
  return true;
}

VerifyReport ChainChecker::Finish(std::optional<std::int64_t> later_checkpoint_seq) {
  if (!broken() && pending_) {
    Fail(pending_->seq, "inserted", fmt::format("event {} does not follow from the event before it", pending_->seq));
  }
  if (!broken() && later_checkpoint_seq) {
    Fail(expected_seq_, "deleted",
         fmt::format("a checkpoint signed event {}, but the log ends at event {}", *later_checkpoint_seq,
                     expected_seq_ - 1));
  }
  report_.unsigned_tail = report_.last_seq > last_checkpoint_seq_ ? report_.last_seq - last_checkpoint_seq_ : 0;
  return report_;
}

Result<VerifyReport> Verify(db::Database& db, const std::vector<PublicKey>& keys,
                            const std::function<void(std::int64_t)>& progress) {
  DZONG_ASSIGN_OR_RETURN(Anchor anchor, db.ReadValue<Anchor>([](db::Connection& c) { return ReadAnchor(c); }));
  ChainChecker checker(keys, anchor.first_seq, anchor.prev_hash);
  if (anchor.first_seq > 1) {
    if (!anchor.checkpoint) {
      VerifyReport report;
      report.broken_at = 1;
      report.kind = "deleted";
      report.detail = fmt::format("events up to {} were removed without the signed checkpoint an archive leaves",
                                  anchor.first_seq - 1);
      return report;
    }
    const Checkpoint& cp = *anchor.checkpoint;
    const SignatureCheck check = CheckSignature(keys, cp.signature, CheckpointMessage(cp.seq, cp.hash, cp.at), cp.at);
    if (check != SignatureCheck::kValid) {
      VerifyReport report;
      report.broken_at = cp.seq;
      report.kind = "bad signature";
      report.detail = fmt::format("the archive checkpoint at event {}: {}", cp.seq, SignatureCheckName(check));
      return report;
    }
  }
  DZONG_ASSIGN_OR_RETURN(db::Rows checkpoint_rows, db.ReadValue<db::Rows>([&](db::Connection& c) {
                           const db::Value from[] = {anchor.first_seq};
                           return c.Query(std::string("SELECT ") + kCheckpointColumns +
                                              " FROM audit_checkpoints WHERE seq >= ? ORDER BY seq",
                                          from);
                         }));
  std::vector<Checkpoint> checkpoints;
  checkpoints.reserve(checkpoint_rows.size());
  for (const auto& r : checkpoint_rows) checkpoints.push_back(CheckpointFromRow(r));
  std::size_t next_checkpoint = 0;

  std::int64_t after = anchor.first_seq - 1;
  constexpr std::int64_t kPage = 100000;
  bool stopped = false;
  for (;;) {
    std::int64_t in_page = 0;
    // Rows are read in place, field by field, and never copied.
    DZONG_TRY(db.Read([&](db::Connection& c) -> Status {
      const db::Value params[] = {after, kPage};
      return c.QueryEach(std::string("SELECT ") + kEventColumns + " FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?",
                         params, [&](const db::RowView& r) {
                           EventView e;
                           e.seq = r.Int(0);
                           e.at = r.Text(1);
                           e.actor = r.Text(2);
                           if (!r.IsNull(3)) e.actor_organisation = r.Text(3);
                           e.action = r.Text(4);
                           e.object_type = r.Text(5);
                           e.object_id = r.Text(6);
                           if (!r.IsNull(7)) e.subject = r.Text(7);
                           e.purpose = r.Text(8);
                           e.allowed = r.Text(9) == "allowed";
                           e.request_id = r.Text(10);
                           e.remote = r.Text(11);
                           e.detail = r.Text(12);
                           e.prev_hash = r.Text(13);
                           e.hash = r.Text(14);
                           if (!r.IsNull(15)) e.actor_role = r.Text(15);
                           after = e.seq;
                           ++in_page;
                           if (!checker.Event(e)) return !(stopped = true);
                           while (next_checkpoint < checkpoints.size() && checkpoints[next_checkpoint].seq <= e.seq) {
                             if (!checker.CheckpointFor(checkpoints[next_checkpoint++])) return !(stopped = true);
                           }
                           return true;
                         });
    }));
    if (stopped) return checker.Finish();
    if (progress) progress(checker.report().events);
    if (in_page < kPage) break;
  }
  std::optional<std::int64_t> later;
  if (next_checkpoint < checkpoints.size()) later = checkpoints[next_checkpoint].seq;
  VerifyReport report = checker.Finish(later);
  if (report.broken_at) return report;
  // The head says how long the chain is: events past it were added behind
  // the log's back, and a head past the last event means the tail is gone.
  DZONG_ASSIGN_OR_RETURN(db::Rows head, db.ReadValue<db::Rows>([](db::Connection& c) {
                           return c.Query("SELECT seq, hash FROM audit_head WHERE id = 1");
                         }));
  if (!head.empty()) {
    const std::int64_t head_seq = head[0].Int(0);
    const std::int64_t last = report.events == 0 ? anchor.first_seq - 1 : report.last_seq;
    if (last > head_seq) {
      report.broken_at = head_seq + 1;
      report.kind = "inserted";
      report.detail = fmt::format("events after {} were added behind the log's back", head_seq);
    } else if (last < head_seq) {
      report.broken_at = last + 1;
      report.kind = "deleted";
      report.detail = fmt::format("the log ends at event {}, but {} were written", last, head_seq);
    }
  }
  return report;
}

// ---------------------------------------------------------------- export

Result<std::int64_t> Export(db::Database& db, Signer& signer, const Clock& clock, std::int64_t from, std::int64_t to, std::FILE* out) {
  if (from < 1 || to < from) {
    return Error(errc::kValidation, fmt::format("the range {} to {} is empty", from, to),
                 {{"to", "range", "--to must not come before --from"}});
  }
  DZONG_ASSIGN_OR_RETURN(db::Rows bounds, db.ReadValue<db::Rows>([&](db::Connection& c) {
                           const db::Value range[] = {from, to};
                           return c.Query("SELECT MIN(seq), MAX(seq) FROM audit_events WHERE seq >= ? AND seq <= ?",
                                          range);
                         }));
  if (bounds.empty() || bounds[0].IsNull(0)) {
    return Error("audit.empty", fmt::format("there are no audit events from {} to {}", from, to));
  }
  from = bounds[0].Int(0);
  to = bounds[0].Int(1);
  DZONG_TRY(SignCheckpoint(db, signer, clock, to, "export"));
  DZONG_ASSIGN_OR_RETURN(std::vector<PublicKey> published, signer.Published());
  DZONG_ASSIGN_OR_RETURN(db::Rows prev, db.ReadValue<db::Rows>([&](db::Connection& c) -> Result<db::Rows> {
                           const db::Value key[] = {from - 1};
                           DZONG_ASSIGN_OR_RETURN(db::Rows r, c.Query("SELECT hash FROM audit_events WHERE seq = ?", key));
                           if (!r.empty()) return r;
                           return c.Query("SELECT hash FROM audit_checkpoints WHERE seq = ?", key);
                         }));
  std::string prev_hash = std::string(64, '0');
  if (from > 1) {
    if (prev.empty()) return Error("audit.empty", fmt::format("the hash before event {} is no longer held", from));
    prev_hash = prev[0].Text(0);
  }
  const json header = {{"type", "header"},
                       {"format", "dzong-audit-export/1"},
                       {"from", from},
                       {"to", to},
                       {"prev_hash", prev_hash},
                       {"exported_at", FormatUtc(clock.Now())},
                       {"keys", json::parse(KeysToJwks(published))}};
  std::string line = Dump(header);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), out);

  DZONG_ASSIGN_OR_RETURN(db::Rows checkpoint_rows, db.ReadValue<db::Rows>([&](db::Connection& c) {
                           const db::Value range[] = {from, to};
                           return c.Query(std::string("SELECT ") + kCheckpointColumns +
                                              " FROM audit_checkpoints WHERE seq >= ? AND seq <= ? ORDER BY seq",
                                          range);
                         }));
  std::size_t next_checkpoint = 0;
  std::int64_t after = from - 1;
  std::int64_t written = 0;
  constexpr std::int64_t kPage = 20000;
  while (after < to) {
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, db.ReadValue<db::Rows>([&](db::Connection& c) {
                             const db::Value params[] = {after, to, kPage};
                             return c.Query(std::string("SELECT ") + kEventColumns +
                                                " FROM audit_events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                                            params);
                           }));
    if (rows.empty()) break;
    for (const auto& row : rows) {
      const StoredEvent e = EventFromRow(row);
      after = e.seq;
      line = Dump(EventJson(e));
      line += '\n';
      while (next_checkpoint < checkpoint_rows.size() && checkpoint_rows[next_checkpoint].Int(0) <= e.seq) {
        const Checkpoint cp = CheckpointFromRow(checkpoint_rows[next_checkpoint++]);
        if (cp.seq == e.seq) {
          line += Dump(CheckpointJson(cp));
          line += '\n';
        }
      }
      std::fwrite(line.data(), 1, line.size(), out);
      ++written;
    }
  }
  if (std::fflush(out) != 0) return Error(errc::kInternal, "the export could not be written");
  return written;
}

Result<VerifyReport> VerifyExport(std::FILE* in, const std::optional<std::vector<PublicKey>>& keys,
                                  const std::function<void(std::int64_t)>& progress) {
  const auto invalid = [](std::int64_t line, std::string problem) {
    return Error("audit.invalid_export", fmt::format("line {}: {}", line, problem));
  };
  std::string line;
  std::int64_t number = 0;
  const auto next_line = [&]() -> bool {
    line.clear();
    int ch = 0;
    while ((ch = std::fgetc(in)) != EOF && ch != '\n') line += static_cast<char>(ch);
    if (ch == EOF && line.empty()) return false;
    ++number;
    return true;
  };
  if (!next_line()) return invalid(1, "the file is empty");
  json header = json::parse(line, nullptr, false);
  if (!header.is_object() || header.value("format", "") != "dzong-audit-export/1") {
    return invalid(1, "not a Dzong audit export (no dzong-audit-export/1 header)");
  }
  std::vector<PublicKey> trusted;
  if (keys) {
    trusted = *keys;
  } else {
    DZONG_ASSIGN_OR_RETURN(trusted, KeysFromJwks(header.value("keys", json::object()).dump()));
  }
  const std::int64_t from = header.value("from", std::int64_t{0});
  const std::int64_t to = header.value("to", std::int64_t{0});
  ChainChecker checker(std::move(trusted), from, header.value("prev_hash", std::string()));
  const auto text = [](const json& j, const char* name) {
    return j.contains(name) && j[name].is_string() ? j[name].get<std::string>() : std::string();
  };
  std::optional<std::int64_t> last_checkpoint;
  while (next_line()) {
    if (line.empty()) continue;
    const json j = json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("seq") || !j["seq"].is_number_integer()) {
      return invalid(number, "not an event or checkpoint");
    }
    const std::string type = text(j, "type");
    if (type == "event") {
      StoredEvent e;
      e.seq = j["seq"].get<std::int64_t>();
      e.at = text(j, "at");
      e.event.actor = text(j, "actor");
      if (j.contains("actor_organisation") && j["actor_organisation"].is_string()) {
        e.event.actor_organisation = text(j, "actor_organisation");
      }
      e.event.actor_role = text(j, "actor_role");
      e.event.action = text(j, "action");
      e.event.object_type = text(j, "object_type");
      e.event.object_id = text(j, "object_id");
      if (j.contains("subject") && j["subject"].is_string()) e.event.subject = text(j, "subject");
      e.event.purpose = text(j, "purpose");
      e.event.allowed = text(j, "outcome") == "allowed";
      e.event.request_id = text(j, "request_id");
      e.event.remote = text(j, "remote");
      e.event.detail = text(j, "detail");
      e.prev_hash = text(j, "prev_hash");
      e.hash = text(j, "hash");
      if (!checker.Event(e)) return checker.Finish();
      if (progress && checker.report().events % 100000 == 0) progress(checker.report().events);
    } else if (type == "checkpoint") {
      Checkpoint cp;
      cp.seq = j["seq"].get<std::int64_t>();
      cp.at = text(j, "at");
      cp.hash = text(j, "hash");
      cp.signature.kid = text(j, "kid");
      cp.signature.bytes = Base64UrlDecode(text(j, "signature")).value_or(std::string());
      cp.reason = text(j, "reason");
      if (cp.seq > checker.report().last_seq && !checker.broken()) {
        // A checkpoint for an event the file does not hold (yet).
        last_checkpoint = cp.seq;
        continue;
      }
      if (!checker.CheckpointFor(cp)) return checker.Finish();
      last_checkpoint = cp.seq;
    } else {
      return invalid(number, fmt::format("unknown line type '{}'", type));
    }
  }
  if (progress) progress(checker.report().events);
  VerifyReport report = checker.Finish();
  if (report.broken_at) return report;
  if (report.events > 0 && report.last_seq < to) {
    report.broken_at = report.last_seq + 1;
    report.kind = "deleted";
    report.detail = fmt::format("the header promises events up to {}, the file ends at {}", to, report.last_seq);
  } else if (report.events > 0 && (!last_checkpoint || *last_checkpoint != report.last_seq)) {
    report.broken_at = report.last_seq;
    report.kind = "deleted";
    report.detail = fmt::format("the checkpoint that signed the end of the export (event {}) is missing", to);
  }
  return report;
}

Result<std::optional<std::int64_t>> FirstAtOrAfter(db::Database& db, const std::string& utc) {
  return db.ReadValue<std::optional<std::int64_t>>([&](db::Connection& c) -> Result<std::optional<std::int64_t>> {
    const db::Value at[] = {utc};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query("SELECT MIN(seq) FROM audit_events WHERE at >= ?", at));
    if (rows.empty() || rows[0].IsNull(0)) return std::optional<std::int64_t>();
    return std::optional<std::int64_t>(rows[0].Int(0));
  });
}

Result<std::optional<std::int64_t>> LastBefore(db::Database& db, const std::string& utc) {
  return db.ReadValue<std::optional<std::int64_t>>([&](db::Connection& c) -> Result<std::optional<std::int64_t>> {
    const db::Value at[] = {utc};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query("SELECT MAX(seq) FROM audit_events WHERE at < ?", at));
    if (rows.empty() || rows[0].IsNull(0)) return std::optional<std::int64_t>();
    return std::optional<std::int64_t>(rows[0].Int(0));
  });
}

// ---------------------------------------------------------------- archive

Result<ArchiveReport> Archive(db::Database& db, Signer& signer, const Clock& clock, const std::string& before,
                              const std::string& directory, const Actor& actor) {
  ArchiveReport report;
  DZONG_ASSIGN_OR_RETURN(std::optional<std::int64_t> last, LastBefore(db, before));
  if (!last) return report;
  DZONG_ASSIGN_OR_RETURN(Anchor anchor, db.ReadValue<Anchor>([](db::Connection& c) { return ReadAnchor(c); }));
  if (*last < anchor.first_seq) return report;
  // The checkpoint for the last event moved becomes the anchor of what stays.
  DZONG_TRY(SignCheckpoint(db, signer, clock, *last, "archive"));
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) return Error(errc::kInternal, fmt::format("cannot create {}: {}", directory, ec.message()));
  const std::string file =
      (std::filesystem::path(directory) / fmt::format("audit-{:012}-{:012}.ndjson", anchor.first_seq, *last)).string();
  const std::string partial = file + ".partial";
  std::FILE* out = std::fopen(partial.c_str(), "wb");
  if (!out) return Error(errc::kInternal, fmt::format("cannot write {}", partial));
  Result<std::int64_t> written = Export(db, signer, clock, anchor.first_seq, *last, out);
  const bool synced = written.ok() && fsync(fileno(out)) == 0;
  std::fclose(out);
  if (!written.ok() || !synced) {
    std::filesystem::remove(partial, ec);
    if (!written.ok()) return written.error();
    return Error(errc::kInternal, fmt::format("cannot write {} to disk", partial));
  }
  std::filesystem::rename(partial, file, ec);
  if (ec) return Error(errc::kInternal, fmt::format("cannot rename {}: {}", partial, ec.message()));
  std::string content;
  if (std::FILE* in = std::fopen(file.c_str(), "rb")) {
    char buffer[1 << 16];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, in)) > 0) content.append(buffer, n);
    std::fclose(in);
  }
  const std::string digest = Sha256Hex(content);
  report.events = *written;
  report.first_seq = anchor.first_seq;
  report.last_seq = *last;
  report.file = file;
  DZONG_TRY(db.Write([&](db::Connection& c) -> Status {
    const db::Value row[] = {report.first_seq, report.last_seq, report.events, file, digest,
                             FormatUtc(clock.Now()), actor.id};
    DZONG_TRY(c.Execute("INSERT INTO audit_archives (first_seq, last_seq, events, file, file_sha256, archived_at, "
                        "archived_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        row));
    const db::Value range[] = {report.first_seq, report.last_seq};
    DZONG_TRY(c.Execute("DELETE FROM audit_events WHERE seq >= ? AND seq <= ?", range));
    DZONG_TRY(Append(c,
                     For(actor, "audit.archived", "audit_archive", file,
                         Dump({{"first_seq", report.first_seq},
                               {"last_seq", report.last_seq},
                               {"events", report.events},
                               {"sha256", digest}})),
                     clock));
    return {};
  }));
  return report;
}

// ---------------------------------------------------------------- search

Result<SearchPage> Search(db::Database& db, const SearchQuery& q) {
  std::string sql = std::string("SELECT ") + kEventColumns + " FROM audit_events WHERE 1 = 1";
  std::vector<db::Value> params;
  const auto where = [&](const char* clause, db::Value v) {
    sql += clause;
    params.push_back(std::move(v));
  };
  if (q.actor) where(" AND actor = ?", *q.actor);
  if (q.not_actor) where(" AND actor <> ?", *q.not_actor);
  if (q.organisation) where(" AND actor_organisation = ?", *q.organisation);
  if (q.subject) where(" AND subject = ?", *q.subject);
  if (q.action) {
    if (q.action->ends_with('.')) {
      sql += fmt::format(" AND substr(action, 1, {}) = ?", q.action->size());
      params.emplace_back(*q.action);
    } else {
      where(" AND action = ?", *q.action);
    }
  }
  if (q.from) where(" AND at >= ?", *q.from);
  if (q.to) where(" AND at < ?", *q.to);
  if (q.allowed) where(" AND outcome = ?", std::string(*q.allowed ? "allowed" : "denied"));
  if (q.before) where(" AND seq < ?", *q.before);
  sql += " ORDER BY seq DESC LIMIT ?";
  const int limit = std::clamp(q.limit, 1, 10000);
  params.emplace_back(std::int64_t{limit + 1});
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, db.ReadValue<db::Rows>([&](db::Connection& c) { return c.Query(sql, params); }));
  SearchPage page;
  for (const auto& r : rows) {
    if (page.items.size() == static_cast<std::size_t>(limit)) {
      page.next_before = page.items.back().seq;
      break;
    }
    page.items.push_back(EventFromRow(r));
  }
  return page;
}

// ---------------------------------------------------------------- checkpointer

struct Checkpointer::State {
  State(db::Database& d, Signer& s, const Clock& c, std::int64_t e, std::chrono::milliseconds i,
        std::function<void(const Error&)> f)
      : db(d), signer(s), clock(c), every(e), interval(i), on_error(std::move(f)) {}
  db::Database& db;
  Signer& signer;
  const Clock& clock;
  std::int64_t every;
  std::chrono::milliseconds interval;
  std::function<void(const Error&)> on_error;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::thread thread;
};

Checkpointer::Checkpointer(db::Database& db, Signer& signer, const Clock& clock, std::int64_t every,
                           std::chrono::milliseconds interval, std::function<void(const Error&)> on_error)
    : state_(std::make_unique<State>(db, signer, clock, std::max<std::int64_t>(every, 1), interval,
                                     std::move(on_error))) {
  state_->thread = std::thread([this] {
    // Often enough that neither N events nor T seconds are overshot by much.
    const auto tick = std::clamp(state_->interval / 4, std::chrono::milliseconds(50), std::chrono::milliseconds(1000));
    std::unique_lock lock(state_->mutex);
    while (!state_->stopping) {
      state_->wake.wait_for(lock, tick, [this] { return state_->stopping; });
      if (state_->stopping) break;
      lock.unlock();
      Result<int> made = RunOnce();
      if (!made.ok() && state_->on_error) state_->on_error(made.error());
      lock.lock();
    }
  });
}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_all();
  if (state_->thread.joinable()) state_->thread.join();
}

Result<int> Checkpointer::RunOnce() {
  State& s = *state_;
  struct Position {
    std::int64_t head = 0;
    std::int64_t signed_up_to = 0;
    std::optional<std::string> oldest_unsigned_at;
  };
  DZONG_ASSIGN_OR_RETURN(Position at, s.db.ReadValue<Position>([](db::Connection& c) -> Result<Position> {
                           Position p;
                           DZONG_ASSIGN_OR_RETURN(db::Rows head, c.Query("SELECT seq FROM audit_head WHERE id = 1"));
                           if (!head.empty()) p.head = head[0].Int(0);
                           DZONG_ASSIGN_OR_RETURN(db::Rows last, c.Query("SELECT MAX(seq) FROM audit_checkpoints"));
                           if (!last.empty() && !last[0].IsNull(0)) p.signed_up_to = last[0].Int(0);
                           if (p.head > p.signed_up_to) {
                             const db::Value after[] = {p.signed_up_to};
                             DZONG_ASSIGN_OR_RETURN(
                                 db::Rows first,
                                 c.Query("SELECT at FROM audit_events WHERE seq > ? ORDER BY seq LIMIT 1", after));
                             if (!first.empty()) p.oldest_unsigned_at = first[0].Text(0);
                           }
                           return p;
                         }));
  int made = 0;
  // Every N events: a checkpoint at each multiple passed since the last one.
  while (at.head - at.signed_up_to >= s.every) {
    at.signed_up_to += s.every;
    DZONG_TRY(SignCheckpoint(s.db, s.signer, s.clock, at.signed_up_to, "periodic"));
    ++made;
  }
  // Every T: no event waits longer than that for a signature.
  if (at.head > at.signed_up_to && at.oldest_unsigned_at &&
      *at.oldest_unsigned_at <= FormatUtc(s.clock.Now() - s.interval)) {
    DZONG_TRY(SignCheckpoint(s.db, s.signer, s.clock, at.head, "periodic"));
    ++made;
  }
  return made;
}

}  // namespace dzong::audit
