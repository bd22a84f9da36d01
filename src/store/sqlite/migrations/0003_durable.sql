-- sealhook schema, version 3: what a restart needs.
--  - meta: small facts kept across restarts (the admin token's hash, the queue last used);
--  - deliveries may be 'lost': accepted, then lost with a volatile (memory) queue's process;
--  - idempotency keys are reserved before fan-out: an empty response_json means "in progress".
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE deliveries_v3 (
  tenant_id          TEXT NOT NULL,
  id                 TEXT NOT NULL,
  endpoint_id        TEXT NOT NULL,
  event_id           TEXT NOT NULL,
  event_type         TEXT NOT NULL,
  status             TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead', 'lost')),
  attempts           INTEGER NOT NULL,
  created_at_ms      INTEGER NOT NULL,
  updated_at_ms      INTEGER NOT NULL,
  next_attempt_at_ms INTEGER NOT NULL,
  last_error         TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
INSERT INTO deliveries_v3 SELECT tenant_id, id, endpoint_id, event_id, event_type, status,
  attempts, created_at_ms, updated_at_ms, next_attempt_at_ms, last_error FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_v3 RENAME TO deliveries;
CREATE INDEX deliveries_open ON deliveries (tenant_id, status, id DESC)
  WHERE status <> 'delivered';
