#include <string>

#include "store/postgres/connection.hpp"
#include "store/postgres/migrations.hpp"

namespace sealhook::postgres {
namespace {

// The advisory lock's key: any constant other applications of the database are unlikely to
// use ("sealhook" in ASCII, as a big-endian 64-bit number).
constexpr std::string_view kLock = "SELECT pg_advisory_lock(8315159405245984619)";
constexpr std::string_view kUnlock = "SELECT pg_advisory_unlock(8315159405245984619)";

Result<int> current_version(Connection& conn) {
  auto r = conn.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                      "read the schema version");
  if (!r) return r.error();
  return r->int32(0, 0);
}

Status apply(Connection& conn, const Migration& m) {
  auto tx = Transaction::begin(conn);
  if (!tx) return tx.error();
  if (Status s = conn.exec(m.sql, std::string("apply migration ") + m.name); !s) return s;
  auto r = conn.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                      "record the schema version", m.version, m.name);
  if (!r) return r.error();
  return tx->commit();
}

Status migrate_locked(Connection& conn) {
  if (Status s = conn.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                           " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                           " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                           "create the schema_migrations table");
      !s) {
    return s;
  }
  auto version = current_version(conn);
  if (!version) return version.error();
  auto pending = migrations_after(migrations(), *version);
  if (!pending) return pending.error();
  for (const Migration& m : *pending) {
    if (Status s = apply(conn, m); !s) return s;
  }
  return {};
}

}  // namespace

// A session lock, held across the migrations' transactions (and released by the server if
// this connection dies half-way).
Status migrate(Connection& conn) {
  if (Status s = conn.exec(kLock, "lock the schema for migration"); !s) return s;
  Status s = migrate_locked(conn);
  Status unlocked = conn.exec(kUnlock, "unlock the schema");
  if (!s) return s;
  return unlocked;
}

}  // namespace sealhook::postgres
