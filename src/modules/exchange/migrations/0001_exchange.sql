-- Data-sharing agreements: a consumer organisation's system may read the
-- named fields of a registry for one purpose, under a legal basis, for a
-- period, once the custodian approves. Every decision is audited.
CREATE TABLE agreements (
  id INTEGER PRIMARY KEY,
  consumer TEXT NOT NULL REFERENCES organisations (code),
  subsystem TEXT NOT NULL,
  registry TEXT NOT NULL REFERENCES registries (code),
  fields TEXT NOT NULL,
  purpose_code TEXT NOT NULL,
  purpose_text TEXT NOT NULL,
  legal_basis TEXT NOT NULL CHECK (legal_basis IN ('law', 'consent', 'public_task')),
  legal_reference TEXT NOT NULL,
  valid_from TEXT NOT NULL,
  valid_to TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('requested', 'approved', 'refused', 'revoked')),
  requested_by TEXT NOT NULL,
  requested_at TEXT NOT NULL,
  decided_by TEXT,
  decided_at TEXT,
  decision_note TEXT
);
CREATE INDEX agreements_subsystem ON agreements (subsystem, registry);

-- Signature nonces seen on the exchange: a request signed once is answered once.
CREATE TABLE exchange_nonces (
  nonce TEXT PRIMARY KEY,
  client TEXT NOT NULL,
  seen_at TEXT NOT NULL
);
