-- sealhook schema for PostgreSQL, version 1: the shape SQLite reached in its six migrations
-- (see ../../sqlite/migrations/), written at once.
-- Text keys compare byte by byte (COLLATE "C"), as SQLite's do: ids are time-sortable, and
-- pages, cursors and recovery order by them, whatever the database's default collation.
-- Catalog rows belong to a tenant and go with it (ON DELETE CASCADE). Deliveries carry
-- tenant_id without a foreign key: they are written in batches off the hot path and outlive
-- their endpoint as history; delete_tenant removes them explicitly.

CREATE TABLE tenants (
  id            TEXT COLLATE "C" PRIMARY KEY,
  name          TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL
);

CREATE TABLE api_keys (
  id            TEXT COLLATE "C" PRIMARY KEY,
  tenant_id     TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  hash_hex      TEXT NOT NULL UNIQUE,  -- SHA-256 of the token; the token itself is never kept
  created_at_ms BIGINT NOT NULL
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id);

-- seq: the insertion order (SQLite's rowid), the tie-break among keys of one millisecond.
CREATE TABLE public_keys (
  tenant_id     TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  kid           TEXT COLLATE "C" NOT NULL,  -- RFC 7638 thumbprint
  alg           TEXT NOT NULL,
  jwk_json      TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  seq           BIGINT GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (tenant_id, kid)
);

CREATE TABLE subscriptions (
  tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  position  INTEGER NOT NULL,
  pattern   TEXT NOT NULL,
  PRIMARY KEY (tenant_id, position)
);

CREATE TABLE endpoints (
  id                            TEXT COLLATE "C" PRIMARY KEY,
  tenant_id                     TEXT COLLATE "C" NOT NULL
                                  REFERENCES tenants (id) ON DELETE CASCADE,
  url                           TEXT NOT NULL,
  secret                        TEXT NOT NULL,
  ordering                      TEXT NOT NULL CHECK (ordering IN ('unordered', 'ordered')),
  max_attempts                  INTEGER NOT NULL,
  created_at_ms                 BIGINT NOT NULL,
  -- The secret a rotation replaced ('' when none), signing too until its expiry (Unix ms).
  previous_secret               TEXT NOT NULL DEFAULT '',
  previous_secret_expires_at_ms BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX endpoints_by_tenant ON endpoints (tenant_id);

-- An endpoint's event type filter, in the order given; no rows = every subscribed type.
CREATE TABLE endpoint_event_types (
  endpoint_id TEXT COLLATE "C" NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
  position    INTEGER NOT NULL,
  event_type  TEXT NOT NULL,
  PRIMARY KEY (endpoint_id, position)
);

-- Keyed by (tenant, id): a tenant's deliveries newest first are a backward scan of the key.
CREATE TABLE deliveries (
  tenant_id          TEXT COLLATE "C" NOT NULL,
  id                 TEXT COLLATE "C" NOT NULL,  -- msg_..., time-sortable: newest = id DESC
  endpoint_id        TEXT NOT NULL,
  event_id           TEXT NOT NULL,
  event_type         TEXT NOT NULL,
  status             TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead', 'lost')),
  attempts           INTEGER NOT NULL,
  created_at_ms      BIGINT NOT NULL,
  updated_at_ms      BIGINT NOT NULL,
  next_attempt_at_ms BIGINT NOT NULL,
  last_error         TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
-- Only the deliveries people look for (pending, dead, lost): one recorded as delivered writes
-- one B-tree. Queries on those statuses repeat the WHERE term so the planner may use it.
CREATE INDEX deliveries_open ON deliveries (tenant_id, status, id DESC)
  WHERE status <> 'delivered';

-- No foreign key to deliveries (whose id alone is not a key): the store deletes attempts and
-- dead letters with their tenant, and checking the key would cost a lookup per attempt.
CREATE TABLE attempts (
  delivery_id TEXT COLLATE "C" NOT NULL,
  number      INTEGER NOT NULL,  -- 1-based
  at_ms       BIGINT NOT NULL,
  duration_ms BIGINT NOT NULL,
  status_code INTEGER NOT NULL,  -- 0 when no HTTP answer
  error       TEXT NOT NULL,
  PRIMARY KEY (delivery_id, number)
);

-- The ciphertext of a dead delivery, kept so it can be replayed.
CREATE TABLE dead_letters (
  delivery_id TEXT COLLATE "C" PRIMARY KEY,
  body        BYTEA NOT NULL
);

-- Reserved before a publish fans out: an empty response_json means "in progress".
-- request_hash: SHA-256 (hex) of the publish that reserved the key ('' = unknown, any matches).
CREATE TABLE idempotency (
  scope         TEXT COLLATE "C" NOT NULL,  -- "admin" or a tenant id
  key           TEXT COLLATE "C" NOT NULL,
  response_json TEXT NOT NULL,
  request_hash  TEXT NOT NULL DEFAULT '',
  created_at_ms BIGINT NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_by_age ON idempotency (created_at_ms);

-- Small facts kept across restarts (the admin token's hash, the queue last used).
CREATE TABLE meta (
  key   TEXT COLLATE "C" PRIMARY KEY,
  value TEXT NOT NULL
);

-- The catalog change feed.
--  - catalog_version: one row, bumped by every catalog write (a trigger per table, so every
--    write path bumps it in its own transaction, whoever wrote it). Its row lock orders
--    concurrent catalog writes, so versions commit in order.
--  - catalog_changes: which tenant each version changed, so a process reloads only those
--    tenants. Bounded: rows more than 20,000 versions old are pruned by the same trigger.
--  - every bump NOTIFYs sealhook_catalog (delivered at commit, to listeners of this database):
--    other processes reload at once instead of at their next periodic check.
CREATE TABLE catalog_version (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  version BIGINT NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);

CREATE TABLE catalog_changes (
  version   BIGINT PRIMARY KEY,
  tenant_id TEXT COLLATE "C" NOT NULL
);

-- TG_ARGV[0]: the column holding the tenant's id in the table written.
CREATE FUNCTION catalog_feed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v BIGINT;
  tenant TEXT;
BEGIN
  IF TG_OP = 'DELETE' THEN
    tenant := to_jsonb(OLD) ->> TG_ARGV[0];
  ELSE
    tenant := to_jsonb(NEW) ->> TG_ARGV[0];
  END IF;
  UPDATE catalog_version SET version = version + 1 WHERE id = 1 RETURNING version INTO v;
  INSERT INTO catalog_changes (version, tenant_id) VALUES (v, tenant);
  DELETE FROM catalog_changes WHERE version <= v - 20000;
  PERFORM pg_notify('sealhook_catalog', v::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER tenants_feed AFTER INSERT OR UPDATE OR DELETE ON tenants
  FOR EACH ROW EXECUTE FUNCTION catalog_feed('id');
CREATE TRIGGER api_keys_feed AFTER INSERT OR UPDATE OR DELETE ON api_keys
  FOR EACH ROW EXECUTE FUNCTION catalog_feed('tenant_id');
CREATE TRIGGER public_keys_feed AFTER INSERT OR UPDATE OR DELETE ON public_keys
  FOR EACH ROW EXECUTE FUNCTION catalog_feed('tenant_id');
CREATE TRIGGER subscriptions_feed AFTER INSERT OR UPDATE OR DELETE ON subscriptions
  FOR EACH ROW EXECUTE FUNCTION catalog_feed('tenant_id');
CREATE TRIGGER endpoints_feed AFTER INSERT OR UPDATE OR DELETE ON endpoints
  FOR EACH ROW EXECUTE FUNCTION catalog_feed('tenant_id');
