// SqliteStore: idempotency keys, reserved before a publish fans out and answered after.
#include "store/sqlite/sqlite_store.hpp"

namespace sealhook::sqlite {

Status SqliteStore::purge_idempotency(int64_t before_ms) {
  std::lock_guard lock(mu_);
  return conn_->run("DELETE FROM idempotency WHERE created_at_ms < ?1", "purge idempotency keys",
                    before_ms);
}

// One statement decides: a fresh insert, or a take-over of an expired record or of a stale
// reservation of the same request, reserves; anything else is left as it is and read back. Two
// racing publishes with one key are serialised by SQLite: the second reads the first's row.
Result<Reservation> SqliteStore::reserve_idempotency(const std::string& scope,
                                                     const std::string& key,
                                                     const std::string& request_hash,
                                                     int64_t now_ms, int64_t expired_before_ms,
                                                     int64_t stale_before_ms) {
  std::lock_guard lock(mu_);
  if (Status s = conn_->run(
          "INSERT INTO idempotency (scope, key, request_hash, response_json, created_at_ms)"
          " VALUES (?1, ?2, ?3, '', ?4) ON CONFLICT (scope, key) DO UPDATE SET"
          " response_json = '', request_hash = excluded.request_hash,"
          " created_at_ms = excluded.created_at_ms"
          // Any record past the window, a reservation too (whoever made it), is free.
          " WHERE created_at_ms < ?5"
          " OR (response_json = '' AND created_at_ms < ?6"
          " AND request_hash IN ('', excluded.request_hash))",
          "reserve an idempotency key", scope, key, request_hash, now_ms, expired_before_ms,
          stale_before_ms);
      !s) {
    return s.error();
  }
  if (conn_->changes() > 0) return Reservation{Reservation::kReserved, ""};
  auto st = conn_->query(
      "SELECT response_json, request_hash FROM idempotency WHERE scope = ?1 AND key = ?2", scope,
      key);
  if (!st) return st.error();
  int rc = (*st)->step();
  if (rc != SQLITE_ROW) return conn_->error(rc, "read an idempotency key");
  std::string answer = (*st)->text(0);
  std::string held_by = (*st)->text(1);
  if (!held_by.empty() && held_by != request_hash) return Reservation{Reservation::kMismatch, ""};
  if (answer.empty()) return Reservation{Reservation::kInProgress, ""};
  return Reservation{Reservation::kDone, std::move(answer)};
}

Status SqliteStore::complete_idempotency(const std::string& scope, const std::string& key,
                                         const std::string& response_json) {
  std::lock_guard lock(mu_);
  return conn_->run("UPDATE idempotency SET response_json = ?3 WHERE scope = ?1 AND key = ?2",
                    "record an idempotent answer", scope, key, response_json);
}

Status SqliteStore::release_idempotency(const std::string& scope, const std::string& key) {
  std::lock_guard lock(mu_);
  return conn_->run("DELETE FROM idempotency WHERE scope = ?1 AND key = ?2 AND response_json = ''",
                    "release an idempotency key", scope, key);
}

}  // namespace sealhook::sqlite
