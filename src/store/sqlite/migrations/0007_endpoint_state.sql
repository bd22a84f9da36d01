-- sealhook schema, version 7: delivery control.
--  - endpoints: enabled or disabled (`disabled` 0 or 1), with the reason of the last change of
--    state ('gone', 'failing', 'manual'; '' when it never changed) and its time (Unix ms, 0 when
--    none). Written only by a change of state, never by an edit of the endpoint's other fields,
--    so that neither overwrites the other when two processes make them at once.
--  - endpoints may override the server's automatic disable (--disable-after, --disable-min-
--    attempts): 0 takes the server's.
--  - endpoint_health: an endpoint whose every attempt failed since failing_since_ms, with the
--    count of those failed attempts. No row: its last attempt succeeded (or it never failed).
--    Apart from endpoints, so that counting failures never bumps the catalog version.
--  - deliveries may be 'skipped': published while their endpoint was disabled, recorded and
--    never queued.
ALTER TABLE endpoints ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN state_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN state_changed_at_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN disable_after_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN disable_min_attempts INTEGER NOT NULL DEFAULT 0;
-- A rate limit: deliveries per second in thousandths, and the burst; 0: none.
ALTER TABLE endpoints ADD COLUMN rate_milli_per_s INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN rate_burst INTEGER NOT NULL DEFAULT 0;

CREATE TABLE endpoint_health (
  endpoint_id      TEXT PRIMARY KEY REFERENCES endpoints (id) ON DELETE CASCADE,
  failing_since_ms INTEGER NOT NULL,
  failed_attempts  INTEGER NOT NULL,
  last_failure_ms  INTEGER NOT NULL
);

CREATE TABLE deliveries_v7 (
  tenant_id          TEXT NOT NULL,
  id                 TEXT NOT NULL,
  endpoint_id        TEXT NOT NULL,
  event_id           TEXT NOT NULL,
  event_type         TEXT NOT NULL,
  status             TEXT NOT NULL
                     CHECK (status IN ('pending', 'delivered', 'dead', 'lost', 'skipped')),
  attempts           INTEGER NOT NULL,
  created_at_ms      INTEGER NOT NULL,
  updated_at_ms      INTEGER NOT NULL,
  next_attempt_at_ms INTEGER NOT NULL,
  last_error         TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
INSERT INTO deliveries_v7 SELECT tenant_id, id, endpoint_id, event_id, event_type, status,
  attempts, created_at_ms, updated_at_ms, next_attempt_at_ms, last_error FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_v7 RENAME TO deliveries;
CREATE INDEX deliveries_open ON deliveries (tenant_id, status, id DESC)
  WHERE status <> 'delivered';
