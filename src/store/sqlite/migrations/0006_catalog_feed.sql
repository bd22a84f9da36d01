-- sealhook schema, version 6: the catalog change feed.
--  - catalog_version: one row, bumped by every catalog write (a trigger per table, so every
--    write path bumps it in its own transaction, whoever wrote it). Other processes read it
--    cheaply to learn that their in-memory catalog is behind.
--  - catalog_changes: which tenant each version changed, so a process reloads only those
--    tenants. Bounded: rows more than 20,000 versions old are pruned by the same triggers (a
--    process that far behind reloads the whole catalog).
CREATE TABLE catalog_version (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);

CREATE TABLE catalog_changes (
  version   INTEGER PRIMARY KEY,
  tenant_id TEXT NOT NULL
);

CREATE TRIGGER tenants_insert_feed AFTER INSERT ON tenants BEGIN
  UPDATE catalog_version SET version = version + 1 WHERE id = 1;
  INSERT INTO catalog_changes (version, tenant_id)
    SELECT version, NEW.id FROM catalog_version WHERE id = 1;
  DELETE FROM catalog_changes
    WHERE version <= (SELECT version FROM catalog_version WHERE id = 1) - 20000;
END;

CREATE TRIGGER tenants_update_feed AFTER UPDATE ON tenants BEGIN
  UPDATE catalog_version SET version = version + 1 WHERE id = 1;
  INSERT INTO catalog_changes (version, tenant_id)
    SELECT version, NEW.id FROM catalog_version WHERE id = 1;
  DELETE FROM catalog_changes
    WHERE version <= (SELECT version FROM catalog_version WHERE id = 1) - 20000;
END;

CREATE TRIGGER tenants_delete_feed AFTER DELETE ON tenants BEGIN
  UPDATE catalog_version SET version = version + 1 WHERE id = 1;
  INSERT INTO catalog_changes (version, tenant_id)
    SELECT version, OLD.id FROM catalog_version WHERE id = 1;
  DELETE FROM catalog_changes
    WHERE version <= (SELECT version FROM catalog_version WHERE id = 1) - 20000;
END;

CREATE TRIGGER api_keys_insert_feed AFTER INSERT ON api_keys BEGIN
  UPDATE catalog_version SET version = version + 1 WHERE id = 1;
  INSERT INTO catalog_changes (version, tenant_id)
    SELECT version, NEW.tenant_id FROM catalog_version WHERE id = 1;
  DELETE FROM catalog_changes
    WHERE version <= (SELECT version FROM catalog_version WHERE id = 1) - 20000;
END;

CREATE TRIGGER api_keys_update_feed AFTER UPDATE ON api_keys BEGIN
  UPDATE catalog_version SET version = version + 1 WHERE id = 1;
  INSERT INTO catalog_changes (version, tenant_id)
    SELECT version, NEW.tenant_id FROM catalog_version WHERE id = 1;
  DELETE FROM catalog_changes
    WHERE version <= (SELECT version FROM catalog_version WHERE id = 1) - 20000;
END;

CREATE TRIGGER api_keys_delete_feed AFTER DELETE ON api_keys BEGIN
  UPDATE catalog_version SET version = version + 1 WHERE id = 1;
  INSERT INTO catalog_changes (version, tenant_id)
    SELECT version, OLD.tenant_id FROM catalog_version WHERE id = 1;
  DELETE FROM catalog_changes
    WHERE version <= (SELECT version FROM catalog_version WHERE id = 1) - 20000;
END;

CREATE TRIGGER public_keys_insert_feed AFTER INSERT ON public_keys BEGIN
  UPDATE catalog_version SET version = version + 1 WHERE id = 1;
  INSERT INTO catalog_changes (version, tenant_id)
    SELECT version, NEW.tenant_id FROM catalog_version WHERE id = 1;
  DELETE FROM catalog_changes
    WHERE version <= (SELECT version FROM catalog_version WHERE id = 1) - 20000;
END;

CREATE TRIGGER public_keys_update_feed AFTER UPDATE ON public_keys BEGIN
  UPDATE catalog_version SET version = version + 1 WHERE id = 1;
  INSERT INTO catalog_changes (version, tenant_id)
    SELECT version, NEW.tenant_id FROM catalog_version WHERE id = 1;
  DELETE FROM catalog_changes
    WHERE version <= (SELECT version FROM catalog_version WHERE id = 1) - 20000;
END;

CREATE TRIGGER public_keys_delete_feed AFTER DELETE ON public_keys BEGIN
  UPDATE catalog_version SET version = version + 1 WHERE id = 1;
  INSERT INTO catalog_changes (version, tenant_id)
    SELECT version, OLD.tenant_id FROM catalog_version WHERE id = 1;
  DELETE FROM catalog_changes
    WHERE version <= (SELECT version FROM catalog_version WHERE id = 1) - 20000;
END;

CREATE TRIGGER subscriptions_insert_feed AFTER INSERT ON subscriptions BEGIN
  UPDATE catalog_version SET version = version + 1 WHERE id = 1;
  INSERT INTO catalog_changes (version, tenant_id)
    SELECT version, NEW.tenant_id FROM catalog_version WHERE id = 1;
  DELETE FROM catalog_changes
    WHERE version <= (SELECT version FROM catalog_version WHERE id = 1) - 20000;
END;

CREATE TRIGGER subscriptions_update_feed AFTER UPDATE ON subscriptions BEGIN
  UPDATE catalog_version SET version = version + 1 WHERE id = 1;
  INSERT INTO catalog_changes (version, tenant_id)
    SELECT version, NEW.tenant_id FROM catalog_version WHERE id = 1;
  DELETE FROM catalog_changes
    WHERE version <= (SELECT version FROM catalog_version WHERE id = 1) - 20000;
END;

CREATE TRIGGER subscriptions_delete_feed AFTER DELETE ON subscriptions BEGIN
  UPDATE catalog_version SET version = version + 1 WHERE id = 1;
  INSERT INTO catalog_changes (version, tenant_id)
    SELECT version, OLD.tenant_id FROM catalog_version WHERE id = 1;
  DELETE FROM catalog_changes
    WHERE version <= (SELECT version FROM catalog_version WHERE id = 1) - 20000;
END;

CREATE TRIGGER endpoints_insert_feed AFTER INSERT ON endpoints BEGIN
  UPDATE catalog_version SET version = version + 1 WHERE id = 1;
  INSERT INTO catalog_changes (version, tenant_id)
    SELECT version, NEW.tenant_id FROM catalog_version WHERE id = 1;
  DELETE FROM catalog_changes
    WHERE version <= (SELECT version FROM catalog_version WHERE id = 1) - 20000;
END;

CREATE TRIGGER endpoints_update_feed AFTER UPDATE ON endpoints BEGIN
  UPDATE catalog_version SET version = version + 1 WHERE id = 1;
  INSERT INTO catalog_changes (version, tenant_id)
    SELECT version, NEW.tenant_id FROM catalog_version WHERE id = 1;
  DELETE FROM catalog_changes
    WHERE version <= (SELECT version FROM catalog_version WHERE id = 1) - 20000;
END;

CREATE TRIGGER endpoints_delete_feed AFTER DELETE ON endpoints BEGIN
  UPDATE catalog_version SET version = version + 1 WHERE id = 1;
  INSERT INTO catalog_changes (version, tenant_id)
    SELECT version, OLD.tenant_id FROM catalog_version WHERE id = 1;
  DELETE FROM catalog_changes
    WHERE version <= (SELECT version FROM catalog_version WHERE id = 1) - 20000;
END;
