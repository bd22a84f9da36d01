// PostgresStore: delivery records, attempts and dead letters. A journal batch is written by
// one prepared statement over arrays (unnest), so it costs one round trip however many records
// it holds.
#include <algorithm>
#include <array>
#include <map>
#include <unordered_map>

#include "store/postgres/postgres_store.hpp"

namespace sealhook::postgres {
namespace {

constexpr std::string_view kDeliveryColumns =
    "id, tenant_id, endpoint_id, event_id, event_type, status, attempts, created_at_ms,"
    " updated_at_ms, next_attempt_at_ms, last_error";

// Reads the kDeliveryColumns of row `i`, starting at column 0.
DeliveryRecord read_delivery(const Rows& r, int i) {
  DeliveryRecord d;
  d.id = r.text(i, 0);
  d.tenant_id = r.text(i, 1);
  d.endpoint_id = r.text(i, 2);
  d.event_id = r.text(i, 3);
  d.event_type = r.text(i, 4);
  d.status = parse_delivery_status(r.text(i, 5)).value_or(DeliveryStatus::kPending);
  d.attempts = r.int32(i, 6);
  d.created_at_ms = r.int64(i, 7);
  d.updated_at_ms = r.int64(i, 8);
  d.next_attempt_at_ms = r.int64(i, 9);
  d.last_error = r.text(i, 10);
  return d;
}

// One statement writes a round of the batch (see write_deliveries): the records whose tenant
// still exists (its row share-locked, so delete_tenant waits for this batch or this batch
// finds it gone), create_only ones only when absent, others upserted unless the stored record
// has more attempts (several processes settle one delivery's attempts: an earlier attempt's
// outcome, written late, never overwrites a later one's). The attempts of every record of a
// live tenant are kept (a late outcome's attempt happened: it is history); dead letters are
// set and cleared only with the records actually written, as the record they go with.
constexpr std::string_view kWriteRound = R"sql(
WITH u AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                       $7::int[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[],
                       $12::bool[])
    AS u(id, tenant_id, endpoint_id, event_id, event_type, status, attempts, created_at_ms,
         updated_at_ms, next_attempt_at_ms, last_error, create_only)
), live AS (
  SELECT id FROM tenants WHERE id IN (SELECT tenant_id FROM u) FOR KEY SHARE
), created AS (
  INSERT INTO deliveries (id, tenant_id, endpoint_id, event_id, event_type, status, attempts,
                          created_at_ms, updated_at_ms, next_attempt_at_ms, last_error)
  SELECT id, tenant_id, endpoint_id, event_id, event_type, status, attempts, created_at_ms,
         updated_at_ms, next_attempt_at_ms, last_error
  FROM u WHERE create_only AND tenant_id IN (SELECT id FROM live)
  ON CONFLICT (tenant_id, id) DO NOTHING
  RETURNING tenant_id, id
), updated AS (
  INSERT INTO deliveries AS d (id, tenant_id, endpoint_id, event_id, event_type, status,
                               attempts, created_at_ms, updated_at_ms, next_attempt_at_ms,
                               last_error)
  SELECT id, tenant_id, endpoint_id, event_id, event_type, status, attempts, created_at_ms,
         updated_at_ms, next_attempt_at_ms, last_error
  FROM u WHERE NOT create_only AND tenant_id IN (SELECT id FROM live)
  ON CONFLICT (tenant_id, id) DO UPDATE SET endpoint_id = excluded.endpoint_id,
    event_id = excluded.event_id, event_type = excluded.event_type, status = excluded.status,
    attempts = excluded.attempts, updated_at_ms = excluded.updated_at_ms,
    next_attempt_at_ms = excluded.next_attempt_at_ms, last_error = excluded.last_error
  WHERE excluded.attempts >= d.attempts
  RETURNING tenant_id, id
), written AS (
  SELECT tenant_id, id FROM created UNION ALL SELECT tenant_id, id FROM updated
), attempted AS (
  INSERT INTO attempts (delivery_id, number, at_ms, duration_ms, status_code, error)
  SELECT a.delivery_id, a.number, a.at_ms, a.duration_ms, a.status_code, a.error
  FROM unnest($13::text[], $14::text[], $15::int[], $16::bigint[], $17::bigint[], $18::int[],
              $19::text[])
    AS a(tenant_id, delivery_id, number, at_ms, duration_ms, status_code, error)
  WHERE a.tenant_id IN (SELECT id FROM live)
  ON CONFLICT (delivery_id, number) DO UPDATE SET at_ms = excluded.at_ms,
    duration_ms = excluded.duration_ms, status_code = excluded.status_code,
    error = excluded.error
), dead AS (
  INSERT INTO dead_letters (delivery_id, body)
  SELECT l.id, l.body FROM unnest($20::text[], $21::text[], $22::bytea[]) AS l(tenant_id, id, body)
  WHERE (l.tenant_id, l.id) IN (SELECT tenant_id, id FROM written)
  ON CONFLICT (delivery_id) DO UPDATE SET body = excluded.body
), cleared AS (
  DELETE FROM dead_letters WHERE delivery_id IN (
    SELECT c.id FROM unnest($23::text[], $24::text[]) AS c(tenant_id, id)
    WHERE (c.tenant_id, c.id) IN (SELECT tenant_id, id FROM written))
)
SELECT count(*) FROM written)sql";

// The arrays of one round.
struct Round {
  std::array<ArrayLiteral, 12> records;
  std::array<ArrayLiteral, 7> attempts;
  std::array<ArrayLiteral, 3> dead;
  std::array<ArrayLiteral, 2> cleared;

  void add(const DeliveryUpdate& u) {
    const DeliveryRecord& d = u.record;
    auto& r = records;
    r[0].add(d.id);
    r[1].add(d.tenant_id);
    r[2].add(d.endpoint_id);
    r[3].add(d.event_id);
    r[4].add(d.event_type);
    r[5].add(to_string(d.status));
    r[6].add(int64_t{d.attempts});
    r[7].add(d.created_at_ms);
    r[8].add(d.updated_at_ms);
    r[9].add(d.next_attempt_at_ms);
    r[10].add(d.last_error);
    r[11].add(u.create_only ? std::string_view("t") : std::string_view("f"));
    // One row per attempt number (a statement may not upsert a row twice): the last wins,
    // as it would written one after the other.
    std::map<int, const AttemptRecord*> by_number;
    for (const AttemptRecord& a : u.attempts) by_number[a.number] = &a;
    for (const auto& [number, a] : by_number) {
      attempts[0].add(d.tenant_id);
      attempts[1].add(d.id);
      attempts[2].add(int64_t{number});
      attempts[3].add(a->at_ms);
      attempts[4].add(a->duration_ms);
      attempts[5].add(int64_t{a->status_code});
      attempts[6].add(a->error);
    }
    if (u.dead_body) {
      // Written over whatever was there, which is what clearing first would come to.
      dead[0].add(d.tenant_id);
      dead[1].add(d.id);
      dead[2].add_bytes(*u.dead_body);
    } else if (u.clear_dead_body) {
      cleared[0].add(d.tenant_id);
      cleared[1].add(d.id);
    }
  }

  Params params() const {
    Params p;  // $1..$24, in kWriteRound's order
    for (const ArrayLiteral& a : records) p.add(a);
    for (const ArrayLiteral& a : attempts) p.add(a);
    for (const ArrayLiteral& a : dead) p.add(a);
    for (const ArrayLiteral& a : cleared) p.add(a);
    return p;
  }
};

// The SELECT for one page of list_deliveries: $1 tenant, $2 limit, then the cursor and the
// status when there are (numbered in that order: PostgreSQL wants no gaps). Pending and dead
// pages repeat the partial index's WHERE term so the planner may use deliveries_open.
std::string list_sql(std::optional<DeliveryStatus> status, bool after_cursor) {
  std::string sql =
      "SELECT " + std::string(kDeliveryColumns) + " FROM deliveries WHERE tenant_id = $1";
  int next = 3;
  if (after_cursor) sql += " AND id < $" + std::to_string(next++);
  if (status) {
    sql += " AND status = $" + std::to_string(next++);
    if (*status != DeliveryStatus::kDelivered) sql += " AND status <> 'delivered'";
  }
  return sql + " ORDER BY id DESC LIMIT $2";
}

}  // namespace

// A record appears at most once in a round: its k-th occurrence in the batch goes to round k,
// and rounds are written in order. A batch usually holds each delivery once: one round, one
// statement; several are pipelined, in one transaction. Either way, one round trip.
Status PostgresStore::write_deliveries(const std::vector<DeliveryUpdate>& batch) {
  if (batch.empty()) return {};
  std::vector<Round> rounds(1);
  std::unordered_map<std::string_view, size_t> seen;
  for (const DeliveryUpdate& u : batch) {
    size_t k = seen[u.record.id]++;
    if (k == rounds.size()) rounds.emplace_back();
    rounds[k].add(u);
  }
  return with("write deliveries", [&](Connection& c) -> Status {
    if (rounds.size() == 1) {
      auto r = c.run(kWriteRound, "write deliveries", rounds[0].params());
      if (!r) return r.error();
      return {};
    }
    std::vector<Params> each;
    for (const Round& round : rounds) each.push_back(round.params());
    return c.run_all(kWriteRound, "write deliveries", each);
  });
}

Result<std::optional<DeliveryRecord>> PostgresStore::get_delivery(const std::string& tenant_id,
                                                                  const std::string& id) {
  return with("read a delivery", [&](Connection& c) -> Result<std::optional<DeliveryRecord>> {
    static const std::string sql = "SELECT " + std::string(kDeliveryColumns) +
                                   " FROM deliveries WHERE tenant_id = $2 AND id = $1";
    auto r = c.query(sql, "read a delivery", id, tenant_id);
    if (!r) return r.error();
    if (r->size() == 0) return std::optional<DeliveryRecord>();
    return std::optional<DeliveryRecord>(read_delivery(*r, 0));
  });
}

Result<std::vector<AttemptRecord>> PostgresStore::get_attempts(const std::string& delivery_id) {
  return with("read attempts", [&](Connection& c) -> Result<std::vector<AttemptRecord>> {
    auto r = c.query(
        "SELECT number, at_ms, duration_ms, status_code, error FROM attempts"
        " WHERE delivery_id = $1 ORDER BY number",
        "read attempts", delivery_id);
    if (!r) return r.error();
    std::vector<AttemptRecord> out;
    for (int i = 0; i < r->size(); ++i) {
      out.push_back(AttemptRecord{delivery_id, r->int32(i, 0), r->int64(i, 1), r->int64(i, 2),
                                  r->int32(i, 3), r->text(i, 4)});
    }
    return out;
  });
}

Result<DeliveryPage> PostgresStore::list_deliveries(const std::string& tenant_id,
                                                    std::optional<DeliveryStatus> status,
                                                    size_t limit,
                                                    const std::optional<std::string>& cursor) {
  limit = std::clamp<size_t>(limit, 1, kMaxPageSize);
  return with("list deliveries", [&](Connection& c) -> Result<DeliveryPage> {
    Params p;
    p.add(tenant_id);
    p.add(limit + 1);  // one more: is there a next page?
    if (cursor) p.add(*cursor);
    if (status) p.add(to_string(*status));
    auto r = c.run(list_sql(status, cursor.has_value()), "list deliveries", p);
    if (!r) return r.error();
    DeliveryPage page;
    for (int i = 0; i < r->size(); ++i) {
      if (page.data.size() == limit) {
        page.next = page.data.back().id;
        break;
      }
      page.data.push_back(read_delivery(*r, i));
    }
    return page;
  });
}

Result<std::optional<DeadLetter>> PostgresStore::get_dead_letter(const std::string& tenant_id,
                                                                 const std::string& id) {
  return with("read a dead letter", [&](Connection& c) -> Result<std::optional<DeadLetter>> {
    static const std::string sql = "SELECT " + std::string(kDeliveryColumns) +
                                   ", l.body FROM deliveries d"
                                   " JOIN dead_letters l ON l.delivery_id = d.id"
                                   " WHERE d.tenant_id = $2 AND d.id = $1";
    auto r = c.query(sql, "read a dead letter", id, tenant_id);
    if (!r) return r.error();
    if (r->size() == 0) return std::optional<DeadLetter>();
    return std::optional<DeadLetter>(DeadLetter{read_delivery(*r, 0), r->bytes(0, 11)});
  });
}

Result<int64_t> PostgresStore::count_deliveries(std::optional<DeliveryStatus> status) {
  return with("count deliveries", [&](Connection& c) -> Result<int64_t> {
    // Every dead delivery, and only a dead one, has its dead letter: that count is cheaper.
    auto r = !status ? c.query("SELECT COUNT(*) FROM deliveries", "count deliveries")
             : *status == DeliveryStatus::kDead
                 ? c.query("SELECT COUNT(*) FROM dead_letters", "count deliveries")
                 : c.query("SELECT COUNT(*) FROM deliveries WHERE status = $1", "count deliveries",
                           to_string(*status));
    if (!r) return r.error();
    return r->int64(0, 0);
  });
}

}  // namespace sealhook::postgres
