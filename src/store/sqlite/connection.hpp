#pragma once
// One SQLite connection: opening with the pragmas we rely on, a cache of prepared statements,
// transactions, and the mapping of SQLite result codes onto our error kinds.
// Not thread-safe: SqliteStore serializes every call with its mutex.
#include <sqlite3.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.hpp"
#include "store/sqlite/statement.hpp"

namespace sealhook::sqlite {

struct ConnectionOptions {
  int busy_timeout_ms = 5000;
};

class Connection {
 public:
  // `path` is a file name or ":memory:".
  static Result<std::unique_ptr<Connection>> open(const std::string& path,
                                                  const ConnectionOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs SQL text holding no values (migrations, pragmas); may hold several statements.
  Status exec(const char* sql, std::string_view what);
  // A prepared statement for `sql`, compiled once and reused; reset when released.
  Result<BorrowedStatement> cached(std::string_view sql);
  // The cached statement for `sql` with `args` bound to ?1, ?2, ...; the caller steps it.
  template <class... Args>
  Result<BorrowedStatement> query(std::string_view sql, const Args&... args) {
    auto st = cached(sql);
    if (st) (*st)->bind_all(args...);
    return st;
  }
  // Runs a statement that returns no rows.
  template <class... Args>
  Status run(std::string_view sql, std::string_view what, const Args&... args) {
    auto st = query(sql, args...);
    if (!st) return st.error();
    int rc = (*st)->step();
    if (rc != SQLITE_DONE) return error(rc, what);
    return {};
  }
  // The SQLite handle, for what this class does not wrap (hooks, checkpoints).
  sqlite3* handle() const { return db_; }
  // Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t changes() const { return sqlite3_changes64(db_); }
  // An Error for result code `rc`, naming the operation that failed.
  Error error(int rc, std::string_view what) const;

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  sqlite3* db_;
  std::unordered_map<std::string, Statement, SqlHash, std::equal_to<>> cache_;
};

// BEGIN IMMEDIATE (or deferred, for reads) ... COMMIT; rolled back unless committed.
class Transaction {
 public:
  static Result<Transaction> begin(Connection& conn, bool write = true);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status commit();

 private:
  explicit Transaction(Connection* conn) : conn_(conn) {}
  Connection* conn_;
};

}  // namespace sealhook::sqlite
