// Two CatalogServices over one SQLite file, as two processes would be: a write through one is
// picked up by the other's reload_if_changed(), per tenant (or whole when far behind).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "catalog/catalog.hpp"
#include "catalog/reload_fixture.hpp"

namespace sealhook {
namespace {

using ReloadTest = testing::TwoCatalogs;

TEST_F(ReloadTest, NothingChangedNothingReloaded) {
  EXPECT_FALSE(b.catalog->reload_if_changed().value());
  EXPECT_EQ(b.catalog->version(), a.catalog->version());
}

TEST_F(ReloadTest, ANewTenantEndpointAndApiKeyArriveByDelta) {
  auto [t, token] = a.catalog->create_tenant("acme").value();
  ASSERT_TRUE(a.catalog->set_subscriptions(t.id, {"*"}).ok());
  ASSERT_TRUE(a.catalog->add_public_key(t.id, new_jwk()).ok());
  auto ep = a.catalog->create_endpoint(t.id, spec()).value();
  EXPECT_FALSE(b.catalog->authenticate(token));
  EXPECT_TRUE(b.catalog->reload_if_changed().value());
  EXPECT_EQ(b.catalog->authenticate(token), t.id);
  auto targets = b.catalog->fanout("order.created", std::nullopt);
  ASSERT_EQ(targets.size(), 1u);
  ASSERT_EQ(targets[0].endpoints.size(), 1u);
  EXPECT_EQ(targets[0].endpoints[0]->endpoint, ep);
  EXPECT_TRUE(b.registry.snapshot()->endpoints.find(ep.id));
}

TEST_F(ReloadTest, DeletionsArrive) {
  auto [t, token] = a.catalog->create_tenant("acme").value();
  auto ep = a.catalog->create_endpoint(t.id, spec()).value();
  auto [key, token2] = a.catalog->create_api_key(t.id).value();
  ASSERT_TRUE(b.catalog->reload_if_changed().value());
  ASSERT_TRUE(b.catalog->authenticate(token2));
  ASSERT_TRUE(a.catalog->delete_api_key(t.id, key.id, false).ok());
  ASSERT_TRUE(a.catalog->delete_endpoint(t.id, ep.id).ok());
  ASSERT_TRUE(b.catalog->reload_if_changed().value());
  EXPECT_FALSE(b.catalog->authenticate(token2));
  EXPECT_TRUE(b.catalog->authenticate(token));
  EXPECT_FALSE(b.registry.snapshot()->endpoints.find(ep.id));
  ASSERT_TRUE(a.catalog->delete_tenant(t.id).ok());
  ASSERT_TRUE(b.catalog->reload_if_changed().value());
  EXPECT_FALSE(b.catalog->authenticate(token));
  EXPECT_FALSE(b.registry.snapshot()->tenants.find(t.id));
  EXPECT_EQ(b.registry.snapshot()->api_keys.size(), 0u);
}

TEST_F(ReloadTest, AKeyRotationAndASecretRotationArrive) {
  auto t = a.catalog->create_tenant("acme").value().first;
  auto first = a.catalog->add_public_key(t.id, new_jwk()).value();
  auto ep = a.catalog->create_endpoint(t.id, spec()).value();
  ASSERT_TRUE(b.catalog->reload_if_changed().value());
  EXPECT_EQ(tenant_in(b, t.id)->active_key()->record.kid, first.kid);
  auto second = a.catalog->add_public_key(t.id, new_jwk()).value();
  auto rotated = a.catalog->rotate_endpoint_secret(t.id, ep.id, std::nullopt).value();
  ASSERT_TRUE(b.catalog->reload_if_changed().value());
  EXPECT_EQ(tenant_in(b, t.id)->active_key()->record.kid, second.kid);
  auto seen = *b.registry.snapshot()->endpoints.find(ep.id);
  EXPECT_EQ(seen->endpoint.secret, rotated.secret);
  EXPECT_TRUE(seen->previous.has_value());
  ASSERT_TRUE(a.catalog->delete_public_key(t.id, second.kid).ok());
  ASSERT_TRUE(b.catalog->reload_if_changed().value());
  EXPECT_EQ(tenant_in(b, t.id)->active_key()->record.kid, first.kid);
}

TEST_F(ReloadTest, AnOrderingSwitchIsToldToThisProcesssQueue) {
  auto t = a.catalog->create_tenant("acme").value().first;
  auto ep = a.catalog->create_endpoint(t.id, spec()).value();
  ASSERT_TRUE(b.catalog->reload_if_changed().value());
  std::vector<Endpoint> told;
  b.catalog->set_remote_ordering_hook([&](const Endpoint& e) {
    told.push_back(e);
    return Status{};
  });
  EndpointSpec ordered;
  ordered.ordering = Ordering::kOrdered;
  ASSERT_TRUE(a.catalog->update_endpoint(t.id, ep.id, ordered).ok());
  ASSERT_TRUE(b.catalog->reload_if_changed().value());
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0].id, ep.id);
  EXPECT_EQ(told[0].ordering, Ordering::kOrdered);
  EXPECT_EQ((*b.registry.snapshot()->endpoints.find(ep.id))->endpoint.ordering, Ordering::kOrdered);
  // A queue that refuses: the reload fails and is tried again at the next check.
  b.catalog->set_remote_ordering_hook([](const Endpoint&) -> Status {
    return make_error(ErrorKind::kUnavailable, "queue_unavailable", "down");
  });
  ordered.ordering = Ordering::kUnordered;
  ASSERT_TRUE(a.catalog->update_endpoint(t.id, ep.id, ordered).ok());
  EXPECT_FALSE(b.catalog->reload_if_changed().ok());
  b.catalog->set_remote_ordering_hook(nullptr);
  EXPECT_TRUE(b.catalog->reload_if_changed().value());
  EXPECT_EQ((*b.registry.snapshot()->endpoints.find(ep.id))->endpoint.ordering,
            Ordering::kUnordered);
}

TEST_F(ReloadTest, AReloadOfOwnWritesKeepsTheViewsAsTheyAre) {
  auto t = a.catalog->create_tenant("acme").value().first;
  a.catalog->create_endpoint(t.id, spec()).value();
  auto before = tenant_in(a, t.id);
  EXPECT_TRUE(a.catalog->reload_if_changed().value());  // its own writes moved the version
  EXPECT_EQ(tenant_in(a, t.id).get(), before.get());    // same view: nothing rebuilt
  EXPECT_FALSE(a.catalog->reload_if_changed().value());
}

TEST_F(ReloadTest, FarBehindReloadsEverything) {
  auto t = a.catalog->create_tenant("acme").value().first;
  // Each replaces one subscription row: two changes.
  for (size_t i = 0; i <= CatalogService::kMaxDelta / 2; ++i)
    ASSERT_TRUE(a.catalog->set_subscriptions(t.id, {"t" + std::to_string(i)}).ok());
  auto other = a.catalog->create_tenant("other").value().first;
  ASSERT_TRUE(b.catalog->reload_if_changed().value());
  EXPECT_EQ(tenant_in(b, t.id)->patterns,
            std::vector<std::string>{"t" + std::to_string(CatalogService::kMaxDelta / 2)});
  EXPECT_TRUE(tenant_in(b, other.id));
  EXPECT_EQ(b.catalog->version(), a.store->catalog_version().value());
}

// Figures for the README: one changed tenant among 10,000, by delta and by a full reload.
TEST_F(ReloadTest, DeltaIsCheaperThanFull) {
  std::vector<std::string> ids;
  for (int i = 0; i < 10'000; ++i) ids.push_back(a.catalog->create_tenant("t").value().first.id);
  ASSERT_TRUE(b.catalog->reload_if_changed().value());
  using clock = std::chrono::steady_clock;
  ASSERT_TRUE(a.catalog->create_endpoint(ids[5'000], spec()).ok());
  auto t0 = clock::now();
  ASSERT_TRUE(b.catalog->reload_if_changed().value());
  auto delta = clock::now() - t0;
  t0 = clock::now();
  ASSERT_TRUE(b.catalog->load().ok());
  auto full = clock::now() - t0;
  auto us = [](auto d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); };
  std::printf("reload of 1 changed tenant of 10,000: delta %lld us, full %lld us\n",
              static_cast<long long>(us(delta)), static_cast<long long>(us(full)));
  EXPECT_LT(delta, full);
}

}  // namespace
}  // namespace sealhook
