// PostgresStore: endpoint health (failure streaks), apart from the catalog.
#include "store/postgres/postgres_store.hpp"

namespace sealhook::postgres {

Result<EndpointHealth> PostgresStore::add_endpoint_failures(const std::string& endpoint_id,
                                                            int failures, int64_t first_at_ms,
                                                            int64_t last_at_ms) {
  return with("count an endpoint's failures", [&](Connection& c) -> Result<EndpointHealth> {
    // From the endpoints row, so a gone endpoint gets none (and the answer says so).
    auto r = c.query(
        "INSERT INTO endpoint_health (endpoint_id, failing_since_ms, failed_attempts,"
        " last_failure_ms)"
        " SELECT id, $3, $2, $4 FROM endpoints WHERE id = $1"
        " ON CONFLICT (endpoint_id) DO UPDATE SET"
        " failed_attempts = endpoint_health.failed_attempts + excluded.failed_attempts,"
        " failing_since_ms = LEAST(endpoint_health.failing_since_ms, excluded.failing_since_ms),"
        " last_failure_ms = GREATEST(endpoint_health.last_failure_ms, excluded.last_failure_ms)"
        " RETURNING failing_since_ms, failed_attempts, last_failure_ms",
        "count an endpoint's failures", endpoint_id, failures, first_at_ms, last_at_ms);
    if (!r) return r.error();
    if (r->size() == 0)
      return make_error(ErrorKind::kNotFound, "not_found", "the endpoint was not found.");
    return EndpointHealth{r->int64(0, 0), r->int32(0, 1), r->int64(0, 2)};
  });
}

Status PostgresStore::clear_endpoint_failures(const std::string& endpoint_id) {
  return with("end an endpoint's failures", [&](Connection& c) -> Status {
    auto r = c.query("DELETE FROM endpoint_health WHERE endpoint_id = $1",
                     "end an endpoint's failures", endpoint_id);
    if (!r) return r.error();
    return {};
  });
}

Result<std::vector<std::string>> PostgresStore::failing_endpoints() {
  return with("list failing endpoints", [&](Connection& c) -> Result<std::vector<std::string>> {
    auto r = c.query("SELECT endpoint_id FROM endpoint_health", "list failing endpoints");
    if (!r) return r.error();
    std::vector<std::string> out;
    for (int i = 0; i < r->size(); ++i) out.push_back(r->text(i, 0));
    return out;
  });
}

}  // namespace sealhook::postgres
