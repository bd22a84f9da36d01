#pragma once
// One PostgreSQL connection (libpq): statements prepared once per connection and run with
// their values as parameters, results, transactions, and the mapping of SQLSTATEs onto our
// error kinds. Not thread-safe: the pool (pool.hpp) lends it to one call at a time.
#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"

namespace sealhook::postgres {

struct ConnectOptions {
  // A connection not made within this long fails (the URI's connect_timeout is not used): an
  // unreachable server fails a call within about a second instead of hanging it.
  std::chrono::milliseconds connect_timeout{1000};
  // Unacknowledged data is given up on after this long (TCP_USER_TIMEOUT): a server that
  // vanished from the network fails the call in flight instead of hanging it.
  int tcp_user_timeout_ms = 10000;
};

// A row set; the connection's results are in text format (bytea as \x hex).
class Rows {
 public:
  explicit Rows(PGresult* r) : r_(r, PQclear) {}
  int size() const { return PQntuples(r_.get()); }
  std::string text(int row, int col) const {
    return std::string(PQgetvalue(r_.get(), row, col),
                       static_cast<size_t>(PQgetlength(r_.get(), row, col)));
  }
  int64_t int64(int row, int col) const;
  int int32(int row, int col) const { return static_cast<int>(int64(row, col)); }
  std::string bytes(int row, int col) const;  // a bytea column
  // Rows an INSERT/UPDATE/DELETE changed.
  int64_t changed() const;

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
};

// A value for an array parameter ($1::text[]), as a text-format array literal.
struct ArrayLiteral {
  std::string text = "{";
  size_t count = 0;
  void add(std::string_view element);  // a string, quoted; made valid UTF-8 (see .cpp)
  void add(int64_t element);
  void add_bytes(std::string_view bytes);  // a bytea element, hex
  std::string finish() const { return text + "}"; }
};

// The values of one statement. Strings go in binary format (their bytes as they are, whatever
// they hold; the server checks the encoding), numbers in text.
class Params {
 public:
  void add(const std::string& s) { push(std::string(s), 1); }
  void add(std::string_view s) { push(std::string(s), 1); }
  void add(const char* s) { push(std::string(s), 1); }
  void add(int64_t v) { push(std::to_string(v), 0); }
  void add(int v) { push(std::to_string(v), 0); }
  void add(size_t v) { push(std::to_string(v), 0); }
  void add(bool v) { push(v ? "t" : "f", 0); }
  void add(const ArrayLiteral& a) { push(a.finish(), 0); }
  int size() const { return static_cast<int>(values_.size()); }
  // Pointers into this object: valid while it is.
  std::vector<const char*> values() const;
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  void push(std::string v, int format);
  std::vector<std::string> values_;
  std::vector<int> lengths_, formats_;
};

class Connection {
 public:
  // `conninfo` is a postgres:// URI (or key=value pairs), given to libpq as it is. A failure
  // says the store failed to do `what` (the call that needed the connection).
  static Result<std::unique_ptr<Connection>> open(const std::string& conninfo,
                                                  const ConnectOptions& options,
                                                  std::string_view what = "connect");
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs SQL text holding no values (migrations, BEGIN, LISTEN); may hold several statements.
  Status exec(std::string_view sql, std::string_view what);
  // Runs `sql`, prepared on first use and reused, with `args` as $1, $2, ...
  template <class... Args>
  Result<Rows> query(std::string_view sql, std::string_view what, const Args&... args) {
    Params p;
    (p.add(args), ...);
    return run(sql, what, p);
  }
  Result<Rows> run(std::string_view sql, std::string_view what, const Params& params);
  // Runs `sql` once per element of `each`, atomically, in one round trip (pipeline mode).
  Status run_all(std::string_view sql, std::string_view what, const std::vector<Params>& each);
  // The connection is gone (the server restarted or is unreachable): the pool drops it.
  bool broken() const { return PQstatus(conn_) == CONNECTION_BAD; }
  // Reads what the server sent an idle connection (never blocks: libpq's socket is
  // non-blocking): false when it was closed meanwhile (a server restarted or shut down sends
  // its idle clients a FATAL and hangs up), so that no call is spent finding out. Twice: a
  // read that found the FATAL's bytes stops there, the next one finds the end of the stream.
  bool still_open() {
    return PQconsumeInput(conn_) != 0 && PQconsumeInput(conn_) != 0 && !broken();
  }
  PGconn* handle() const { return conn_; }

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  Error error(const PGresult* r, std::string_view what) const;
  // The name `sql` is prepared under on this connection (prepared now, the first time).
  Result<const std::string*> prepared(std::string_view sql, std::string_view what);

  PGconn* conn_;
  uint64_t next_statement_ = 0;
  std::unordered_map<std::string, std::string> prepared_;  // SQL -> statement name
};

// An Error for a connection that could not be made or was lost.
Error unavailable(std::string_view what, std::string_view detail);

// BEGIN ... COMMIT; rolled back unless committed.
class Transaction {
 public:
  enum Mode {
    kWrite,     // READ COMMITTED, the default: writes wait for the rows they touch
    kSnapshot,  // REPEATABLE READ READ ONLY: every read sees one consistent snapshot
  };
  static Result<Transaction> begin(Connection& conn, Mode mode = kWrite);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status commit();

 private:
  explicit Transaction(Connection* conn) : conn_(conn) {}
  Connection* conn_;
};

}  // namespace sealhook::postgres
