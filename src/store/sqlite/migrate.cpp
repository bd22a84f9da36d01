#include <string>

#include "store/sqlite/connection.hpp"
#include "store/sqlite/migrations.hpp"

namespace sealhook::sqlite {
namespace {

Result<int> current_version(Connection& conn) {
  auto st = conn.cached("SELECT COALESCE(MAX(version), 0) FROM schema_version");
  if (!st) return st.error();
  int rc = (*st)->step();
  if (rc != SQLITE_ROW) return conn.error(rc, "read the schema version");
  return (*st)->int32(0);
}

Status apply(Connection& conn, const Migration& m) {
  if (Status s = conn.exec(m.sql, std::string("apply migration ") + m.name); !s) return s;
  auto st = conn.cached("INSERT INTO schema_version (version, name) VALUES (?1, ?2)");
  if (!st) return st.error();
  int rc = (*st)->bind(1, m.version).bind(2, m.name).step();
  if (rc != SQLITE_DONE) return conn.error(rc, "record the schema version");
  return {};
}

}  // namespace

Status migrate(Connection& conn) {
  // IMMEDIATE: two processes opening the same file at once migrate one after the other.
  auto tx = Transaction::begin(conn);
  if (!tx) return tx.error();
  if (Status s = conn.exec("CREATE TABLE IF NOT EXISTS schema_version ("
                           " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                           " applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
                           "create the schema_version table");
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
  return tx->commit();
}

}  // namespace sealhook::sqlite
