-- Assisted digital: a community-centre operator applies on behalf of a
-- citizen who is not online. The draft's applicant is the citizen; the
-- operator who started it (and only they) works on it, and it keeps how
-- the citizen's consent was given and its evidence. The application keeps
-- who sent it (NULL: the applicant themselves) and at which centre.
ALTER TABLE form_drafts ADD COLUMN assisted_by TEXT;
ALTER TABLE form_drafts ADD COLUMN assisted_centre TEXT;
-- paper (a signed form, scanned), sms (a one-time code), refused (nothing pre-filled)
ALTER TABLE form_drafts ADD COLUMN consent_method TEXT CHECK (consent_method IN ('paper', 'sms', 'refused'));
-- paper: the scan's SHA-256; sms: the code's id and the mobile number it was sent to
ALTER TABLE form_drafts ADD COLUMN consent_evidence TEXT;
CREATE INDEX form_drafts_assisted ON form_drafts (assisted_by, created_at);

ALTER TABLE applications ADD COLUMN submitted_by TEXT;
ALTER TABLE applications ADD COLUMN submitted_centre TEXT;
ALTER TABLE applications ADD COLUMN consent_method TEXT;
ALTER TABLE applications ADD COLUMN consent_evidence TEXT;
CREATE INDEX applications_submitted_by ON applications (submitted_by, id);

-- One-time codes sent by SMS to a citizen's mobile so that they can give
-- consent to an operator: only the code's salted hash is kept; it expires
-- and allows a few attempts. Used once, by the draft it started.
CREATE TABLE assisted_consent_codes (
  id INTEGER PRIMARY KEY,
  operator TEXT NOT NULL,
  centre TEXT NOT NULL,
  citizen TEXT NOT NULL,
  service TEXT NOT NULL,
  mobile TEXT NOT NULL,
  salt TEXT NOT NULL,
  code_hash TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT
);
CREATE INDEX assisted_consent_codes_operator ON assisted_consent_codes (operator, created_at);
