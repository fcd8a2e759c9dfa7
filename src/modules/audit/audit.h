#pragma once
// The tamper-evident audit log. Each event carries the hash of the one
// before it; the append runs inside the caller's transaction, so a change
// and its event commit together or not at all.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/embedded.h"
#include "base/result.h"
#include "base/signing.h"
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
  std::string role;  ///< how they act: role codes of an official, "citizen", "system", "operator"
  /// The call this actor is making, when it came through the route table:
  /// a domain transaction can record it together with its change.
  struct Call {
    std::string action;  ///< the route's audit event
    std::string route;   ///< "POST /api/v1/organisations"
    std::string path;
    std::string query;
    int* recorded_status = nullptr;  ///< the request's mark that the call is recorded
  };
  std::optional<Call> call;
};

struct Event {
  std::string actor;                     ///< username, system name, "anonymous" or "platform-operator"
  std::optional<std::string> actor_organisation;
  std::string actor_role;                ///< role codes, space-separated; empty for the platform itself
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

/// A stored event's fields as views into a row being scanned: verifying
/// reads them without copying.
struct EventView {
  std::int64_t seq = 0;
  std::string_view at;
  std::string_view actor;
  std::optional<std::string_view> actor_organisation;
  std::string_view actor_role;
  std::string_view action;
  std::string_view object_type;
  std::string_view object_id;
  std::optional<std::string_view> subject;
  std::string_view purpose;
  bool allowed = true;
  std::string_view request_id;
  std::string_view remote;
  std::string_view detail;
  std::string_view prev_hash;
  std::string_view hash;
};
EventView ViewOf(const StoredEvent& e);

/// The actor behind a request: its principal, organisation, request id,
/// address, and the purpose it gave in X-Purpose.
Actor ActorOf(const http::Request& request);

/// A stored event from a row of `SELECT <all columns> FROM audit_events`.
StoredEvent EventFromRow(const db::Row& row);
/// The column list that EventFromRow reads, in its order.
extern const char kEventColumns[];

/// The canonical encoding the hash covers: every field, in a fixed order,
/// as one compact JSON array (UTF-8, no spaces). The actor's role, added
/// later, is the fifteenth element, present only when it is not empty, so
/// that events written before it still verify.
std::string CanonicalEncoding(const StoredEvent& e);
/// The same, appended to `out`.
void AppendCanonicalEncoding(std::string& out, const EventView& e);
/// The same in a buffer of this thread's, valid until its next call.
std::string_view CanonicalView(const EventView& e);
/// SHA-256 (hex) of the canonical encoding.
std::string EventHash(const StoredEvent& e);

/// An event for `actor` doing `action` on an object.
Event For(const Actor& actor, std::string action, std::string object_type, std::string object_id,
          std::string detail = "{}");

/// Appends `event` to the chain inside the transaction of `c`. Returns its
/// sequence number.
Result<std::int64_t> Append(db::Connection& c, const Event& event, const Clock& clock);
/// The route table's record of a call: who, which route, the path and query,
/// the status answered, and whether access was refused.
Event CallEvent(const Actor& actor, const std::string& action, const std::string& route, const std::string& path,
                const std::string& query, int status, bool denied);

/// Appends a domain event and, when the actor came through the route table,
/// the record of their call answered with `status`, in the same
/// transaction: the change, its event and the call commit together.
Result<std::int64_t> AppendWithCall(db::Connection& c, const Event& event, const Actor& actor, int status,
                                    const Clock& clock);

/// Appends several events in order, with one head update and multi-row
/// inserts. Returns the last sequence number.
Result<std::int64_t> AppendAll(db::Connection& c, std::span<const Event> events, const Clock& clock);

/// Group commit for events that stand alone (the route table's records of
/// calls): concurrent callers' events share one transaction and one fsync.
/// Record returns once the events are durable. `with` runs in the same
/// transaction first (in a savepoint of its own): when it fails, the
/// caller's events are dropped with it and the caller gets its error, while
/// the other callers' events commit.
class Appender {
 public:
  Appender(db::Database& db, const Clock& clock);
  ~Appender();
  Status Record(std::vector<Event> events, std::function<Status(db::Connection&)> with = {});

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// A signed statement of the chain's head: "event `seq` has hash `hash`",
/// signed at `at` with the platform's key.
struct Checkpoint {
  std::int64_t seq = 0;
  std::string at;
  std::string hash;
  Signature signature;
  std::string reason;  ///< periodic, export, archive, requested
};

/// The bytes a checkpoint's signature covers.
std::string CheckpointMessage(std::int64_t seq, std::string_view hash, std::string_view at);

/// Signs a checkpoint for event `seq` (the head when nullopt) and stores
/// it; an existing checkpoint for that event is returned as it is.
/// Errors: audit.empty when there is no such event.
Result<Checkpoint> SignCheckpoint(db::Database& db, Signer& signer, const Clock& clock,
                                  std::optional<std::int64_t> seq, const std::string& reason);

/// What a verification found.
struct VerifyReport {
  std::int64_t events = 0;
  std::int64_t checkpoints = 0;           ///< signatures checked
  std::int64_t first_seq = 0;             ///< the first event checked (after any archived ones)
  std::int64_t last_seq = 0;
  std::int64_t unsigned_tail = 0;         ///< events after the last checkpoint
  std::optional<std::int64_t> broken_at;  ///< the first sequence number that does not hold
  std::string kind;                       ///< edited, deleted, inserted, reordered, bad signature
  std::string detail;                     ///< a sentence for the person reading the report
};

/// Checks a chain fed to it in order: events, each followed by its
/// checkpoint when it has one. Used on the database and on export files.
class ChainChecker {
 public:
  ChainChecker(std::vector<PublicKey> keys, std::int64_t first_seq, std::string prev_hash);
  /// False once the chain is broken; report() then says where.
  bool Event(const StoredEvent& e) { return Event(ViewOf(e)); }
  bool Event(const EventView& e);
  bool CheckpointFor(const Checkpoint& cp);
  /// Ends the walk: a pending break is decided, and checkpoints past the end
  /// (given as `later_checkpoint_seq`) mean events were cut off.
  VerifyReport Finish(std::optional<std::int64_t> later_checkpoint_seq = std::nullopt);
  const VerifyReport& report() const { return report_; }
  bool broken() const { return report_.broken_at.has_value(); }

 private:
  bool Fail(std::int64_t seq, std::string kind, std::string detail);

  std::vector<PublicKey> keys_;
  VerifyReport report_;
  std::int64_t expected_seq_;
  std::string expected_prev_;
  std::int64_t last_checkpoint_seq_ = 0;
  struct Pending {
    std::int64_t seq;
    std::string at;
  };
  std::optional<Pending> pending_;  ///< an event whose prev_hash did not match
};

/// Recomputes the stored chain from its start (or from the signed anchor an
/// archive left) and checks every checkpoint's signature against `keys`.
/// `progress` is called now and then with the events checked so far.
Result<VerifyReport> Verify(db::Database& db, const std::vector<PublicKey>& keys,
                            const std::function<void(std::int64_t)>& progress = {});

/// Writes events `from`..`to` as newline-delimited JSON: a header with the
/// published keys and the hash before `from`, then each event followed by
/// its checkpoint. A checkpoint for `to` is signed first when there is
/// none, so the file verifies on its own. Returns the number of events.
Result<std::int64_t> Export(db::Database& db, Signer& signer, const Clock& clock, std::int64_t from, std::int64_t to, std::FILE* out);

/// Verifies an export file, against `keys` when given, else against the keys
/// its header carries. Errors: audit.invalid_export for a file that is not one.
Result<VerifyReport> VerifyExport(std::FILE* in, const std::optional<std::vector<PublicKey>>& keys,
                                  const std::function<void(std::int64_t)>& progress = {});

/// The first event at or after a UTC time, and the last one before it
/// (for --from/--to given as dates). nullopt when there is none.
Result<std::optional<std::int64_t>> FirstAtOrAfter(db::Database& db, const std::string& utc);
Result<std::optional<std::int64_t>> LastBefore(db::Database& db, const std::string& utc);

/// Moves events older than `before` (UTC) to an export file in `directory`,
/// leaving a signed checkpoint for the last one moved, which anchors the
/// chain that remains. Returns the number of events archived (0: none old enough).
struct ArchiveReport {
  std::int64_t events = 0;
  std::int64_t first_seq = 0;
  std::int64_t last_seq = 0;
  std::string file;
};
Result<ArchiveReport> Archive(db::Database& db, Signer& signer, const Clock& clock, const std::string& before,
                              const std::string& directory, const Actor& actor);

/// A search of the log: every filter given must hold. Newest first, paged
/// by sequence number (`before`).
struct SearchQuery {
  std::optional<std::string> actor;
  std::optional<std::string> organisation;
  std::optional<std::string> subject;
  std::optional<std::string> action;     ///< exact, or a prefix ending in '.' ("identity.")
  std::optional<std::string> from;       ///< UTC, inclusive
  std::optional<std::string> to;         ///< UTC, exclusive
  std::optional<bool> allowed;
  std::optional<std::string> not_actor;  ///< leave out what this actor did (a citizen's own acts)
  std::optional<std::int64_t> before;    ///< cursor: events with a smaller seq
  int limit = 25;
};
struct SearchPage {
  std::vector<StoredEvent> items;
  std::optional<std::int64_t> next_before;
};
Result<SearchPage> Search(db::Database& db, const SearchQuery& query);

/// Checkpoints every `every` events or `interval`, whichever comes first,
/// on a thread of its own until destroyed.
class Checkpointer {
 public:
  Checkpointer(db::Database& db, Signer& signer, const Clock& clock, std::int64_t every,
               std::chrono::milliseconds interval, std::function<void(const Error&)> on_error);
  ~Checkpointer();
  /// One round now: what the thread does when it wakes. Returns the
  /// checkpoints made.
  Result<int> RunOnce();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::span<const EmbeddedFile> Migrations();

}  // namespace dzong::audit
