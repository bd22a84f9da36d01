#include "store/sqlite/connection.hpp"

#include <utility>

namespace sealhook::sqlite {

Result<std::unique_ptr<Connection>> Connection::open(const std::string& path,
                                                     const ConnectionOptions& options) {
  sqlite3* db = nullptr;
  // NOMUTEX: the store's own mutex serializes access to this single connection.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return make_error(ErrorKind::kUnavailable, "store_unavailable",
                      "Cannot open the SQLite database " + path + ": " + msg + ".");
  }
  std::unique_ptr<Connection> conn(new Connection(db));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  // journal_mode answers with the mode in force ("memory" for an in-memory database);
  // foreign_keys is a no-op unless SQLite was built with them, which Debian's is.
  Status st = conn->exec(
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
      "set pragmas");
  if (!st) return st.error();
  return conn;
}

Connection::~Connection() {
  cache_.clear();  // finalize every statement before closing
  sqlite3_close(db_);
}

Status Connection::exec(const char* sql, std::string_view what) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return error(rc, what);
  return {};
}

Result<BorrowedStatement> Connection::cached(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(raw);
      return error(rc, "prepare a statement");
    }
    it = cache_.emplace(std::string(sql), Statement(raw)).first;
  }
  return BorrowedStatement(&it->second);
}

Error Connection::error(int rc, std::string_view what) const {
  std::string detail = sqlite3_errmsg(db_);
  std::string message = "Store failed to " + std::string(what) + ": " + detail + ".";
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return make_error(ErrorKind::kUnavailable, "store_busy", std::move(message));
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
        return make_error(ErrorKind::kConflict, "already_exists", std::move(message));
      }
      if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
        return make_error(
            ErrorKind::kNotFound, "not_found",
            "Store failed to " + std::string(what) + ": the tenant it belongs to does not exist.");
      }
      return make_error(ErrorKind::kInternal, "store_error", std::move(message));
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      return make_error(ErrorKind::kUnavailable, "store_unavailable", std::move(message));
    default:
      return make_error(ErrorKind::kInternal, "store_error", std::move(message));
  }
}

Result<Transaction> Transaction::begin(Connection& conn, bool write) {
  auto st = conn.cached(write ? "BEGIN IMMEDIATE" : "BEGIN");
  if (!st) return st.error();
  int rc = (*st)->step();
  if (rc != SQLITE_DONE) return conn.error(rc, "begin a transaction");
  return Transaction(&conn);
}

Transaction::Transaction(Transaction&& other) noexcept
    : conn_(std::exchange(other.conn_, nullptr)) {}

Transaction::~Transaction() {
  if (conn_ == nullptr) return;
  auto st = conn_->cached("ROLLBACK");
  if (st) (void)(*st)->step();
}

Status Transaction::commit() {
  auto st = conn_->cached("COMMIT");
  if (!st) return st.error();
  int rc = (*st)->step();
  if (rc != SQLITE_DONE) return conn_->error(rc, "commit");
  conn_ = nullptr;
  return {};
}

}  // namespace sealhook::sqlite
