-- Consent artefacts: a citizen lets one organisation read named fields of a
-- registry for one purpose, for a period. The artefact is signed by the
-- platform and never changes; revoking it records when, and a change of mind
-- is a new artefact.
CREATE TABLE consents (
  id INTEGER PRIMARY KEY,
  subject TEXT NOT NULL,
  consumer TEXT NOT NULL REFERENCES organisations (code),
  registry TEXT NOT NULL REFERENCES registries (code),
  purpose_code TEXT NOT NULL,
  fields TEXT NOT NULL,
  valid_from TEXT NOT NULL,
  valid_to TEXT NOT NULL,
  artefact TEXT NOT NULL,
  kid TEXT NOT NULL,
  signature TEXT NOT NULL,
  given_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE INDEX consents_subject ON consents (subject, consumer, registry);
