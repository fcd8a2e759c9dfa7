-- Signed checkpoints of the chain head, archives of old events, the role
-- an actor acted in (for the citizen's data tracker), and indexes for the
-- auditors' searches.
ALTER TABLE audit_events ADD COLUMN actor_role TEXT;
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
