#pragma once
// The store contract (src/store/store.hpp), written once and run over every backend: sqlite (a
// fresh file per test) and postgres (a fresh database per test, on the server of the ctest
// fixture `postgres`). A backend joins by adding a StoreBackend to kStoreBackends
// (store_backends.cpp).
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "store/store.hpp"
#include "unit/store/test_util.hpp"

namespace sealhook::contract {

using sealhook::testing::api_key;
using sealhook::testing::delivery;
using sealhook::testing::tenant;

struct StoreBackend {
  std::string name;
  // Makes an empty database and returns the spec make_store() opens it with. An error with the
  // code "no_test_server" when the backend has no server to make it on.
  std::function<Result<std::string>()> create;
  // Removes what `create` made (every Store on it is closed by then).
  std::function<void(const std::string& spec)> drop;
};

extern const std::vector<StoreBackend> kStoreBackends;

// gtest names a failed test's backend by this, not by its bytes.
inline void PrintTo(const StoreBackend& backend, std::ostream* os) { *os << backend.name; }

// Fixture: `store` on a database of the test's own, and helpers for records of known values.
class StoreContract : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Another Store on the test's database, as another process sharing it would open it.
  std::unique_ptr<Store> open_another();
  void add_tenant(const std::string& id, int64_t at = 1000);
  // A tenant with one of everything: key ak_ID, public key kid_ID, subscription "order.*" and
  // endpoint ep_ID.
  void fill_tenant(const std::string& id);
  void write(const std::vector<DeliveryUpdate>& batch);
  Catalog catalog();
  DeliveryRecord read(const std::string& tenant_id, const std::string& id);
  // Runs body(0) ... body(n - 1) on n threads at once, each on a Store of its own on the test's
  // database (as n processes sharing it would), and returns when all are done.
  void race(int n, const std::function<void(int, Store&)>& body);

  std::string spec_;
  std::unique_ptr<Store> store;
};

// With tenants tn_a and tn_b: for the tests of what tenants own (deliveries, dead letters).
class TwoTenants : public StoreContract {
 protected:
  void SetUp() override;
};

// The fields of two delivery records, compared one by one so that a failure names the field.
void expect_same(const DeliveryRecord& got, const DeliveryRecord& want);
void expect_same(const AttemptRecord& got, const AttemptRecord& want);
Endpoint endpoint(const std::string& id, const std::string& tenant_id, int64_t at = 7);
// An update of `d` carrying these attempts (each given its delivery id).
DeliveryUpdate update(const DeliveryRecord& d, std::vector<AttemptRecord> attempts = {});
AttemptRecord attempt(int number, int64_t at_ms, int status_code, const std::string& error = "");

}  // namespace sealhook::contract
