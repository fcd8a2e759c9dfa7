-- Certificates the platform issues when an application reaches an issuing
-- state. A row is never deleted: revocation and expiry are statuses, and
-- what was signed (the canonical payload) is kept byte for byte with the
-- key id and signature, so a certificate verifies as it was issued.
CREATE TABLE certificates (
  id TEXT PRIMARY KEY,                 -- issuer-type-random, e.g. DCRC-BIRTH-7F3K9Q2MXA
  application_id INTEGER NOT NULL UNIQUE REFERENCES applications (id),
  application_reference TEXT NOT NULL,
  service TEXT NOT NULL,
  service_version INTEGER NOT NULL,   -- the template's version is the service's
  template TEXT NOT NULL,
  issuer TEXT NOT NULL,               -- the issuing organisation's code
  holder TEXT NOT NULL,               -- the holder's CID
  payload TEXT NOT NULL,              -- RFC 8785 canonical JSON, as signed
  issued_at TEXT NOT NULL,
  expires_at TEXT,
  kid TEXT NOT NULL,
  signature TEXT NOT NULL,            -- base64url Ed25519 over payload
  status_list INTEGER NOT NULL,
  status_index INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('valid', 'revoked')),
  revoked_at TEXT,
  revoked_by TEXT,
  revocation_reason TEXT,
  UNIQUE (status_list, status_index)
);
CREATE INDEX certificates_holder ON certificates (holder, issued_at);
CREATE INDEX certificates_issuer ON certificates (issuer, issued_at);
