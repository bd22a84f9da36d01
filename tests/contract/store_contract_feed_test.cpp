// The store contract: the catalog change feed. Every catalog write bumps the version and names
// its tenant, in the write's own transaction; a reader more than `max` versions behind is told
// to reload everything.
#include <algorithm>
#include <functional>
#include <set>

#include "contract/store_contract.hpp"

namespace sealhook::contract {
namespace {

using Ids = std::vector<std::string>;

int64_t version(Store& s) {
  auto v = s.catalog_version();
  EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().message);
  return v.ok() ? *v : -1;
}

Ids changed_since(Store& s, int64_t since) {
  auto c = s.load_catalog_changes(since, 10'000);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  if (!c.ok()) return {"(error)"};
  EXPECT_FALSE(c->too_far_behind) << since;
  EXPECT_EQ(c->version, version(s));
  Ids ids = c->tenant_ids;
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size())
      << "a tenant named twice";
  return ids;
}

TEST_P(StoreContract, EveryCatalogWriteBumpsTheVersionAndNamesItsTenant) {
  EXPECT_EQ(version(*store), 0);
  EXPECT_TRUE(changed_since(*store, 0).empty());
  add_tenant("tn_a");
  add_tenant("tn_b");
  EXPECT_GT(version(*store), 0);
  EXPECT_EQ(changed_since(*store, 0), (Ids{"tn_a", "tn_b"}));

  Endpoint e = endpoint("ep_1", "tn_a");
  PublicKeyRecord key{"kid1", "tn_b", "RSA-OAEP-256", "{}", 1};
  std::vector<std::pair<std::string, std::function<Status()>>> writes = {
      {"tn_a", [&] { return store->insert_api_key(api_key("ak_a2", "tn_a")); }},
      {"tn_a", [&] { return store->delete_api_key("tn_a", "ak_a2"); }},
      {"tn_b", [&] { return store->insert_public_key(key); }},
      {"tn_b", [&] { return store->delete_public_key("tn_b", "kid1"); }},
      {"tn_a",
       [&] {
         return store->put_subscriptions("tn_a", {"x.*", "y"});
       }},
      {"tn_a", [&] { return store->put_subscriptions("tn_a", {}); }},
      {"tn_a", [&] { return store->put_endpoint(e); }},
      {"tn_a",
       [&] {
         e.secret = "whsec_rotated";
         return store->put_endpoint(e);
       }},
      {"tn_a",
       [&] {
         auto r = store->set_endpoint_state("tn_a", "ep_1", {true, StateReason::kGone, 9});
         return r ? Status{} : Status(r.error());
       }},
      {"tn_a", [&] { return store->delete_endpoint("tn_a", "ep_1"); }},
      {"tn_b", [&] { return store->delete_tenant("tn_b"); }},
  };
  for (size_t i = 0; i < writes.size(); ++i) {
    int64_t before = version(*store);
    Status s = writes[i].second();
    ASSERT_TRUE(s.ok()) << i << ": " << s.error().message;
    EXPECT_GT(version(*store), before) << i;
    EXPECT_EQ(changed_since(*store, before), Ids{writes[i].first}) << i;
  }
  // Deliveries, idempotency keys and meta are no catalog writes.
  int64_t before = version(*store);
  write({update(delivery("tn_a", 1))});
  ASSERT_TRUE(store->reserve_idempotency("tn_a", "k", "h", 1, 0, 0).ok());
  ASSERT_TRUE(store->put_meta("queue", "redis").ok());
  EXPECT_EQ(version(*store), before);
  EXPECT_TRUE(changed_since(*store, before).empty());
}

TEST_P(StoreContract, AnotherStoreOnTheDatabaseSeesTheVersion) {
  auto other = open_another();
  ASSERT_NE(other, nullptr);
  add_tenant("tn_a");
  EXPECT_EQ(version(*other), version(*store));
  int64_t before = version(*other);
  ASSERT_TRUE(other->put_subscriptions("tn_a", {"a"}).ok());
  EXPECT_GT(version(*store), before);
  EXPECT_EQ(changed_since(*store, before), Ids{"tn_a"});
}

TEST_P(StoreContract, AFailedWriteChangesNothing) {
  fill_tenant("tn_a");
  int64_t before = version(*store);
  // The tenant's first key collides: the whole insert is rolled back, its bumps with it.
  EXPECT_FALSE(store->insert_tenant(tenant("tn_c"), api_key("ak_tn_a", "tn_c")).ok());
  EXPECT_FALSE(store->put_endpoint(endpoint("ep_tn_a", "tn_other")).ok());
  EXPECT_FALSE(store->delete_endpoint("tn_a", "ep_nope").ok());
  EXPECT_FALSE(store->put_subscriptions("tn_zz", {"a"}).ok());
  EXPECT_EQ(version(*store), before);
  EXPECT_TRUE(changed_since(*store, before).empty());
}

// `max` is how many versions a reader takes at once: exactly that many are still changes,
// one more is too far behind (and so is a version nobody has).
TEST_P(StoreContract, TooFarBehindPastMaxVersions) {
  add_tenant("tn_a");
  add_tenant("tn_b");
  int64_t since = version(*store);
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(store->put_subscriptions(i % 2 ? "tn_a" : "tn_b", {"t" + std::to_string(i)}).ok());
  int64_t now = version(*store);
  ASSERT_GE(now - since, 5);
  auto exact = store->load_catalog_changes(since, static_cast<size_t>(now - since));
  ASSERT_TRUE(exact.ok());
  EXPECT_FALSE(exact->too_far_behind);
  EXPECT_EQ(exact->version, now);
  Ids ids = exact->tenant_ids;
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (Ids{"tn_a", "tn_b"}));

  auto over = store->load_catalog_changes(since, static_cast<size_t>(now - since - 1));
  ASSERT_TRUE(over.ok());
  EXPECT_TRUE(over->too_far_behind);
  EXPECT_EQ(over->version, now);

  auto none = store->load_catalog_changes(now, 1);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->too_far_behind);
  EXPECT_EQ(none->version, now);
  EXPECT_TRUE(none->tenant_ids.empty());
}

}  // namespace
}  // namespace sealhook::contract
