-- The exchange's message log: every answered read, as evidence for both
-- agencies and for the citizen. Metadata always; the answer's body too when
-- the agreement asks for it. Each message carries the hash of the one before
-- it, as the audit log does, and the head row orders appends.
ALTER TABLE agreements ADD COLUMN log_bodies INTEGER NOT NULL DEFAULT 0;

CREATE TABLE exchange_messages (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  client TEXT NOT NULL,
  consumer TEXT NOT NULL,
  registry TEXT NOT NULL,
  record_key TEXT NOT NULL,
  purpose TEXT NOT NULL,
  agreement_id BIGINT NOT NULL,
  request_id TEXT NOT NULL,
  nonce TEXT NOT NULL,
  request_signature TEXT NOT NULL,
  response_digest TEXT NOT NULL,
  response_signature TEXT NOT NULL,
  status INTEGER NOT NULL,
  body TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX exchange_messages_client ON exchange_messages (client, seq);

CREATE TABLE exchange_message_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO exchange_message_head (id, seq, hash)
  VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- The nonces of answered requests are in the message log; the server keeps
-- those within a signature's lifetime in memory.
DROP TABLE exchange_nonces;
