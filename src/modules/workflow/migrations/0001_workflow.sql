-- The workflow's side of an application: its version (every change bumps
-- it, so two officers cannot both decide), the fee it owes, the SLA clock
-- (due date in working days; paused while the applicant is asked for more
-- information), who works it, and how far it has been escalated.
ALTER TABLE applications ADD COLUMN row_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE applications ADD COLUMN fee_chhertum INTEGER NOT NULL DEFAULT 0;
ALTER TABLE applications ADD COLUMN awaiting_payment INTEGER NOT NULL DEFAULT 0;
ALTER TABLE applications ADD COLUMN due_on TEXT;
ALTER TABLE applications ADD COLUMN paused_since TEXT;
ALTER TABLE applications ADD COLUMN assignee TEXT;
ALTER TABLE applications ADD COLUMN escalation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE applications ADD COLUMN closed_at TEXT;
ALTER TABLE applications ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
ALTER TABLE applications ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';
CREATE INDEX applications_queue ON applications (owner, closed_at, due_on);

-- Every change of every application, with when and who: processing times,
-- SLA compliance and channel uptake are computed from these.
CREATE TABLE application_events (
  id INTEGER PRIMARY KEY,
  application_id BIGINT NOT NULL REFERENCES applications (id),
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  transition TEXT NOT NULL,
  actor TEXT NOT NULL,
  actor_role TEXT NOT NULL,
  organisation TEXT NOT NULL,
  comment TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX application_events_application ON application_events (application_id, id);
CREATE INDEX application_events_at ON application_events (at);

-- Approvals given toward a transition that needs several people; cleared
-- when the application leaves the state.
CREATE TABLE application_approvals (
  application_id BIGINT NOT NULL REFERENCES applications (id),
  transition TEXT NOT NULL,
  approver TEXT NOT NULL,
  at TEXT NOT NULL,
  PRIMARY KEY (application_id, transition, approver)
);

-- Requests for more information: the SLA clock stops while one is open.
CREATE TABLE information_requests (
  id INTEGER PRIMARY KEY,
  application_id BIGINT NOT NULL REFERENCES applications (id),
  asked_by TEXT NOT NULL,
  asked_at TEXT NOT NULL,
  question TEXT NOT NULL,
  answered_at TEXT,
  answer TEXT
);
CREATE INDEX information_requests_application ON information_requests (application_id, id);

-- Work the workflow's actions leave for others: a certificate to issue, a
-- register update for the custodian's stewards.
CREATE TABLE workflow_tasks (
  id INTEGER PRIMARY KEY,
  application_id BIGINT NOT NULL REFERENCES applications (id),
  kind TEXT NOT NULL CHECK (kind IN ('issue_certificate', 'update_registry')),
  registry TEXT,
  organisation TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'done', 'declined')),
  created_at TEXT NOT NULL,
  done_by TEXT,
  done_at TEXT,
  note TEXT
);
CREATE INDEX workflow_tasks_open ON workflow_tasks (organisation, kind, status, id);

-- The working calendar: national public holidays (weekends are configured).
CREATE TABLE public_holidays (
  day TEXT PRIMARY KEY,
  name_en TEXT NOT NULL,
  name_dz TEXT NOT NULL
);
