-- The audit log: every action on the platform and every read of personal
-- data, chained by SHA-256 so that an edit, deletion, insertion or
-- reordering shows. `seq` is assigned by the append, in commit order.
CREATE TABLE audit_events (
  seq BIGINT PRIMARY KEY,
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
  hash TEXT NOT NULL
);
CREATE INDEX audit_events_subject ON audit_events (subject, seq);

-- The head of the chain: one row, updated by every append in the same
-- transaction, so that concurrent appends take their turn.
CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
