// Export files, archiving old events behind a signed anchor, and the
// auditors' search.
#include <algorithm>
#include <filesystem>

#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "modules/audit/audit.h"
#include "modules/audit/internal.h"

namespace dzong::audit {

using namespace internal;

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

}  // namespace dzong::audit
