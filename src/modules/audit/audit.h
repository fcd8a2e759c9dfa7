#pragma once
// The tamper-evident audit log. Each event carries the hash of the one
// before it; the append runs inside the caller's transaction, so a change
// and its event commit together or not at all.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "base/clock.h"
#include "base/embedded.h"
#include "base/result.h"
#include "db/database.h"
#include "http/message.h"

namespace dzong::audit {

/// Who acts, as every audited service call names them.
struct Actor {
  std::string id = "system";
  std::optional<std::string> organisation;
  std::string request_id = "-";
  std::string remote = "-";
  std::string purpose;
};

struct Event {
  std::string actor;                     ///< username, system name, "anonymous" or "platform-operator"
  std::optional<std::string> actor_organisation;
  std::string action;                    ///< e.g. "organisations.update"
  std::string object_type;               ///< e.g. "organisation", "route"
  std::string object_id;                 ///< e.g. "DCRC", or the path
  std::optional<std::string> subject;    ///< the CID whose data was touched
  std::string purpose;                   ///< why; a case or application number where there is one
  bool allowed = true;
  std::string request_id;
  std::string remote;
  std::string detail = "{}";             ///< a small JSON object
};

struct StoredEvent {
  std::int64_t seq = 0;
  std::string at;
  Event event;
  std::string prev_hash;
  std::string hash;
};

/// The actor behind a request: its principal, organisation, request id,
/// address, and the purpose it gave in X-Purpose.
Actor ActorOf(const http::Request& request);

/// A stored event from a row of `SELECT <all columns> FROM audit_events`.
StoredEvent EventFromRow(const db::Row& row);
/// The column list that EventFromRow reads, in its order.
extern const char kEventColumns[];

/// The canonical encoding the hash covers: every field, in a fixed order,
/// as one JSON array.
std::string CanonicalEncoding(const StoredEvent& e);
/// SHA-256 (hex) of the canonical encoding.
std::string EventHash(const StoredEvent& e);

/// An event for `actor` doing `action` on an object.
Event For(const Actor& actor, std::string action, std::string object_type, std::string object_id,
          std::string detail = "{}");

/// Appends `event` to the chain inside the transaction of `c`. Returns its
/// sequence number.
Result<std::int64_t> Append(db::Connection& c, const Event& event, const Clock& clock);

/// What `Verify` found.
struct VerifyReport {
  std::int64_t events = 0;
  std::optional<std::int64_t> broken_at;  ///< the first sequence number that does not hold
  std::string kind;                       ///< edited, deleted, inserted, reordered
};

/// Recomputes the chain from the start; stops at the first break.
/// `progress` is called now and then with the events checked so far.
Result<VerifyReport> Verify(db::Database& db, const std::function<void(std::int64_t)>& progress = {});

std::span<const EmbeddedFile> Migrations();

}  // namespace dzong::audit
