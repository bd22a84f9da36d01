#include "contract/store_contract.hpp"

#include <atomic>
#include <cstdlib>
#include <thread>

namespace sealhook::contract {

void StoreContract::SetUp() {
  auto spec = GetParam().create();
  if (!spec) {
    // Outside CI a developer without the server may run the rest; in CI a missing server is a
    // failure, never a test that silently passed.
    if (spec.error().code == "no_test_server" && std::getenv("CI") == nullptr)
      GTEST_SKIP() << GetParam().name << ": " << spec.error().message;
    FAIL() << GetParam().name << ": " << spec.error().message;
  }
  spec_ = *spec;
  store = open_another();
  ASSERT_NE(store, nullptr);
}

void StoreContract::TearDown() {
  store.reset();
  if (!spec_.empty()) GetParam().drop(spec_);
}

std::unique_ptr<Store> StoreContract::open_another() {
  auto opened = make_store(spec_);
  EXPECT_TRUE(opened.ok()) << spec_ << ": " << (opened.ok() ? "" : opened.error().message);
  return opened.ok() ? std::move(opened.value()) : nullptr;
}

void TwoTenants::SetUp() {
  StoreContract::SetUp();
  if (store == nullptr) return;  // skipped or failed
  add_tenant("tn_a");
  add_tenant("tn_b");
}

void StoreContract::race(int n, const std::function<void(int, Store&)>& body) {
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < n; ++i) {
    stores.push_back(open_another());
    ASSERT_NE(stores.back(), nullptr);
  }
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      ready++;
      while (ready.load() < n) std::this_thread::yield();  // all at once, as far as can be
      body(i, *stores[i]);
    });
  }
  for (auto& t : threads) t.join();
}

void StoreContract::add_tenant(const std::string& id, int64_t at) {
  Status s = store->insert_tenant(testing::tenant(id, at), testing::api_key("ak_" + id, id, at));
  ASSERT_TRUE(s.ok()) << s.error().message;
}

void StoreContract::fill_tenant(const std::string& id) {
  add_tenant(id);
  ASSERT_TRUE(
      store->insert_public_key({"kid_" + id, id, "RSA-OAEP-256", "{\"kty\":\"RSA\"}", 5}).ok());
  ASSERT_TRUE(store->put_subscriptions(id, {"order.*"}).ok());
  ASSERT_TRUE(store->put_endpoint(endpoint("ep_" + id, id)).ok());
}

void StoreContract::write(const std::vector<DeliveryUpdate>& batch) {
  Status s = store->write_deliveries(batch);
  ASSERT_TRUE(s.ok()) << s.error().message;
}

Catalog StoreContract::catalog() {
  auto c = store->load_catalog();
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  return c.ok() ? *c : Catalog{};
}

DeliveryRecord StoreContract::read(const std::string& tenant_id, const std::string& id) {
  auto got = store->get_delivery(tenant_id, id);
  EXPECT_TRUE(got.ok()) << (got.ok() ? "" : got.error().message);
  EXPECT_TRUE(got.ok() && got->has_value()) << tenant_id << "/" << id << " is not there";
  return got.ok() && got->has_value() ? **got : DeliveryRecord{};
}

void expect_same(const DeliveryRecord& got, const DeliveryRecord& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.tenant_id, want.tenant_id) << want.id;
  EXPECT_EQ(got.endpoint_id, want.endpoint_id) << want.id;
  EXPECT_EQ(got.event_id, want.event_id) << want.id;
  EXPECT_EQ(got.event_type, want.event_type) << want.id;
  EXPECT_EQ(to_string(got.status), to_string(want.status)) << want.id;
  EXPECT_EQ(got.attempts, want.attempts) << want.id;
  EXPECT_EQ(got.created_at_ms, want.created_at_ms) << want.id;
  EXPECT_EQ(got.updated_at_ms, want.updated_at_ms) << want.id;
  EXPECT_EQ(got.next_attempt_at_ms, want.next_attempt_at_ms) << want.id;
  EXPECT_EQ(got.last_error, want.last_error) << want.id;
}

void expect_same(const AttemptRecord& got, const AttemptRecord& want) {
  EXPECT_EQ(got.delivery_id, want.delivery_id);
  EXPECT_EQ(got.number, want.number) << want.delivery_id;
  EXPECT_EQ(got.at_ms, want.at_ms) << want.delivery_id << " #" << want.number;
  EXPECT_EQ(got.duration_ms, want.duration_ms) << want.delivery_id << " #" << want.number;
  EXPECT_EQ(got.status_code, want.status_code) << want.delivery_id << " #" << want.number;
  EXPECT_EQ(got.error, want.error) << want.delivery_id << " #" << want.number;
}

Endpoint endpoint(const std::string& id, const std::string& tenant_id, int64_t at) {
  return Endpoint{id,
                  tenant_id,
                  "https://example.com/" + id,
                  "whsec_x",
                  {"order.created"},
                  Ordering::kUnordered,
                  6,
                  at,
                  "",
                  0};
}

DeliveryUpdate update(const DeliveryRecord& d, std::vector<AttemptRecord> attempts) {
  for (AttemptRecord& a : attempts) a.delivery_id = d.id;
  return DeliveryUpdate{d, std::move(attempts), {}, false, false};
}

AttemptRecord attempt(int number, int64_t at_ms, int status_code, const std::string& error) {
  return AttemptRecord{"", number, at_ms, 10 + number, status_code, error};
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, ::testing::ValuesIn(kStoreBackends),
                         [](const auto& info) { return info.param.name; });

}  // namespace sealhook::contract
