-- sealhook schema, version 5: signing secret rotation with an overlap.
--  - previous_secret: the secret a rotation replaced ('' when none); deliveries are signed with
--    it as well as with the current secret until previous_secret_expires_at_ms (Unix ms).
--    Endpoints from before this version have none.
ALTER TABLE endpoints ADD COLUMN previous_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN previous_secret_expires_at_ms INTEGER NOT NULL DEFAULT 0;
