#pragma once
// A fresh database per test on the test PostgreSQL server (the ctest fixture `postgres`, or
// SEALHOOK_TEST_POSTGRES): created with a unique name, dropped after (with whatever
// connections are still open to it). No server is a failure, never a skip.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <random>
#include <string>

#include "test_postgres_url.hpp"

namespace sealhook::testing {

// One libpq connection for what the store does not do (CREATE DATABASE, a lock held).
class PgAdmin {
 public:
  explicit PgAdmin(const std::string& url) : conn_(PQconnectdb(url.c_str())) {}
  ~PgAdmin() { PQfinish(conn_); }
  PgAdmin(const PgAdmin&) = delete;
  PgAdmin& operator=(const PgAdmin&) = delete;
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  std::string error() const { return PQerrorMessage(conn_); }
  // The first column of the first row ("" when none), or an error message after "ERROR: ".
  std::string exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    std::string out;
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK && PQntuples(r) > 0) {
      out = PQgetvalue(r, 0, 0);
    } else if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      out = std::string("ERROR: ") + PQresultErrorMessage(r);
    }
    PQclear(r);
    return out;
  }

 private:
  PGconn* conn_;
};

// `url` with its database (the path) replaced by `db`, its query kept.
inline std::string with_database(const std::string& url, const std::string& db) {
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  size_t query = url.find('?');
  std::string head = url.substr(0, slash == std::string::npos ? query : slash);
  std::string tail = query == std::string::npos ? "" : url.substr(query);
  return head + "/" + db + tail;
}

class FreshDatabase : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = test_postgres_url();
    ASSERT_FALSE(server_.empty())
        << "no PostgreSQL: run through ctest (fixture postgres), or set SEALHOOK_TEST_POSTGRES";
    std::random_device rd;
    name_ = "sealhook_test_" + std::to_string(rd()) + std::to_string(rd());
    PgAdmin admin(server_);
    ASSERT_TRUE(admin.ok()) << admin.error();
    ASSERT_EQ(admin.exec("CREATE DATABASE " + name_), "");
    url_ = with_database(server_, name_);
  }
  void TearDown() override {
    if (name_.empty() || server_.empty()) return;
    PgAdmin admin(server_);
    if (admin.ok()) (void)admin.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }
  const std::string& url() const { return url_; }

 private:
  std::string server_, name_, url_;
};

}  // namespace sealhook::testing
