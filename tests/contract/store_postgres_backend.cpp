#include "contract/store_postgres_backend.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <random>

#include "test_postgres_url.hpp"

namespace sealhook::contract {
namespace {

std::atomic<int> next_database{0};

// Runs one statement on the server's own database (CREATE and DROP DATABASE cannot run inside
// the database they name, nor in a transaction: libpq's PQexec of one statement runs outside).
Status on_server(const std::string& url, const std::string& sql) {
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn(PQconnectdb(url.c_str()), PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK)
    return make_error(
        ErrorKind::kUnavailable, "store_unavailable",
        "cannot connect to the test PostgreSQL at " + url + ": " + PQerrorMessage(conn.get()));
  std::unique_ptr<PGresult, void (*)(PGresult*)> res(PQexec(conn.get(), sql.c_str()), PQclear);
  if (PQresultStatus(res.get()) != PGRES_COMMAND_OK)
    return make_error(ErrorKind::kInternal, "store_error",
                      sql + " failed: " + PQresultErrorMessage(res.get()));
  return {};
}

// The database name of a spec with_database() made.
std::string database_of(const std::string& spec) {
  size_t start = spec.find('/', spec.find("://") + 3) + 1;
  return spec.substr(start, spec.find('?', start) - start);
}

}  // namespace

std::string with_database(const std::string& url, const std::string& name) {
  size_t authority = url.find("://");
  authority = authority == std::string::npos ? 0 : authority + 3;
  size_t query = url.find('?', authority);
  size_t path = url.find('/', authority);
  if (path == std::string::npos || (query != std::string::npos && path > query)) {
    std::string out = url;
    return out.insert(query == std::string::npos ? out.size() : query, "/" + name);
  }
  size_t end = query == std::string::npos ? url.size() : query;
  return url.substr(0, path + 1) + name + url.substr(end);
}

Result<std::string> create_postgres_database() {
  std::string url = testing::test_postgres_url();
  if (url.empty())
    return make_error(ErrorKind::kUnavailable, "no_test_server",
                      "no test PostgreSQL server: run through ctest (fixture `postgres`), or set "
                      "SEALHOOK_TEST_POSTGRES=postgres://sealhook@127.0.0.1:PORT/sealhook "
                      "(scripts/start-postgres.sh)");
  // Unique across the processes sharing the server (ctest -j, two worktrees): pid, a counter
  // and a random part; lowercase, so that it needs no quoting.
  std::random_device rd;
  std::string name = "sealhook_contract_" + std::to_string(::getpid()) + "_" +
                     std::to_string(next_database++) + "_" + std::to_string(rd() % 1'000'000);
  if (Status s = on_server(url, "CREATE DATABASE " + name); !s) return s.error();
  return with_database(url, name);
}

void drop_postgres_database(const std::string& spec) {
  std::string url = testing::test_postgres_url();
  // FORCE: a connection the store under test left open must not keep the database alive.
  Status s = on_server(url, "DROP DATABASE IF EXISTS " + database_of(spec) + " WITH (FORCE)");
  EXPECT_TRUE(s.ok()) << s.error().message;
}

}  // namespace sealhook::contract
