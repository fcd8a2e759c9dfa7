-- The outbox identity created (notification_outbox) becomes the notify
-- module's: every notice is written in the transaction of the event that
-- causes it, then delivered by the sender. The new columns have defaults, so
-- an INSERT that names only the first columns still makes a pending notice.
--   channel:   account, organisation, sms or email (what `recipient` names)
--   language:  en or dz for sms and email; NULL for an account or an
--              organisation: each person's own language is read when it is
--              delivered
ALTER TABLE notification_outbox ADD COLUMN language TEXT;
ALTER TABLE notification_outbox ADD COLUMN application TEXT;
ALTER TABLE notification_outbox ADD COLUMN status TEXT NOT NULL DEFAULT 'pending'
  CHECK (status IN ('pending', 'sent', 'failed'));
ALTER TABLE notification_outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notification_outbox ADD COLUMN next_attempt_at TEXT;
ALTER TABLE notification_outbox ADD COLUMN last_error TEXT;
ALTER TABLE notification_outbox ADD COLUMN failed_at TEXT;
CREATE INDEX notification_outbox_due ON notification_outbox (status, next_attempt_at);
CREATE INDEX notification_outbox_recipient ON notification_outbox (channel, recipient, id);
CREATE INDEX notification_outbox_application ON notification_outbox (application, status);

-- One notice reaches one or more addresses: an account's email and mobile,
-- each active officer of an organisation. Each is delivered and retried on
-- its own; the notice is sent when all are, failed when none is left to try
-- and one failed. Made by the sender when it first takes the notice up, from
-- the contact details on record then.
CREATE TABLE notification_deliveries (
  id INTEGER PRIMARY KEY,
  notice_id BIGINT NOT NULL REFERENCES notification_outbox (id),
  account TEXT,
  medium TEXT NOT NULL CHECK (medium IN ('email', 'sms')),
  address TEXT NOT NULL,
  language TEXT NOT NULL CHECK (language IN ('en', 'dz')),
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT,
  last_error TEXT,
  sent_at TEXT,
  UNIQUE (notice_id, medium, address)
);

-- How a person with an account is reached outside the platform, and the
-- language they read their messages in (else the account's, else English).
-- The mobile number is kept as +975 and eight digits.
CREATE TABLE contact_details (
  username TEXT PRIMARY KEY,
  email TEXT,
  mobile TEXT,
  language TEXT CHECK (language IN ('en', 'dz')),
  updated_at TEXT NOT NULL
);
