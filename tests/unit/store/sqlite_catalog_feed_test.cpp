// The catalog change feed of the SQLite store: its bound. The feed's behaviour common to every
// store is in the store contract suite (tests/contract/store_contract_feed_test.cpp).
#include <gtest/gtest.h>

#include "store/store.hpp"
#include "test_util.hpp"

namespace sealhook {
namespace {

using testing::api_key;
using testing::open_store;
using testing::tenant;

// migrations/0006_catalog_feed.sql keeps the last 20,000 versions' changes.
TEST(SqliteCatalogFeed, OldChangesArePrunedToABound) {
  testing::TempDir dir;
  auto store = open_store("sqlite:" + (dir.path() / "feed.db").string());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->insert_tenant(tenant("tn_a"), api_key("ak_a", "tn_a")).ok());
  std::vector<std::string> patterns;
  for (int i = 0; i < 500; ++i) patterns.push_back("t" + std::to_string(i));
  // Each write replaces 500 rows: ~1,000 changes a write.
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(store->put_subscriptions("tn_a", patterns).ok());
  int64_t version = store->catalog_version().value();
  ASSERT_GT(version, 20'000);
  auto c = store->load_catalog_changes(0, 1'000'000).value();
  EXPECT_TRUE(c.too_far_behind);  // version 1 was pruned
  auto recent = store->load_catalog_changes(version - 19'000, 1'000'000).value();
  EXPECT_FALSE(recent.too_far_behind);
  EXPECT_EQ(recent.tenant_ids, std::vector<std::string>{"tn_a"});
}

}  // namespace
}  // namespace sealhook
