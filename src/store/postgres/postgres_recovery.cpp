// PostgresStore: idempotency keys, and what restarts and concurrent replays rely on: atomic
// replay claims, pending records checked against the queue at start, and small facts kept
// across restarts.
#include "store/postgres/postgres_store.hpp"

namespace sealhook::postgres {
namespace {

using Ids = std::vector<std::pair<std::string, std::string>>;

Ids id_pairs(const Rows& r) {
  Ids out;
  out.reserve(static_cast<size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) out.emplace_back(r.text(i, 0), r.text(i, 1));
  return out;
}

}  // namespace

Status PostgresStore::purge_idempotency(int64_t before_ms) {
  return with("purge idempotency keys", [&](Connection& c) -> Status {
    auto r = c.query("DELETE FROM idempotency WHERE created_at_ms < $1", "purge idempotency keys",
                     before_ms);
    if (!r) return r.error();
    return {};
  });
}

// One statement decides: a fresh insert, or a take-over of an expired record (answer or
// reservation) or of a stale reservation of the same request, reserves (two racing publishes with
// one key: the second's insert waits for the first's row and then finds it held); anything else is
// left as it is and read back. A row released between the two statements is tried again.
Result<Reservation> PostgresStore::reserve_idempotency(const std::string& scope,
                                                       const std::string& key,
                                                       const std::string& request_hash,
                                                       int64_t now_ms, int64_t expired_before_ms,
                                                       int64_t stale_before_ms) {
  return with("reserve an idempotency key", [&](Connection& c) -> Result<Reservation> {
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto taken = c.query(
          "INSERT INTO idempotency AS i (scope, key, request_hash, response_json, created_at_ms)"
          " VALUES ($1, $2, $3, '', $4) ON CONFLICT (scope, key) DO UPDATE SET"
          " response_json = '', request_hash = excluded.request_hash,"
          " created_at_ms = excluded.created_at_ms"
          // Any record past the window, a reservation too (whoever made it), is free.
          " WHERE i.created_at_ms < $5"
          " OR (i.response_json = '' AND i.created_at_ms < $6"
          " AND i.request_hash IN ('', excluded.request_hash))",
          "reserve an idempotency key", scope, key, request_hash, now_ms, expired_before_ms,
          stale_before_ms);
      if (!taken) return taken.error();
      if (taken->changed() > 0) return Reservation{Reservation::kReserved, ""};
      auto held = c.query(
          "SELECT response_json, request_hash FROM idempotency WHERE scope = $1 AND key = $2",
          "read an idempotency key", scope, key);
      if (!held) return held.error();
      if (held->size() == 0) continue;
      std::string answer = held->text(0, 0);
      std::string held_by = held->text(0, 1);
      if (!held_by.empty() && held_by != request_hash) {
        return Reservation{Reservation::kMismatch, ""};
      }
      if (answer.empty()) return Reservation{Reservation::kInProgress, ""};
      return Reservation{Reservation::kDone, std::move(answer)};
    }
    return make_error(ErrorKind::kUnavailable, "store_busy",
                      "The idempotency key " + key + " kept changing hands; try again.");
  });
}

Status PostgresStore::complete_idempotency(const std::string& scope, const std::string& key,
                                           const std::string& response_json) {
  return with("record an idempotent answer", [&](Connection& c) -> Status {
    auto r = c.query("UPDATE idempotency SET response_json = $3 WHERE scope = $1 AND key = $2",
                     "record an idempotent answer", scope, key, response_json);
    if (!r) return r.error();
    return {};
  });
}

Status PostgresStore::release_idempotency(const std::string& scope, const std::string& key) {
  return with("release an idempotency key", [&](Connection& c) -> Status {
    auto r = c.query("DELETE FROM idempotency WHERE scope = $1 AND key = $2 AND response_json = ''",
                     "release an idempotency key", scope, key);
    if (!r) return r.error();
    return {};
  });
}

// One statement: the row lock makes a second claim of the same delivery wait, then find it
// no longer dead.
Result<bool> PostgresStore::claim_dead(const std::string& tenant_id, const std::string& id,
                                       int64_t now_ms) {
  return with("claim a dead delivery", [&](Connection& c) -> Result<bool> {
    auto r = c.query(
        "WITH claimed AS (UPDATE deliveries SET status = 'pending', updated_at_ms = $3,"
        " next_attempt_at_ms = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'dead'"
        " RETURNING id),"
        " taken AS (DELETE FROM dead_letters WHERE delivery_id IN (SELECT id FROM claimed))"
        " SELECT count(*) FROM claimed",
        "claim a dead delivery", tenant_id, id, now_ms);
    if (!r) return r.error();
    return r->int64(0, 0) > 0;
  });
}

// A delivery no longer pending (someone else settled it) is left as it is, with no dead letter.
Status PostgresStore::unclaim_dead(const std::string& tenant_id, const std::string& id,
                                   const std::string& body) {
  return with("give a dead delivery back", [&](Connection& c) -> Status {
    auto r = c.query(
        "WITH back AS (UPDATE deliveries SET status = 'dead', next_attempt_at_ms = 0"
        " WHERE tenant_id = $1 AND id = $2 AND status = 'pending' RETURNING id)"
        " INSERT INTO dead_letters (delivery_id, body) SELECT id, $3::bytea FROM back"
        " ON CONFLICT (delivery_id) DO UPDATE SET body = excluded.body",
        "give a dead delivery back", tenant_id, id, body);
    if (!r) return r.error();
    return {};
  });
}

Result<Ids> PostgresStore::pending_deliveries(int64_t updated_before_ms) {
  return with("list pending deliveries", [&](Connection& c) -> Result<Ids> {
    auto r = c.query(
        "SELECT tenant_id, id FROM deliveries"
        " WHERE status = 'pending' AND status <> 'delivered' AND updated_at_ms < $1"
        " ORDER BY tenant_id, id DESC",
        "list pending deliveries", updated_before_ms);
    if (!r) return r.error();
    return id_pairs(*r);
  });
}

// By tenant, then newest first (deliveries_open's order), after the previous page's last.
Result<Ids> PostgresStore::pending_deliveries(
    int64_t updated_before_ms, const std::optional<std::pair<std::string, std::string>>& after,
    size_t limit) {
  return with("list pending deliveries", [&](Connection& c) -> Result<Ids> {
    auto r = after ? c.query(
                         "SELECT tenant_id, id FROM deliveries"
                         " WHERE status = 'pending' AND status <> 'delivered'"
                         " AND updated_at_ms < $1"
                         " AND (tenant_id > $3 OR (tenant_id = $3 AND id < $4))"
                         " ORDER BY tenant_id, id DESC LIMIT $2",
                         "list pending deliveries", updated_before_ms, limit, after->first,
                         after->second)
                   : c.query(
                         "SELECT tenant_id, id FROM deliveries"
                         " WHERE status = 'pending' AND status <> 'delivered'"
                         " AND updated_at_ms < $1 ORDER BY tenant_id, id DESC LIMIT $2",
                         "list pending deliveries", updated_before_ms, limit);
    if (!r) return r.error();
    return id_pairs(*r);
  });
}

Status PostgresStore::settle_pending(const Ids& ids, DeliveryStatus status,
                                     const std::string& error, int64_t now_ms) {
  if (ids.empty()) return {};
  ArrayLiteral tenants, keys;
  for (const auto& [tenant, id] : ids) {
    tenants.add(tenant);
    keys.add(id);
  }
  return with("settle pending deliveries", [&](Connection& c) -> Status {
    auto r = c.query(
        "UPDATE deliveries d SET status = $3, last_error = $4, updated_at_ms = $5,"
        " next_attempt_at_ms = 0 FROM unnest($1::text[], $2::text[]) AS p(tenant_id, id)"
        " WHERE d.tenant_id = p.tenant_id AND d.id = p.id AND d.status = 'pending'",
        "settle pending deliveries", tenants, keys, to_string(status), error, now_ms);
    if (!r) return r.error();
    return {};
  });
}

Result<std::optional<std::string>> PostgresStore::get_meta(const std::string& key) {
  return with("read a setting", [&](Connection& c) -> Result<std::optional<std::string>> {
    auto r = c.query("SELECT value FROM meta WHERE key = $1", "read a setting", key);
    if (!r) return r.error();
    if (r->size() == 0) return std::optional<std::string>();
    return std::optional<std::string>(r->text(0, 0));
  });
}

Status PostgresStore::put_meta(const std::string& key, const std::string& value) {
  return with("write a setting", [&](Connection& c) -> Status {
    auto r = c.query(
        "INSERT INTO meta (key, value) VALUES ($1, $2)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        "write a setting", key, value);
    if (!r) return r.error();
    return {};
  });
}

}  // namespace sealhook::postgres
