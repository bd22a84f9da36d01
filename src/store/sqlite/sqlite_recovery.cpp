// SqliteStore: what restarts and concurrent replays rely on: atomic replay claims, pending
// records checked against the queue at start, and small facts kept across restarts.
#include "store/sqlite/sqlite_store.hpp"

namespace sealhook::sqlite {

Result<bool> SqliteStore::claim_dead(const std::string& tenant_id, const std::string& id,
                                     int64_t now_ms) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::begin(*conn_);
  if (!tx) return tx.error();
  if (Status s = conn_->run(
          "UPDATE deliveries SET status = 'pending', updated_at_ms = ?3, next_attempt_at_ms = ?3"
          " WHERE tenant_id = ?1 AND id = ?2 AND status = 'dead'",
          "claim a dead delivery", tenant_id, id, now_ms);
      !s) {
    return s.error();
  }
  if (conn_->changes() == 0) return false;
  if (Status s =
          conn_->run("DELETE FROM dead_letters WHERE delivery_id = ?1", "take a dead letter", id);
      !s) {
    return s.error();
  }
  if (Status s = tx->commit(); !s) return s.error();
  return true;
}

Status SqliteStore::unclaim_dead(const std::string& tenant_id, const std::string& id,
                                 const std::string& body) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::begin(*conn_);
  if (!tx) return tx.error();
  if (Status s = conn_->run("UPDATE deliveries SET status = 'dead', next_attempt_at_ms = 0"
                            " WHERE tenant_id = ?1 AND id = ?2 AND status = 'pending'",
                            "give a dead delivery back", tenant_id, id);
      !s) {
    return s;
  }
  // Not pending (any more): it is no dead letter, and is left as it is.
  if (conn_->changes() == 0) return tx->commit();
  auto st = conn_->query(
      "INSERT INTO dead_letters (delivery_id, body) VALUES (?1, ?2)"
      " ON CONFLICT (delivery_id) DO UPDATE SET body = excluded.body",
      id);
  if (!st) return st.error();
  int rc = (*st)->bind_blob(2, body).step();
  if (rc != SQLITE_DONE) return conn_->error(rc, "restore a dead letter");
  return tx->commit();
}

Result<std::vector<std::pair<std::string, std::string>>> SqliteStore::pending_deliveries(
    int64_t updated_before_ms) {
  std::lock_guard lock(mu_);
  auto st = conn_->query(
      "SELECT tenant_id, id FROM deliveries INDEXED BY deliveries_open"
      " WHERE status = 'pending' AND status <> 'delivered' AND updated_at_ms < ?1",
      updated_before_ms);
  if (!st) return st.error();
  std::vector<std::pair<std::string, std::string>> out;
  int rc;
  while ((rc = (*st)->step()) == SQLITE_ROW) out.emplace_back((*st)->text(0), (*st)->text(1));
  if (rc != SQLITE_DONE) return conn_->error(rc, "list pending deliveries");
  return out;
}

// Pages through deliveries_open tenant by tenant (its order: tenant, status, id DESC), so that
// each query is a seek: the tenant's next pending ones, then the next tenant with open records.
Result<std::vector<std::pair<std::string, std::string>>> SqliteStore::pending_deliveries(
    int64_t updated_before_ms, const std::optional<std::pair<std::string, std::string>>& after,
    size_t limit) {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, std::string>> out;
  std::string tenant = after ? after->first : std::string();
  std::optional<std::string> below;  // the tenant's page goes on below this id
  if (after) below = after->second;
  int rc;
  while (out.size() < limit) {
    if (!tenant.empty()) {
      auto st =
          below ? conn_->query(
                      "SELECT id FROM deliveries INDEXED BY deliveries_open"
                      " WHERE tenant_id = ?1 AND status = 'pending' AND status <> 'delivered'"
                      " AND updated_at_ms < ?2 AND id < ?4 ORDER BY id DESC LIMIT ?3",
                      tenant, updated_before_ms, static_cast<int64_t>(limit - out.size()), *below)
                : conn_->query(
                      "SELECT id FROM deliveries INDEXED BY deliveries_open"
                      " WHERE tenant_id = ?1 AND status = 'pending' AND status <> 'delivered'"
                      " AND updated_at_ms < ?2 ORDER BY id DESC LIMIT ?3",
                      tenant, updated_before_ms, static_cast<int64_t>(limit - out.size()));
      if (!st) return st.error();
      while ((rc = (*st)->step()) == SQLITE_ROW) out.emplace_back(tenant, (*st)->text(0));
      if (rc != SQLITE_DONE) return conn_->error(rc, "list pending deliveries");
      if (out.size() >= limit) break;
    }
    // The next tenant with open records (pending, dead or lost).
    auto next = conn_->query(
        "SELECT tenant_id FROM deliveries INDEXED BY deliveries_open"
        " WHERE tenant_id > ?1 AND status <> 'delivered' ORDER BY tenant_id LIMIT 1",
        tenant);
    if (!next) return next.error();
    rc = (*next)->step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return conn_->error(rc, "list pending deliveries");
    tenant = (*next)->text(0);
    below.reset();
  }
  return out;
}

Status SqliteStore::settle_pending(const std::vector<std::pair<std::string, std::string>>& ids,
                                   DeliveryStatus status, const std::string& error,
                                   int64_t now_ms) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::begin(*conn_);
  if (!tx) return tx.error();
  for (const auto& [tenant, id] : ids) {
    if (Status s = conn_->run(
            "UPDATE deliveries SET status = ?3, last_error = ?4, updated_at_ms = ?5,"
            " next_attempt_at_ms = 0 WHERE tenant_id = ?1 AND id = ?2 AND status = 'pending'",
            "settle a pending delivery", tenant, id, to_string(status), error, now_ms);
        !s) {
      return s;
    }
  }
  return tx->commit();
}

Result<std::optional<std::string>> SqliteStore::get_meta(const std::string& key) {
  std::lock_guard lock(mu_);
  auto st = conn_->query("SELECT value FROM meta WHERE key = ?1", key);
  if (!st) return st.error();
  int rc = (*st)->step();
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return conn_->error(rc, "read a setting");
  return std::optional<std::string>((*st)->text(0));
}

Status SqliteStore::put_meta(const std::string& key, const std::string& value) {
  std::lock_guard lock(mu_);
  return conn_->run(
      "INSERT INTO meta (key, value) VALUES (?1, ?2)"
      " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      "write a setting", key, value);
}

}  // namespace sealhook::sqlite
