-- People and systems that use the platform, what they may do, and how they
-- prove who they are. Secrets are stored only as hashes.
CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('citizen', 'official', 'system')),
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  organisation TEXT REFERENCES organisations (code),
  password_hash TEXT,
  totp_secret TEXT,
  totp_last_step INTEGER NOT NULL DEFAULT 0,
  public_key TEXT,
  language TEXT,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  locked_until TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX accounts_organisation ON accounts (organisation, id);

-- Roles are data; each grants a set of permissions.
CREATE TABLE roles (
  code TEXT PRIMARY KEY,
  name_en TEXT NOT NULL,
  name_dz TEXT NOT NULL,
  needs_approval INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE role_permissions (
  role TEXT NOT NULL REFERENCES roles (code),
  permission TEXT NOT NULL,
  PRIMARY KEY (role, permission)
);

-- A role held by an account within one organisation. A grant of a role that
-- needs approval stays pending until a second administrator approves it.
CREATE TABLE role_grants (
  id INTEGER PRIMARY KEY,
  account_id BIGINT NOT NULL REFERENCES accounts (id),
  role TEXT NOT NULL REFERENCES roles (code),
  organisation TEXT REFERENCES organisations (code),
  status TEXT NOT NULL CHECK (status IN ('active', 'pending', 'revoked')),
  granted_by TEXT NOT NULL,
  approved_by TEXT,
  created_at TEXT NOT NULL,
  decided_at TEXT
);
CREATE INDEX role_grants_account ON role_grants (account_id, status);

-- Browser sessions, shared by every server process. The cookie carries a
-- random id; only its SHA-256 is stored.
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  account_id BIGINT NOT NULL REFERENCES accounts (id),
  csrf_token TEXT NOT NULL,
  mfa_done INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  remote TEXT NOT NULL,
  user_agent TEXT NOT NULL,
  ended_at TEXT
);
CREATE INDEX sessions_account ON sessions (account_id);

-- Bearer tokens for the JSON API, with scopes and an expiry; revocable.
CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY,
  account_id BIGINT NOT NULL REFERENCES accounts (id),
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  scopes TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  revoked_at TEXT
);

CREATE TABLE password_resets (
  token_hash TEXT PRIMARY KEY,
  account_id BIGINT NOT NULL REFERENCES accounts (id),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT
);

-- Messages waiting for the notify module to send them.
CREATE TABLE notification_outbox (
  id INTEGER PRIMARY KEY,
  channel TEXT NOT NULL,
  recipient TEXT NOT NULL,
  template TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL,
  sent_at TEXT
);

-- Sign-in attempts in a sliding window, per account and per client address,
-- shared by every server process.
CREATE TABLE sign_in_throttle (
  subject TEXT PRIMARY KEY,
  window_start TEXT NOT NULL,
  attempts INTEGER NOT NULL
);

CREATE TABLE security_events (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  event TEXT NOT NULL,
  account_id BIGINT,
  remote TEXT NOT NULL,
  detail TEXT NOT NULL
);
