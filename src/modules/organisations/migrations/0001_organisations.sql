-- Organisations of government: ministries, departments, agencies, dzongkhag
-- administrations, commissions, the CIRT and committees. The exchange identity
-- BT/GOV/<code> is derived from the code and not stored.
CREATE TABLE organisations (
  code TEXT PRIMARY KEY,
  name_en TEXT NOT NULL,
  name_dz TEXT,
  kind TEXT NOT NULL CHECK (kind IN ('ministry', 'department', 'agency', 'dzongkhag_administration',
                                     'commission', 'cirt', 'committee')),
  parent TEXT REFERENCES organisations (code),
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'dissolved')),
  version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX organisations_parent ON organisations (parent, code);
CREATE INDEX organisations_kind ON organisations (kind, code);

-- One row per version of an organisation: who changed what, when. Written in
-- the same transaction as the change itself.
CREATE TABLE organisation_history (
  code TEXT NOT NULL REFERENCES organisations (code),
  version INTEGER NOT NULL,
  changed_at TEXT NOT NULL,
  changed_by TEXT NOT NULL,
  change TEXT NOT NULL,
  PRIMARY KEY (code, version)
);
