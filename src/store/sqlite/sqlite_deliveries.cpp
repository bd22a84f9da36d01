// SqliteStore: delivery records, attempts and dead letters.
#include <algorithm>
#include <array>
#include <string_view>
#include <unordered_map>

#include "store/sqlite/sqlite_store.hpp"

namespace sealhook::sqlite {
namespace {

constexpr std::string_view kDeliveryColumns =
    "id, tenant_id, endpoint_id, event_id, event_type, status, attempts, created_at_ms,"
    " updated_at_ms, next_attempt_at_ms, last_error";

// Reads the kDeliveryColumns of the current row, starting at column 0.
DeliveryRecord read_delivery(const Statement& r) {
  DeliveryRecord d;
  d.id = r.text(0);
  d.tenant_id = r.text(1);
  d.endpoint_id = r.text(2);
  d.event_id = r.text(3);
  d.event_type = r.text(4);
  d.status = parse_delivery_status(r.text(5)).value_or(DeliveryStatus::kPending);
  d.attempts = r.int32(6);
  d.created_at_ms = r.int64(7);
  d.updated_at_ms = r.int64(8);
  d.next_attempt_at_ms = r.int64(9);
  d.last_error = r.text(10);
  return d;
}

// The SELECT for one page of list_deliveries. Six fixed texts, so each variant keeps its own
// cached statement; only values are bound. Pending and dead pages name the partial index
// deliveries_open and repeat its WHERE term (without statistics SQLite would rather scan the
// tenant's rows in key order, which is what the other pages do).
const char* list_sql(std::optional<DeliveryStatus> status, bool after_cursor) {
  auto page = [](std::string_view from, std::string_view filter) {
    std::string head = "SELECT " + std::string(kDeliveryColumns) + " FROM " + std::string(from) +
                       " WHERE tenant_id = ?1" + std::string(filter);
    return std::array<std::string, 2>{head + " ORDER BY id DESC LIMIT ?2",
                                      head + " AND id < ?3 ORDER BY id DESC LIMIT ?2"};
  };
  static const auto all = page("deliveries", "");
  static const auto delivered = page("deliveries", " AND status = ?4");
  static const auto open =
      page("deliveries INDEXED BY deliveries_open", " AND status = ?4 AND status <> 'delivered'");
  const auto& variants = !status ? all : *status == DeliveryStatus::kDelivered ? delivered : open;
  return variants[after_cursor ? 1 : 0].c_str();
}

// Upserts one delivery by (tenant, id). An update never changes a delivery's creation time nor
// goes back to fewer attempts; a create_only record never updates.
const char* write_sql(bool create_only) {
  static const std::string insert = "INSERT INTO deliveries (" + std::string(kDeliveryColumns) +
                                    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
  static const std::string upsert =
      insert +
      " ON CONFLICT (tenant_id, id) DO UPDATE SET endpoint_id = excluded.endpoint_id,"
      " event_id = excluded.event_id, event_type = excluded.event_type,"
      " status = excluded.status, attempts = excluded.attempts,"
      " updated_at_ms = excluded.updated_at_ms,"
      " next_attempt_at_ms = excluded.next_attempt_at_ms, last_error = excluded.last_error"
      // Several processes settle one delivery's attempts: an earlier attempt's outcome, written
      // late, never overwrites a later attempt's record.
      " WHERE excluded.attempts >= deliveries.attempts";
  static const std::string create = insert + " ON CONFLICT (tenant_id, id) DO NOTHING";
  return (create_only ? create : upsert).c_str();
}

}  // namespace

// A create_only record whose delivery was already written (a later update raced ahead of it)
// is skipped; so is an earlier attempt's outcome that arrives after a later one, but not its
// attempts: they happened, and are history.
Status SqliteStore::write_one(const DeliveryUpdate& u) {
  const DeliveryRecord& d = u.record;
  if (Status s =
          conn_->run(write_sql(u.create_only), "write a delivery", d.id, d.tenant_id, d.endpoint_id,
                     d.event_id, d.event_type, to_string(d.status), d.attempts, d.created_at_ms,
                     d.updated_at_ms, d.next_attempt_at_ms, d.last_error);
      !s) {
    return s;
  }
  const bool written = conn_->changes() > 0;
  for (const AttemptRecord& a : u.attempts) {
    // Keyed by (delivery, number): writing the same attempt twice is harmless.
    if (Status s = conn_->run(
            "INSERT INTO attempts (delivery_id, number, at_ms, duration_ms, status_code, error)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
            " ON CONFLICT (delivery_id, number) DO UPDATE SET at_ms = excluded.at_ms,"
            " duration_ms = excluded.duration_ms, status_code = excluded.status_code,"
            " error = excluded.error",
            "append an attempt", d.id, a.number, a.at_ms, a.duration_ms, a.status_code, a.error);
        !s) {
      return s;
    }
  }
  // The dead letter follows the record: a skipped one leaves it as the later update set it.
  if (!written) return {};
  if (u.clear_dead_body) {
    Status s =
        conn_->run("DELETE FROM dead_letters WHERE delivery_id = ?1", "clear a dead letter", d.id);
    if (!s) return s;
  }
  if (u.dead_body) {
    auto st = conn_->query(
        "INSERT INTO dead_letters (delivery_id, body) VALUES (?1, ?2)"
        " ON CONFLICT (delivery_id) DO UPDATE SET body = excluded.body",
        d.id);
    if (!st) return st.error();
    int rc = (*st)->bind_blob(2, *u.dead_body).step();
    if (rc != SQLITE_DONE) return conn_->error(rc, "write a dead letter");
  }
  return {};
}

Status SqliteStore::write_deliveries(const std::vector<DeliveryUpdate>& batch) {
  if (batch.empty()) return {};
  std::lock_guard lock(mu_);
  auto tx = Transaction::begin(*conn_);
  if (!tx) return tx.error();
  // A record whose tenant is gone (deleted while the batch was in flight) is skipped, with its
  // attempts and dead letter, instead of resurrecting rows nobody owns. A batch holds few
  // tenants, so each is looked up once rather than once per row.
  std::unordered_map<std::string_view, bool> tenant_exists;
  for (const DeliveryUpdate& u : batch) {
    auto [it, fresh] = tenant_exists.try_emplace(u.record.tenant_id, false);
    if (fresh) {
      auto st = conn_->query("SELECT 1 FROM tenants WHERE id = ?1", u.record.tenant_id);
      if (!st) return st.error();
      int rc = (*st)->step();
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return conn_->error(rc, "look up a tenant");
      it->second = rc == SQLITE_ROW;
    }
    if (!it->second) continue;
    if (Status s = write_one(u); !s) return s;
  }
  return tx->commit();
}

template <class Read>
auto SqliteStore::read(Read read_with) {
  if (!reader_) {
    std::lock_guard lock(mu_);
    return read_with(*conn_);
  }
  std::lock_guard lock(read_mu_);
  return read_with(*reader_);
}

Result<std::optional<DeliveryRecord>> SqliteStore::get_delivery(const std::string& tenant_id,
                                                                const std::string& id) {
  return read([&](Connection& conn) -> Result<std::optional<DeliveryRecord>> {
    static const std::string sql = "SELECT " + std::string(kDeliveryColumns) +
                                   " FROM deliveries WHERE tenant_id = ?2 AND id = ?1";
    auto st = conn.query(sql, id, tenant_id);
    if (!st) return st.error();
    int rc = (*st)->step();
    if (rc == SQLITE_DONE) return std::optional<DeliveryRecord>();
    if (rc != SQLITE_ROW) return conn.error(rc, "read a delivery");
    return std::optional<DeliveryRecord>(read_delivery(**st));
  });
}

Result<std::vector<AttemptRecord>> SqliteStore::get_attempts(const std::string& delivery_id) {
  return read([&](Connection& conn) -> Result<std::vector<AttemptRecord>> {
    auto st = conn.query(
        "SELECT number, at_ms, duration_ms, status_code, error FROM attempts"
        " WHERE delivery_id = ?1 ORDER BY number",
        delivery_id);
    if (!st) return st.error();
    std::vector<AttemptRecord> out;
    int rc;
    while ((rc = (*st)->step()) == SQLITE_ROW) {
      const Statement& r = **st;
      out.push_back(
          AttemptRecord{delivery_id, r.int32(0), r.int64(1), r.int64(2), r.int32(3), r.text(4)});
    }
    if (rc != SQLITE_DONE) return conn.error(rc, "read attempts");
    return out;
  });
}

Result<DeliveryPage> SqliteStore::list_deliveries(const std::string& tenant_id,
                                                  std::optional<DeliveryStatus> status,
                                                  size_t limit,
                                                  const std::optional<std::string>& cursor) {
  limit = std::clamp<size_t>(limit, 1, kMaxPageSize);
  return read([&](Connection& conn) -> Result<DeliveryPage> {
    auto st = conn.query(list_sql(status, cursor.has_value()), tenant_id,
                         static_cast<int64_t>(limit + 1));  // one more: is there a next page?
    if (!st) return st.error();
    if (cursor) (*st)->bind(3, *cursor);
    if (status) (*st)->bind(4, to_string(*status));
    DeliveryPage page;
    int rc;
    while ((rc = (*st)->step()) == SQLITE_ROW) {
      if (page.data.size() == limit) {
        page.next = page.data.back().id;
        break;
      }
      page.data.push_back(read_delivery(**st));
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return conn.error(rc, "list deliveries");
    return page;
  });
}

Result<std::optional<DeadLetter>> SqliteStore::get_dead_letter(const std::string& tenant_id,
                                                               const std::string& id) {
  std::lock_guard lock(mu_);
  static const std::string sql = "SELECT " + std::string(kDeliveryColumns) +
                                 ", l.body FROM deliveries d"
                                 " JOIN dead_letters l ON l.delivery_id = d.id"
                                 " WHERE d.tenant_id = ?2 AND d.id = ?1";
  auto st = conn_->query(sql, id, tenant_id);
  if (!st) return st.error();
  int rc = (*st)->step();
  if (rc == SQLITE_DONE) return std::optional<DeadLetter>();
  if (rc != SQLITE_ROW) return conn_->error(rc, "read a dead letter");
  return std::optional<DeadLetter>(DeadLetter{read_delivery(**st), (*st)->blob(11)});
}

Result<int64_t> SqliteStore::count_deliveries(std::optional<DeliveryStatus> status) {
  std::lock_guard lock(mu_);
  // Every dead delivery, and only a dead one, has its dead letter: that count is cheap.
  auto st =
      !status ? conn_->query("SELECT COUNT(*) FROM deliveries")
      : *status == DeliveryStatus::kDead
          ? conn_->query("SELECT COUNT(*) FROM dead_letters")
          : conn_->query("SELECT COUNT(*) FROM deliveries WHERE status = ?1", to_string(*status));
  if (!st) return st.error();
  int rc = (*st)->step();
  if (rc != SQLITE_ROW) return conn_->error(rc, "count deliveries");
  return (*st)->int64(0);
}

}  // namespace sealhook::sqlite
