// SqliteStore: endpoint health (failure streaks), apart from the catalog.
#include "store/sqlite/sqlite_store.hpp"

namespace sealhook::sqlite {

Result<EndpointHealth> SqliteStore::add_endpoint_failures(const std::string& endpoint_id,
                                                          int failures, int64_t first_at_ms,
                                                          int64_t last_at_ms) {
  std::lock_guard lock(mu_);
  // From the endpoints row, so a gone endpoint gets none (and the answer says so).
  auto st = conn_->query(
      "INSERT INTO endpoint_health (endpoint_id, failing_since_ms, failed_attempts,"
      " last_failure_ms)"
      " SELECT id, ?3, ?2, ?4 FROM endpoints WHERE id = ?1"
      " ON CONFLICT (endpoint_id) DO UPDATE SET"
      " failed_attempts = failed_attempts + excluded.failed_attempts,"
      " failing_since_ms = MIN(failing_since_ms, excluded.failing_since_ms),"
      " last_failure_ms = MAX(last_failure_ms, excluded.last_failure_ms)"
      " RETURNING failing_since_ms, failed_attempts, last_failure_ms",
      endpoint_id, failures, first_at_ms, last_at_ms);
  if (!st) return st.error();
  int rc = (*st)->step();
  if (rc == SQLITE_DONE)
    return make_error(ErrorKind::kNotFound, "not_found", "the endpoint was not found.");
  if (rc != SQLITE_ROW) return conn_->error(rc, "count an endpoint's failures");
  EndpointHealth h{(*st)->int64(0), (*st)->int32(1), (*st)->int64(2)};
  (void)(*st)->step();  // RETURNING: the statement finishes its write once stepped to the end
  return h;
}

Status SqliteStore::clear_endpoint_failures(const std::string& endpoint_id) {
  std::lock_guard lock(mu_);
  return conn_->run("DELETE FROM endpoint_health WHERE endpoint_id = ?1",
                    "end an endpoint's failures", endpoint_id);
}

Result<std::vector<std::string>> SqliteStore::failing_endpoints() {
  std::lock_guard lock(mu_);
  auto st = conn_->query("SELECT endpoint_id FROM endpoint_health");
  if (!st) return st.error();
  std::vector<std::string> out;
  int rc;
  while ((rc = (*st)->step()) == SQLITE_ROW) out.push_back((*st)->text(0));
  if (rc != SQLITE_DONE) return conn_->error(rc, "list failing endpoints");
  return out;
}

}  // namespace sealhook::sqlite
