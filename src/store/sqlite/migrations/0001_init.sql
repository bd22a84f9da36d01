-- sealhook schema, version 1.
-- Catalog rows belong to a tenant and go with it (ON DELETE CASCADE). Deliveries carry
-- tenant_id without a foreign key: they are written in batches off the hot path and outlive
-- their endpoint as history; delete_tenant removes them explicitly.

CREATE TABLE tenants (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);

CREATE TABLE api_keys (
  id            TEXT PRIMARY KEY,
  tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  hash_hex      TEXT NOT NULL UNIQUE,  -- SHA-256 of the token; the token itself is never kept
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id);

CREATE TABLE public_keys (
  tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  kid           TEXT NOT NULL,  -- RFC 7638 thumbprint
  alg           TEXT NOT NULL,
  jwk_json      TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, kid)
);

CREATE TABLE subscriptions (
  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  position  INTEGER NOT NULL,
  pattern   TEXT NOT NULL,
  PRIMARY KEY (tenant_id, position)
);

CREATE TABLE endpoints (
  id            TEXT PRIMARY KEY,
  tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  url           TEXT NOT NULL,
  secret        TEXT NOT NULL,
  ordering      TEXT NOT NULL CHECK (ordering IN ('unordered', 'ordered')),
  max_attempts  INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX endpoints_by_tenant ON endpoints (tenant_id);

-- An endpoint's event type filter, in the order given; no rows = every subscribed type.
CREATE TABLE endpoint_event_types (
  endpoint_id TEXT NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
  position    INTEGER NOT NULL,
  event_type  TEXT NOT NULL,
  PRIMARY KEY (endpoint_id, position)
);

CREATE TABLE deliveries (
  id                 TEXT PRIMARY KEY,  -- msg_..., time-sortable: newest first = id DESC
  tenant_id          TEXT NOT NULL,
  endpoint_id        TEXT NOT NULL,
  event_id           TEXT NOT NULL,
  event_type         TEXT NOT NULL,
  status             TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts           INTEGER NOT NULL,
  created_at_ms      INTEGER NOT NULL,
  updated_at_ms      INTEGER NOT NULL,
  next_attempt_at_ms INTEGER NOT NULL,
  last_error         TEXT NOT NULL
) WITHOUT ROWID;  -- clustered on id: one B-tree less to write per delivery
CREATE INDEX deliveries_by_tenant ON deliveries (tenant_id, id DESC);
CREATE INDEX deliveries_by_tenant_status ON deliveries (tenant_id, status, id DESC);
-- (No index on status alone: the DLQ size is the row count of dead_letters.)

CREATE TABLE attempts (
  delivery_id TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  number      INTEGER NOT NULL,  -- 1-based
  at_ms       INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  status_code INTEGER NOT NULL,  -- 0 when no HTTP answer
  error       TEXT NOT NULL,
  PRIMARY KEY (delivery_id, number)
) WITHOUT ROWID;

-- The ciphertext of a dead delivery, kept so it can be replayed.
CREATE TABLE dead_letters (
  delivery_id TEXT PRIMARY KEY REFERENCES deliveries (id) ON DELETE CASCADE,
  body        BLOB NOT NULL
);

CREATE TABLE idempotency (
  scope         TEXT NOT NULL,  -- "admin" or a tenant id
  key           TEXT NOT NULL,
  response_json TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_by_age ON idempotency (created_at_ms);
