-- sealhook schema, version 2: cheaper delivery records (the journal writes one per delivery).
--  - deliveries are clustered on (tenant_id, id): listing a tenant's deliveries newest first
--    reads the table itself, so the separate (tenant_id, id) index goes;
--  - the status index only holds deliveries that are not delivered (pending and dead: the
--    ones people look for); a delivery recorded as delivered touches one B-tree;
--  - attempts and dead letters lose their foreign key to deliveries (whose id alone is no
--    longer a unique key): the store deletes them with their tenant, and checking the key
--    cost a lookup per attempt.
-- Tables are rebuilt and their rows copied; children first, so no foreign key is left dangling.

CREATE TABLE deliveries_v2 (
  tenant_id          TEXT NOT NULL,
  id                 TEXT NOT NULL,  -- msg_..., time-sortable: newest first = id DESC
  endpoint_id        TEXT NOT NULL,
  event_id           TEXT NOT NULL,
  event_type         TEXT NOT NULL,
  status             TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts           INTEGER NOT NULL,
  created_at_ms      INTEGER NOT NULL,
  updated_at_ms      INTEGER NOT NULL,
  next_attempt_at_ms INTEGER NOT NULL,
  last_error         TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
INSERT INTO deliveries_v2 (tenant_id, id, endpoint_id, event_id, event_type, status, attempts,
                           created_at_ms, updated_at_ms, next_attempt_at_ms, last_error)
  SELECT tenant_id, id, endpoint_id, event_id, event_type, status, attempts, created_at_ms,
         updated_at_ms, next_attempt_at_ms, last_error
  FROM deliveries;

CREATE TABLE attempts_v2 (
  delivery_id TEXT NOT NULL,
  number      INTEGER NOT NULL,  -- 1-based
  at_ms       INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  status_code INTEGER NOT NULL,  -- 0 when no HTTP answer
  error       TEXT NOT NULL,
  PRIMARY KEY (delivery_id, number)
) WITHOUT ROWID;
INSERT INTO attempts_v2 SELECT delivery_id, number, at_ms, duration_ms, status_code, error
  FROM attempts;

CREATE TABLE dead_letters_v2 (
  delivery_id TEXT PRIMARY KEY,
  body        BLOB NOT NULL
);
INSERT INTO dead_letters_v2 SELECT delivery_id, body FROM dead_letters;

DROP TABLE dead_letters;
DROP TABLE attempts;
DROP TABLE deliveries;
ALTER TABLE deliveries_v2 RENAME TO deliveries;
ALTER TABLE attempts_v2 RENAME TO attempts;
ALTER TABLE dead_letters_v2 RENAME TO dead_letters;

-- Queries that filter on a status other than 'delivered' repeat this WHERE term so SQLite
-- may use the index; 'delivered' pages are read from the table in key order.
CREATE INDEX deliveries_open ON deliveries (tenant_id, status, id DESC)
  WHERE status <> 'delivered';
