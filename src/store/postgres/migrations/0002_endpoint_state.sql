-- sealhook schema for PostgreSQL, version 2: delivery control (as SQLite's version 7).
--  - endpoints: enabled or disabled, with the reason of the last change of state ('gone',
--    'failing', 'manual'; '' when it never changed) and its time (Unix ms, 0 when none).
--    Written only by a change of state, never by an edit of the endpoint's other fields.
--  - deliveries may be 'skipped': published while their endpoint was disabled, never queued.
ALTER TABLE endpoints ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE endpoints ADD COLUMN state_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN state_changed_at_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
  CHECK (status IN ('pending', 'delivered', 'dead', 'lost', 'skipped'));
