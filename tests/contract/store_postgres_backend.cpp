#include "contract/store_postgres_backend.hpp"

#include <unistd.h>

#include <atomic>
#include <random>

#include "unit/store/postgres_db.hpp"

namespace sealhook::contract {
namespace {

std::atomic<int> next_database{0};

// Runs one statement on the server's own database (CREATE and DROP DATABASE cannot run inside
// the database they name).
Status on_server(const std::string& url, const std::string& sql) {
  testing::PgAdmin admin(url);
  if (!admin.ok())
    return make_error(ErrorKind::kUnavailable, "store_unavailable",
                      "cannot connect to the test PostgreSQL at " + url + ": " + admin.error());
  if (std::string out = admin.exec(sql); !out.empty())
    return make_error(ErrorKind::kInternal, "store_error", sql + " failed: " + out);
  return {};
}

// The database name of a spec create_postgres_database() made.
std::string database_of(const std::string& spec) {
  size_t start = spec.find('/', spec.find("://") + 3) + 1;
  return spec.substr(start, spec.find('?', start) - start);
}

}  // namespace

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
  return testing::with_database(url, name);
}

void drop_postgres_database(const std::string& spec) {
  // FORCE: a connection the store under test left open must not keep the database alive.
  Status s = on_server(testing::test_postgres_url(),
                       "DROP DATABASE IF EXISTS " + database_of(spec) + " WITH (FORCE)");
  EXPECT_TRUE(s.ok()) << s.error().message;
}

}  // namespace sealhook::contract
