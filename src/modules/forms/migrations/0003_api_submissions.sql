-- Applications sent through the API carry the caller's idempotency key: a
-- retry with the same key and request gets the application the first made.
CREATE TABLE application_requests (
  applicant TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  application_id BIGINT NOT NULL REFERENCES applications (id),
  created_at TEXT NOT NULL,
  PRIMARY KEY (applicant, idempotency_key)
);
