// Signed checkpoints of the chain, verifying it, and the thread that signs
// a checkpoint every N events or T seconds.
#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "modules/audit/audit.h"
#include "modules/audit/internal.h"

namespace dzong::audit {

namespace internal {

const char kCheckpointColumns[] = "seq, at, hash, kid, signature, reason";

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

}  // namespace internal

using namespace internal;

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
