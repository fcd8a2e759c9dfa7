-- Signed checkpoints of the chain head, archives of old events, the role
-- an actor acted in (for the citizen's data tracker), and indexes for the
-- searches of auditors. The events table is rebuilt with `seq` as its row key
-- (the rowid, on SQLite), so that appending and verifying
-- walk one b-tree instead of an index and a table.
CREATE TABLE audit_events_keyed (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  actor_organisation TEXT,
  action TEXT NOT NULL,
  object_type TEXT NOT NULL,
  object_id TEXT NOT NULL,
  subject TEXT,
  purpose TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('allowed', 'denied')),
  request_id TEXT NOT NULL,
  remote TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  actor_role TEXT
);
INSERT INTO audit_events_keyed (seq, at, actor, actor_organisation, action, object_type, object_id, subject, purpose,
                                outcome, request_id, remote, detail, prev_hash, hash)
  SELECT seq, at, actor, actor_organisation, action, object_type, object_id, subject, purpose, outcome, request_id,
         remote, detail, prev_hash, hash
  FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_keyed RENAME TO audit_events;
CREATE INDEX audit_events_subject ON audit_events (subject, seq);
CREATE INDEX audit_events_actor ON audit_events (actor, seq);
CREATE INDEX audit_events_organisation ON audit_events (actor_organisation, seq);

CREATE TABLE audit_checkpoints (
  seq BIGINT PRIMARY KEY,
  at TEXT NOT NULL,
  hash TEXT NOT NULL,
  kid TEXT NOT NULL,
  signature TEXT NOT NULL,
  reason TEXT NOT NULL CHECK (reason IN ('periodic', 'export', 'archive', 'requested'))
);

-- Events moved out to an export file. The last one archived keeps its
-- checkpoint here, and the chain that remains starts from its hash.
CREATE TABLE audit_archives (
  id INTEGER PRIMARY KEY,
  first_seq BIGINT NOT NULL,
  last_seq BIGINT NOT NULL UNIQUE,
  events BIGINT NOT NULL,
  file TEXT NOT NULL,
  file_sha256 TEXT NOT NULL,
  archived_at TEXT NOT NULL,
  archived_by TEXT NOT NULL
);
