-- Registries: each dataset has one custodian organisation (the single source
-- of truth). A registry has a versioned schema; each record keeps every
-- version it has had, with who changed it, when and why, so a record can be
-- read as it was on any date.
CREATE TABLE registries (
  code TEXT PRIMARY KEY,
  custodian TEXT NOT NULL REFERENCES organisations (code),
  title_en TEXT NOT NULL,
  title_dz TEXT NOT NULL,
  key_field TEXT NOT NULL,
  schema_version INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'retired')),
  created_at TEXT NOT NULL
);

CREATE TABLE registry_schemas (
  registry TEXT NOT NULL REFERENCES registries (code),
  version INTEGER NOT NULL,
  fields TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (registry, version)
);

-- One row per version of a record; the current one has no valid_to.
CREATE TABLE registry_records (
  registry TEXT NOT NULL REFERENCES registries (code),
  record_key TEXT NOT NULL,
  version INTEGER NOT NULL,
  schema_version INTEGER NOT NULL,
  data TEXT NOT NULL,
  retired INTEGER NOT NULL DEFAULT 0,
  valid_from TEXT NOT NULL,
  valid_to TEXT,
  changed_by TEXT NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY (registry, record_key, version)
);
CREATE INDEX registry_records_current ON registry_records (registry, record_key, valid_to);
