-- Correction requests: a person asks the custodian of a register to correct
-- a field of their record. The register's stewards either change the record
-- (a new version, with its own reason) and mark the request done, or
-- decline it with a reason; the person sees the answer.
CREATE TABLE registry_corrections (
  id INTEGER PRIMARY KEY,
  registry TEXT NOT NULL REFERENCES registries (code),
  record_key TEXT NOT NULL,
  subject TEXT NOT NULL,
  field TEXT NOT NULL,
  description TEXT NOT NULL,
  proposed_value TEXT,
  status TEXT NOT NULL CHECK (status IN ('open', 'done', 'declined')),
  asked_at TEXT NOT NULL,
  answered_by TEXT,
  answered_at TEXT,
  answer TEXT,
  record_version INTEGER
);
CREATE INDEX registry_corrections_subject ON registry_corrections (subject, id);
CREATE INDEX registry_corrections_open ON registry_corrections (registry, status, id);
