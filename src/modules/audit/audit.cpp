#include "modules/audit/audit.h"

#include <algorithm>

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

db::Value NullableValue(const std::optional<std::string>& v) {
  if (!v) return nullptr;
  return *v;
}

}  // namespace

const char kEventColumns[] =
    "seq, at, actor, actor_organisation, action, object_type, object_id, subject, purpose, outcome, request_id, "
    "remote, detail, prev_hash, hash";

Actor ActorOf(const http::Request& request) {
  Actor actor;
  actor.id = request.principal.id;
  actor.organisation = request.principal.organisation;
  actor.request_id = request.request_id;
  actor.remote = request.remote_address;
  actor.purpose = std::string(request.HeaderValue("X-Purpose"));
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
  return e;
}

std::span<const EmbeddedFile> Migrations() { return AuditMigrationFiles(); }

Event For(const Actor& actor, std::string action, std::string object_type, std::string object_id,
          std::string detail) {
  Event e;
  e.actor = actor.id;
  e.actor_organisation = actor.organisation;
  e.action = std::move(action);
  e.object_type = std::move(object_type);
  e.object_id = std::move(object_id);
  e.purpose = actor.purpose;
  e.request_id = actor.request_id;
  e.remote = actor.remote;
  e.detail = std::move(detail);
  return e;
}

std::string CanonicalEncoding(const StoredEvent& e) {
  const json fields = json::array({e.seq, e.at, e.event.actor, Nullable(e.event.actor_organisation), e.event.action,
                                   e.event.object_type, e.event.object_id, Nullable(e.event.subject), e.event.purpose,
                                   e.event.allowed ? "allowed" : "denied", e.event.request_id, e.event.remote,
                                   e.event.detail, e.prev_hash});
  return fields.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string EventHash(const StoredEvent& e) { return Sha256Hex(CanonicalEncoding(e)); }

Result<std::int64_t> Append(db::Connection& c, const Event& event, const Clock& clock) {
  // Taking the next number updates the head row first: on PostgreSQL that
  // row lock orders concurrent appends until commit; on SQLite the single
  // writer already does.
  DZONG_ASSIGN_OR_RETURN(db::Rows head,
                         c.Query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash"));
  if (head.empty()) return Error(errc::kInternal, "the audit log has no head; run dzong migrate");
  StoredEvent e;
  e.seq = head[0].Int(0);
  e.at = FormatUtc(clock.Now());
  e.event = event;
  e.prev_hash = head[0].Text(1);
  e.hash = EventHash(e);
  const db::Value row[] = {e.seq,
                           e.at,
                           event.actor,
                           NullableValue(event.actor_organisation),
                           event.action,
                           event.object_type,
                           event.object_id,
                           NullableValue(event.subject),
                           event.purpose,
                           std::string(event.allowed ? "allowed" : "denied"),
                           event.request_id,
                           event.remote,
                           event.detail,
                           e.prev_hash,
                           e.hash};
  DZONG_TRY(c.Execute(std::string("INSERT INTO audit_events (") + kEventColumns +
                          ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      row));
  const db::Value update[] = {e.hash};
  DZONG_TRY(c.Execute("UPDATE audit_head SET hash = ? WHERE id = 1", update));
  return e.seq;
}

Result<VerifyReport> Verify(db::Database& db, const std::function<void(std::int64_t)>& progress) {
  VerifyReport report;
  std::string expected_prev(64, '0');
  std::int64_t expected_seq = 1;
  std::int64_t after = 0;
  constexpr std::int64_t kPage = 10000;
  for (;;) {
    // One row more than the page, to look one event ahead at a break.
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, db.ReadValue<db::Rows>([&](db::Connection& c) {
                             const db::Value params[] = {after, kPage + 1};
                             return c.Query(std::string("SELECT ") + kEventColumns +
                                                " FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?",
                                            params);
                           }));
    const std::size_t take = std::min<std::size_t>(rows.size(), kPage);
    for (std::size_t i = 0; i < take; ++i) {
      const StoredEvent e = EventFromRow(rows[i]);
      const auto fail = [&](std::string kind) {
        report.broken_at = e.seq;
        report.kind = std::move(kind);
        return report;
      };
      if (e.seq > expected_seq) return fail("deleted");
      if (EventHash(e) != e.hash) return fail("edited");
      if (e.prev_hash != expected_prev) {
        // Swapped events also swap their times; a forged one need not.
        if (i + 1 < rows.size() && EventFromRow(rows[i + 1]).at < e.at) return fail("reordered");
        return fail("inserted");
      }
      expected_prev = e.hash;
      ++expected_seq;
      ++report.events;
      after = e.seq;
    }
    if (progress) progress(report.events);
    if (rows.size() <= static_cast<std::size_t>(kPage)) break;
  }
  // The head says how long the chain is: events past it were added behind
  // the log's back, and a head past the last event means the tail is gone.
  DZONG_ASSIGN_OR_RETURN(db::Rows head, db.ReadValue<db::Rows>([](db::Connection& c) {
                           return c.Query("SELECT seq, hash FROM audit_head WHERE id = 1");
                         }));
  if (!head.empty()) {
    const std::int64_t head_seq = head[0].Int(0);
    if (report.events > head_seq) {
      report.broken_at = head_seq + 1;
      report.kind = "inserted";
    } else if (report.events < head_seq || head[0].Text(1) != expected_prev) {
      report.broken_at = report.events + 1;
      report.kind = "deleted";
    }
  }
  return report;
}

}  // namespace dzong::audit
