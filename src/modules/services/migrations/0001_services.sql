-- Services as data. A service is a code owned by one organisation; its
-- versions hold the definition (JSON, checked against
-- docs/schemas/service-definition.schema.json). At most one version is a
-- draft, the latest; a published version never changes again, and the one
-- it replaces is marked superseded. Applications keep the version number
-- they were made against.
CREATE TABLE services (
  code TEXT PRIMARY KEY,
  owner TEXT NOT NULL REFERENCES organisations (code),
  status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'retired')),
  published_version INTEGER,
  latest_version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX services_owner ON services (owner, code);

CREATE TABLE service_versions (
  service TEXT NOT NULL REFERENCES services (code),
  version INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'superseded')),
  definition TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  published_by TEXT,
  published_at TEXT,
  PRIMARY KEY (service, version)
);

-- Why a published version asks the applicant for data a registry already
-- holds: recorded at publication, reviewed by the ministry.
CREATE TABLE service_justifications (
  id INTEGER PRIMARY KEY,
  service TEXT NOT NULL,
  version INTEGER NOT NULL,
  field TEXT NOT NULL,
  registry_field TEXT NOT NULL,
  reason TEXT NOT NULL,
  recorded_by TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  review TEXT NOT NULL CHECK (review IN ('pending', 'accepted', 'questioned')),
  reviewed_by TEXT,
  reviewed_at TEXT,
  review_note TEXT,
  FOREIGN KEY (service, version) REFERENCES service_versions (service, version)
);
CREATE INDEX service_justifications_review ON service_justifications (review, id);
