// The store contract: a tenant's deliveries listed newest first, a page at a time, whole or by
// status; the cursor walks every record once and never shows another tenant's.
#include <algorithm>
#include <set>

#include "contract/store_contract.hpp"
#include "core/ids.hpp"

namespace sealhook::contract {
namespace {

using Ids = std::vector<std::string>;

class ListContract : public TwoTenants {
 protected:
  // Every page of a listing, following `next`; the sizes of the pages in `sizes`.
  Ids walk(const std::string& tenant, std::optional<DeliveryStatus> status, size_t limit,
           std::vector<size_t>* sizes = nullptr) {
    Ids seen;
    std::optional<std::string> cursor;
    for (int pages = 0; pages < 1000; ++pages) {
      auto page = store->list_deliveries(tenant, status, limit, cursor);
      EXPECT_TRUE(page.ok()) << (page.ok() ? "" : page.error().message);
      if (!page.ok()) break;
      if (sizes) sizes->push_back(page->data.size());
      for (const auto& d : page->data) {
        EXPECT_EQ(d.tenant_id, tenant);
        if (status) {
          EXPECT_EQ(d.status, *status) << d.id;
        }
        seen.push_back(d.id);
      }
      if (!page->next) break;
      EXPECT_FALSE(page->data.empty()) << "a next page after an empty one";
      if (page->data.empty()) break;
      EXPECT_EQ(*page->next, page->data.back().id);
      cursor = page->next;
    }
    return seen;
  }
};

TEST_P(ListContract, ListsNewestFirstInPages) {
  std::vector<DeliveryUpdate> batch;
  for (int i = 1; i <= 25; ++i) {
    DeliveryUpdate u = update(
        delivery("tn_a", i, i % 5 == 0 ? DeliveryStatus::kDead : DeliveryStatus::kDelivered));
    if (i % 5 == 0) u.dead_body = "x";
    batch.push_back(u);
    batch.push_back(update(delivery("tn_b", 100 + i)));
  }
  write(batch);

  Ids want;
  for (int i = 25; i >= 1; --i) want.push_back(delivery("tn_a", i).id);
  std::vector<size_t> sizes;
  EXPECT_EQ(walk("tn_a", std::nullopt, 10, &sizes), want);
  EXPECT_EQ(sizes, (std::vector<size_t>{10, 10, 5}));
  sizes.clear();
  EXPECT_EQ(walk("tn_a", std::nullopt, 5, &sizes), want);
  EXPECT_EQ(sizes, (std::vector<size_t>{5, 5, 5, 5, 5}));  // exactly a page left: no phantom next
  EXPECT_EQ(walk("tn_a", std::nullopt, 1000), want);

  // The records themselves, not only their ids.
  auto first = store->list_deliveries("tn_a", std::nullopt, 1, std::nullopt);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->data.size(), 1u);
  expect_same(first->data[0], delivery("tn_a", 25, DeliveryStatus::kDead));

  sizes.clear();
  EXPECT_EQ(walk("tn_a", DeliveryStatus::kDead, 3, &sizes),
            (Ids{delivery("tn_a", 25).id, delivery("tn_a", 20).id, delivery("tn_a", 15).id,
                 delivery("tn_a", 10).id, delivery("tn_a", 5).id}));
  EXPECT_EQ(sizes, (std::vector<size_t>{3, 2}));
  EXPECT_EQ(walk("tn_a", DeliveryStatus::kDelivered, 7).size(), 20u);
  EXPECT_TRUE(walk("tn_a", DeliveryStatus::kPending, 10).empty());
  EXPECT_TRUE(walk("tn_b", DeliveryStatus::kDead, 10).empty());
  EXPECT_EQ(walk("tn_b", DeliveryStatus::kPending, 100).size(), 25u);
  EXPECT_TRUE(walk("tn_zz", std::nullopt, 10).empty());
}

// Real ids (time then random, Crockford base32): newest first is their byte order, whatever the
// database's collation.
TEST_P(ListContract, NewestFirstIsTheOrderOfRealIds) {
  std::vector<DeliveryRecord> records;
  for (int i = 0; i < 60; ++i) {
    DeliveryRecord d = delivery(i % 3 ? "tn_a" : "tn_b", i);
    d.id = new_id("msg_", 1'700'000'000'000 + (i / 2) * 977);  // two ids per millisecond
    records.push_back(d);
  }
  std::vector<DeliveryUpdate> batch;
  for (const auto& d : records) batch.push_back(update(d));
  write(batch);
  for (const char* tenant : {"tn_a", "tn_b"}) {
    Ids want;
    for (const auto& d : records)
      if (d.tenant_id == tenant) want.push_back(d.id);
    std::sort(want.rbegin(), want.rend());
    EXPECT_EQ(walk(tenant, std::nullopt, 7), want) << tenant;
    EXPECT_EQ(walk(tenant, DeliveryStatus::kPending, 4), want) << tenant;
  }
}

// A cursor walk sees every record once, in order, with the status filter too, and another
// tenant's cursor shows nothing of that tenant.
TEST_P(ListContract, TheCursorWalksEveryRecordOnceAndKeepsToItsTenant) {
  std::vector<DeliveryUpdate> batch;
  Ids pending_a, all_a;
  for (int i = 200; i >= 1; --i) {
    DeliveryStatus st = i % 4 == 0   ? DeliveryStatus::kPending
                        : i % 4 == 1 ? DeliveryStatus::kLost
                                     : DeliveryStatus::kDelivered;
    DeliveryRecord d = delivery("tn_a", 2 * i, st);
    batch.push_back(update(d));
    all_a.push_back(d.id);
    if (st == DeliveryStatus::kPending) pending_a.push_back(d.id);
    batch.push_back(update(delivery("tn_b", 2 * i + 1, st)));  // interleaved with tn_a's ids
  }
  write(batch);
  for (size_t limit : {1u, 3u, 49u, 50u, 51u, 500u}) {
    EXPECT_EQ(walk("tn_a", std::nullopt, limit), all_a) << limit;
    EXPECT_EQ(walk("tn_a", DeliveryStatus::kPending, limit), pending_a) << limit;
  }
  EXPECT_EQ(walk("tn_a", DeliveryStatus::kLost, 13).size(), 50u);
  // tn_b's cursor, from its own listing, used on tn_a's: only tn_a's older records follow.
  auto b_page = store->list_deliveries("tn_b", std::nullopt, 10, std::nullopt);
  ASSERT_TRUE(b_page.ok() && b_page->next);
  auto a_after = store->list_deliveries("tn_a", std::nullopt, 1000, b_page->next);
  ASSERT_TRUE(a_after.ok());
  for (const auto& d : a_after->data) {
    EXPECT_EQ(d.tenant_id, "tn_a");
    EXPECT_LT(d.id, *b_page->next);
  }
  EXPECT_EQ(a_after->data.size(), 191u);  // seqs 2..382
}

INSTANTIATE_TEST_SUITE_P(Backends, ListContract, ::testing::ValuesIn(kStoreBackends),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sealhook::contract
