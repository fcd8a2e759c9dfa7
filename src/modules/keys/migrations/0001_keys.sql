-- The platform's Ed25519 signing keys. One is active and signs; keys it
-- replaced stay published so that what they signed still verifies. The
-- secret half is sealed with the key-encryption key from the configuration
-- and is never stored in the clear.
CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  algorithm TEXT NOT NULL CHECK (algorithm = 'Ed25519'),
  public_key TEXT NOT NULL,
  sealed_secret TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'previous', 'retired')),
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  rotated_at TEXT,
  retired_at TEXT
);
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (status) WHERE status = 'active';
