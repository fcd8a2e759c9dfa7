-- Payments of application fees, in integer chhertum. A payment's row holds
-- its current status; every change of it is a row of payment_events (and an
-- audit event) written in the same transaction. At most one payment of an
-- application is open (initiated or pending) or succeeded at a time; the
-- service checks it inside its write transaction.
CREATE TABLE payments (
  id INTEGER PRIMARY KEY,
  reference TEXT NOT NULL UNIQUE,
  application_id BIGINT NOT NULL,
  application_reference TEXT NOT NULL,
  owner TEXT NOT NULL,
  payer TEXT NOT NULL,
  amount BIGINT NOT NULL CHECK (amount > 0),
  status TEXT NOT NULL CHECK (status IN ('initiated', 'pending', 'succeeded', 'failed', 'cancelled', 'refunded')),
  gateway TEXT NOT NULL,
  gateway_transaction TEXT,
  redirect_url TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  settled_at TEXT,
  refunded_at TEXT,
  refunded_by TEXT,
  refund_reason TEXT
);
CREATE INDEX payments_application ON payments (application_id, id);
CREATE INDEX payments_owner_created ON payments (owner, created_at);
CREATE INDEX payments_gateway_transaction ON payments (gateway, gateway_transaction);

CREATE TABLE payment_events (
  id INTEGER PRIMARY KEY,
  payment_id BIGINT NOT NULL,
  at TEXT NOT NULL,
  from_status TEXT,
  to_status TEXT NOT NULL,
  source TEXT NOT NULL,  -- start, callback, status_query, refund
  actor TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX payment_events_payment ON payment_events (payment_id, id);

-- The last number given for payment references of an owner in a year.
CREATE TABLE payment_sequences (
  owner TEXT NOT NULL,
  year INTEGER NOT NULL,
  last_number INTEGER NOT NULL,
  PRIMARY KEY (owner, year)
);

-- The built-in simulated gateway's own ledger: what a real gateway keeps on
-- its side. The platform reads it only through the Gateway interface.
CREATE TABLE payment_sim_transactions (
  token TEXT PRIMARY KEY,
  transaction_id TEXT NOT NULL UNIQUE,
  payment_reference TEXT NOT NULL,
  merchant_code TEXT NOT NULL,
  merchant_name TEXT NOT NULL,
  amount BIGINT NOT NULL,
  description TEXT NOT NULL,
  callback_url TEXT NOT NULL,
  return_url TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'pending', 'succeeded', 'failed', 'cancelled', 'refunded')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
