// The catalog change feed in the SQLite store: every catalog write bumps the version and names
// its tenant, in the write's transaction; the changes are bounded and a reader too far behind
// is told so.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "store/store.hpp"
#include "test_util.hpp"

namespace sealhook {
namespace {

using testing::api_key;
using testing::open_store;
using testing::tenant;

class CatalogFeedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store = open_store("sqlite:" + (dir.path() / "feed.db").string());
    ASSERT_NE(store, nullptr);
  }
  int64_t version() { return store->catalog_version().value(); }
  std::vector<std::string> changed_since(int64_t since) {
    auto c = store->load_catalog_changes(since, 10'000).value();
    EXPECT_FALSE(c.too_far_behind);
    std::sort(c.tenant_ids.begin(), c.tenant_ids.end());
    return c.tenant_ids;
  }

  testing::TempDir dir;
  std::unique_ptr<Store> store;
};

TEST_F(CatalogFeedStoreTest, EveryCatalogWriteBumpsTheVersionAndNamesItsTenant) {
  EXPECT_EQ(version(), 0);
  ASSERT_TRUE(store->insert_tenant(tenant("tn_a"), api_key("ak_a", "tn_a")).ok());
  ASSERT_TRUE(store->insert_tenant(tenant("tn_b"), api_key("ak_b", "tn_b")).ok());
  int64_t v = version();
  EXPECT_GT(v, 0);
  EXPECT_EQ(changed_since(0), (std::vector<std::string>{"tn_a", "tn_b"}));

  Endpoint e{"ep_1", "tn_a", "http://x/", "whsec_x", {"a"}, Ordering::kUnordered, 3, 1, "", 0};
  PublicKeyRecord key{"kid1", "tn_b", "RSA-OAEP-256", "{}", 1};
  std::vector<std::function<Status()>> writes = {
      [&] { return store->insert_api_key(api_key("ak_a2", "tn_a")); },
      [&] { return store->delete_api_key("tn_a", "ak_a2"); },
      [&] { return store->insert_public_key(key); },
      [&] { return store->delete_public_key("tn_b", "kid1"); },
      [&] { return store->put_subscriptions("tn_a", {"x.*"}); },
      [&] { return store->put_endpoint(e); },
      [&] {
        e.secret = "whsec_rotated";
        return store->put_endpoint(e);
      },
      [&] { return store->delete_endpoint("tn_a", "ep_1"); },
  };
  std::vector<std::string> owners = {"tn_a", "tn_a", "tn_b", "tn_b",
                                     "tn_a", "tn_a", "tn_a", "tn_a"};
  for (size_t i = 0; i < writes.size(); ++i) {
    int64_t before = version();
    ASSERT_TRUE(writes[i]().ok()) << i;
    EXPECT_GT(version(), before) << i;
    EXPECT_EQ(changed_since(before), std::vector<std::string>{owners[i]}) << i;
  }
  int64_t before = version();
  ASSERT_TRUE(store->delete_tenant("tn_b").ok());
  EXPECT_EQ(changed_since(before), std::vector<std::string>{"tn_b"});
  // Deliveries are no catalog write.
  before = version();
  ASSERT_TRUE(store->write_deliveries({DeliveryUpdate{testing::delivery("tn_a", 1), {}, {}}}).ok());
  EXPECT_EQ(version(), before);
  EXPECT_TRUE(changed_since(before).empty());
}

TEST_F(CatalogFeedStoreTest, AFailedWriteChangesNothing) {
  ASSERT_TRUE(store->insert_tenant(tenant("tn_a"), api_key("ak_a", "tn_a")).ok());
  int64_t before = version();
  // The tenant's first key collides: the whole insert is rolled back, its bumps with it.
  EXPECT_FALSE(store->insert_tenant(tenant("tn_c"), api_key("ak_a", "tn_c")).ok());
  EXPECT_EQ(version(), before);
}

TEST_F(CatalogFeedStoreTest, TooFarBehindWhenMoreThanMaxOrPruned) {
  ASSERT_TRUE(store->insert_tenant(tenant("tn_a"), api_key("ak_a", "tn_a")).ok());
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(store->put_subscriptions("tn_a", {"t" + std::to_string(i)}).ok());
  auto c = store->load_catalog_changes(0, 3).value();
  EXPECT_TRUE(c.too_far_behind);
  EXPECT_EQ(c.version, version());
  auto none = store->load_catalog_changes(version(), 3).value();
  EXPECT_FALSE(none.too_far_behind);
  EXPECT_TRUE(none.tenant_ids.empty());
}

TEST_F(CatalogFeedStoreTest, OldChangesArePrunedToABound) {
  ASSERT_TRUE(store->insert_tenant(tenant("tn_a"), api_key("ak_a", "tn_a")).ok());
  std::vector<std::string> patterns;
  for (int i = 0; i < 500; ++i) patterns.push_back("t" + std::to_string(i));
  // Each write replaces 500 rows: ~1,000 changes a write.
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(store->put_subscriptions("tn_a", patterns).ok());
  ASSERT_GT(version(), 20'000);
  auto c = store->load_catalog_changes(0, 1'000'000).value();
  EXPECT_TRUE(c.too_far_behind);  // version 1 was pruned
  auto recent = store->load_catalog_changes(version() - 19'000, 1'000'000).value();
  EXPECT_FALSE(recent.too_far_behind);
  EXPECT_EQ(recent.tenant_ids, std::vector<std::string>{"tn_a"});
}

TEST_F(CatalogFeedStoreTest, TheCatalogOfSomeTenants) {
  ASSERT_TRUE(store->insert_tenant(tenant("tn_a"), api_key("ak_a", "tn_a")).ok());
  ASSERT_TRUE(store->insert_tenant(tenant("tn_b"), api_key("ak_b", "tn_b")).ok());
  ASSERT_TRUE(store->put_subscriptions("tn_a", {"a", "b"}).ok());
  Endpoint e{"ep_1", "tn_a", "http://x/", "whsec_x", {"a", "b"}, Ordering::kOrdered, 3, 1, "", 0};
  ASSERT_TRUE(store->put_endpoint(e).ok());
  auto cat = store->load_tenants_catalog({"tn_a", "tn_gone"}).value();
  ASSERT_EQ(cat.tenants.size(), 1u);
  EXPECT_EQ(cat.tenants[0], tenant("tn_a"));
  ASSERT_EQ(cat.api_keys.size(), 1u);
  EXPECT_EQ(cat.api_keys[0], api_key("ak_a", "tn_a"));
  ASSERT_EQ(cat.subscriptions.size(), 1u);
  EXPECT_EQ(cat.subscriptions[0].second, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(cat.endpoints.size(), 1u);
  EXPECT_EQ(cat.endpoints[0], e);
}

}  // namespace
}  // namespace sealhook
