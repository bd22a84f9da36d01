#include "store/postgres/connection.hpp"

#include <poll.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>

namespace sealhook::postgres {
namespace {

// libpq's messages end in a newline and may hold several lines (a hint on the next, after a
// tab): one line, for a log and an API error body.
std::string trimmed(const char* message) {
  std::string s;
  for (const char* c = message != nullptr ? message : ""; *c != '\0'; ++c) {
    bool space = *c == '\n' || *c == '\t';
    if (!space) {
      s += *c;
    } else if (!s.empty() && s.back() != ' ') {
      s += ' ';
    }
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// The length of the valid UTF-8 character at s[i], or 0 when there is none (a stray byte, an
// overlong form, a surrogate, a truncated sequence).
size_t utf8_char(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = at(i);
  if (c < 0x80) return 1;
  size_t n = c >= 0xC2 && c <= 0xDF   ? 2
             : c >= 0xE0 && c <= 0xEF ? 3
             : c >= 0xF0 && c <= 0xF4 ? 4
                                      : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((at(i + k) & 0xC0) != 0x80) return 0;
  unsigned char d = at(i + 1);
  if ((c == 0xE0 && d < 0xA0) || (c == 0xED && d > 0x9F) || (c == 0xF0 && d < 0x90) ||
      (c == 0xF4 && d > 0x8F)) {
    return 0;
  }
  return n;
}

// Drives a connection started by PQconnectStartParams until it is made, or fails, or `timeout`
// passes (libpq's own connect_timeout counts whole seconds, 2 at least: too coarse for an API
// write that should be answered 503 within a second). "" once connected, else why not.
std::string await_connection(PGconn* conn, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  PostgresPollingStatusType st = PGRES_POLLING_WRITING;
  while (true) {
    if (PQstatus(conn) == CONNECTION_BAD || st == PGRES_POLLING_FAILED) {
      return trimmed(PQerrorMessage(conn));
    }
    if (st == PGRES_POLLING_OK) return "";
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return "no connection within " + std::to_string(timeout.count()) + " ms";
    }
    pollfd p{PQsocket(conn), static_cast<short>(st == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) return "poll failed";
    if (n > 0) st = PQconnectPoll(conn);
  }
}

}  // namespace

Error unavailable(std::string_view what, std::string_view detail) {
  return make_error(ErrorKind::kUnavailable, "store_unavailable",
                    "Store failed to " + std::string(what) + ": PostgreSQL is unavailable (" +
                        std::string(detail) + ").");
}

int64_t Rows::int64(int row, int col) const {
  return std::strtoll(PQgetvalue(r_.get(), row, col), nullptr, 10);
}

std::string Rows::bytes(int row, int col) const {
  size_t n = 0;
  unsigned char* raw =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r_.get(), row, col)), &n);
  if (raw == nullptr) return {};
  std::string out(reinterpret_cast<const char*>(raw), n);
  PQfreemem(raw);
  return out;
}

int64_t Rows::changed() const { return std::strtoll(PQcmdTuples(r_.get()), nullptr, 10); }

// Journal text (an endpoint's error, a receiver's words) comes from outside: PostgreSQL
// refuses invalid UTF-8 and NUL bytes, and one such record must not fail its whole batch for
// ever, so they are replaced ('?') or dropped, where SQLite would keep them as they are.
void ArrayLiteral::add(std::string_view element) {
  text += count++ ? ",\"" : "\"";
  for (size_t i = 0; i < element.size();) {
    char c = element[i];
    if (c == '\0') {
      ++i;
      continue;
    }
    size_t n = utf8_char(element, i);
    if (n == 0) {
      text += '?';
      ++i;
      continue;
    }
    if (c == '"' || c == '\\') text += '\\';
    text.append(element.substr(i, n));
    i += n;
  }
  text += '"';
}

void ArrayLiteral::add(int64_t element) {
  text += count++ ? "," : "";
  text += std::to_string(element);
}

void ArrayLiteral::add_bytes(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  text += count++ ? ",\"\\\\x" : "\"\\\\x";
  for (char c : bytes) {
    auto b = static_cast<unsigned char>(c);
    text += kHex[b >> 4];
    text += kHex[b & 15];
  }
  text += '"';
}

void Params::push(std::string v, int format) {
  lengths_.push_back(static_cast<int>(v.size()));
  formats_.push_back(format);
  values_.push_back(std::move(v));
}

std::vector<const char*> Params::values() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (const std::string& v : values_) out.push_back(v.c_str());
  return out;
}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& conninfo,
                                                     const ConnectOptions& options,
                                                     std::string_view what) {
  // Ours first: the URI (dbname, expanded) may set any of them itself and wins; UTF8 last,
  // since every string we send is UTF-8.
  std::string tcp_user_timeout = std::to_string(options.tcp_user_timeout_ms);
  const char* keys[] = {"tcp_user_timeout", "application_name", "dbname", "client_encoding",
                        nullptr};
  const char* values[] = {tcp_user_timeout.c_str(), "sealhook", conninfo.c_str(), "UTF8", nullptr};
  PGconn* conn = PQconnectStartParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr) return unavailable(what, "out of memory");
  std::string failure = await_connection(conn, options.connect_timeout);
  if (!failure.empty()) {
    PQfinish(conn);
    return unavailable(what, failure);
  }
  // Notices (an identifier truncated, a NOTICE from a migration) are not errors: not printed.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<Connection>(new Connection(conn));
}

Connection::~Connection() { PQfinish(conn_); }

// Several statements in one text: libpq returns the last one's result, or the first error.
Status Connection::exec(std::string_view sql, std::string_view what) {
  PGresult* r = PQexec(conn_, std::string(sql).c_str());
  ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    PQclear(r);
    return {};
  }
  Error e = error(r, what);
  PQclear(r);
  return e;
}

Result<const std::string*> Connection::prepared(std::string_view sql, std::string_view what) {
  auto it = prepared_.find(std::string(sql));
  if (it != prepared_.end()) return &it->second;
  // The server infers the parameters' types from the statement.
  std::string name = "s" + std::to_string(next_statement_++);
  PGresult* r = PQprepare(conn_, name.c_str(), std::string(sql).c_str(), 0, nullptr);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    Error e = error(r, what);
    PQclear(r);
    return e;
  }
  PQclear(r);
  return &prepared_.emplace(std::string(sql), std::move(name)).first->second;
}

Result<Rows> Connection::run(std::string_view sql, std::string_view what, const Params& params) {
  auto name = prepared(sql, what);
  if (!name) return name.error();
  std::vector<const char*> values = params.values();
  PGresult* r = PQexecPrepared(conn_, (*name)->c_str(), params.size(), values.data(),
                               params.lengths(), params.formats(), 0);
  ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Rows(r);
  Error e = error(r, what);
  PQclear(r);
  return e;
}

// Pipeline mode: every execution is sent, then one Sync; the server runs them up to the Sync
// in one implicit transaction (an error rolls back all of them and skips the rest), and the
// answers come back together.
Status Connection::run_all(std::string_view sql, std::string_view what,
                           const std::vector<Params>& each) {
  auto name = prepared(sql, what);
  if (!name) return name.error();
  if (PQenterPipelineMode(conn_) != 1) return unavailable(what, trimmed(PQerrorMessage(conn_)));
  bool sent = true;
  for (const Params& p : each) {
    std::vector<const char*> values = p.values();
    sent = sent && PQsendQueryPrepared(conn_, (*name)->c_str(), p.size(), values.data(),
                                       p.lengths(), p.formats(), 0) == 1;
  }
  sent = sent && PQpipelineSync(conn_) == 1;
  if (!sent) return unavailable(what, trimmed(PQerrorMessage(conn_)));
  std::optional<Error> failed;
  // Each execution's results end with a null; the Sync's result ends the pipeline.
  while (true) {
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) {
      if (broken()) break;
      continue;
    }
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      break;
    }
    if (st == PGRES_FATAL_ERROR && !failed) failed = error(r, what);
    PQclear(r);
  }
  if (broken()) return failed ? *failed : unavailable(what, trimmed(PQerrorMessage(conn_)));
  PQexitPipelineMode(conn_);
  if (failed) return *failed;
  return {};
}

// By SQLSTATE class: a lost or refused connection, a server shutting down, or one out of
// resources is an outage (503, the caller may retry); a serialization failure or deadlock is
// contention (503 too); a duplicate key is a conflict; a missing tenant (foreign key) is not
// found; text the server refuses (a NUL byte) is bad input; anything else is ours.
Error Connection::error(const PGresult* r, std::string_view what) const {
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string detail =
      trimmed(r != nullptr && *PQresultErrorMessage(r) != '\0' ? PQresultErrorMessage(r)
                                                               : PQerrorMessage(conn_));
  if (broken() || state == nullptr) return unavailable(what, detail);
  std::string_view code(state);
  std::string message = "Store failed to " + std::string(what) + ": " + detail;
  if (code.starts_with("08") || code.starts_with("53") || code.starts_with("57P")) {
    return unavailable(what, detail);
  }
  if (code == "40001" || code == "40P01" || code == "55P03") {
    return make_error(ErrorKind::kUnavailable, "store_busy", std::move(message));
  }
  if (code == "23505")
    return make_error(ErrorKind::kConflict, "already_exists", std::move(message));
  if (code == "23503") {
    return make_error(
        ErrorKind::kNotFound, "not_found",
        "Store failed to " + std::string(what) + ": the tenant it belongs to does not exist.");
  }
  if (code.starts_with("22")) {
    return make_error(ErrorKind::kBadRequest, "invalid_text", std::move(message));
  }
  return make_error(ErrorKind::kInternal, "store_error", std::move(message));
}

Result<Transaction> Transaction::begin(Connection& conn, Mode mode) {
  Status s = conn.exec(mode == kWrite ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                       "begin a transaction");
  if (!s) return s.error();
  return Transaction(&conn);
}

Transaction::Transaction(Transaction&& other) noexcept
    : conn_(std::exchange(other.conn_, nullptr)) {}

// A broken connection has no transaction left to roll back (the pool drops it).
Transaction::~Transaction() {
  if (conn_ == nullptr || conn_->broken()) return;
  (void)conn_->exec("ROLLBACK", "roll back");
}

Status Transaction::commit() {
  Connection* conn = std::exchange(conn_, nullptr);
  return conn->exec("COMMIT", "commit");
}

}  // namespace sealhook::postgres
