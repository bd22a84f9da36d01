-- sealhook schema for PostgreSQL, version 2: delivery control (as SQLite's version 7).
--  - endpoints: enabled or disabled, with the reason of the last change of state ('gone',
--    'failing', 'manual'; '' when it never changed) and its time (Unix ms, 0 when none).
--    Written only by a change of state, never by an edit of the endpoint's other fields.
--  - endpoints may override the server's automatic disable (0: the server's), and
--    endpoint_health counts an endpoint's failed attempts since the last that succeeded.
--  - deliveries may be 'skipped': published while their endpoint was disabled, never queued.
ALTER TABLE endpoints ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE endpoints ADD COLUMN state_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN state_changed_at_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN disable_after_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN disable_min_attempts INTEGER NOT NULL DEFAULT 0;
-- A rate limit: deliveries per second in thousandths, and the burst; 0: none.
ALTER TABLE endpoints ADD COLUMN rate_milli_per_s BIGINT NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN rate_burst INTEGER NOT NULL DEFAULT 0;
CREATE TABLE endpoint_health (
  endpoint_id      TEXT COLLATE "C" PRIMARY KEY REFERENCES endpoints (id) ON DELETE CASCADE,
  failing_since_ms BIGINT NOT NULL,
  failed_attempts  INTEGER NOT NULL,
  last_failure_ms  BIGINT NOT NULL
);
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
  CHECK (status IN ('pending', 'delivered', 'dead', 'lost', 'skipped'));
