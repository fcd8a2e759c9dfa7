-- The form runner: drafts in the making, the applications submitted from
-- them (each on the service version its draft was started on), a counter
-- per owner and year for their references, and the files uploaded for them.
-- A draft's id is random (see FormService::Start), never the next rowid.
CREATE TABLE form_drafts (
  id INTEGER PRIMARY KEY,
  service TEXT NOT NULL,
  version INTEGER NOT NULL,
  applicant TEXT NOT NULL,
  consent INTEGER NOT NULL CHECK (consent IN (0, 1)),
  answers TEXT NOT NULL,
  prefilled TEXT NOT NULL,
  pages_done TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX form_drafts_applicant ON form_drafts (applicant, created_at);
CREATE INDEX form_drafts_expiry ON form_drafts (expires_at);

CREATE TABLE applications (
  id INTEGER PRIMARY KEY,
  reference TEXT NOT NULL UNIQUE,
  service TEXT NOT NULL,
  service_version INTEGER NOT NULL,
  owner TEXT NOT NULL,
  applicant TEXT NOT NULL,
  channel TEXT NOT NULL CHECK (channel IN ('web', 'community_centre', 'api')),
  answers TEXT NOT NULL,
  state TEXT NOT NULL,
  submitted_at TEXT NOT NULL,
  draft_id BIGINT NOT NULL UNIQUE  -- random, up to 2^53
);
CREATE INDEX applications_applicant ON applications (applicant, id);
CREATE INDEX applications_service ON applications (service, service_version);

-- The last sequence number given for an owner's references in a year.
CREATE TABLE application_sequences (
  owner TEXT NOT NULL,
  year INTEGER NOT NULL,
  last_number INTEGER NOT NULL,
  PRIMARY KEY (owner, year)
);

CREATE TABLE uploads (
  id INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  media_type TEXT NOT NULL CHECK (media_type IN ('application/pdf', 'image/jpeg', 'image/png')),
  original_name TEXT NOT NULL,
  uploaded_by TEXT NOT NULL,
  uploaded_at TEXT NOT NULL
);
CREATE UNIQUE INDEX uploads_by ON uploads (sha256, uploaded_by);
