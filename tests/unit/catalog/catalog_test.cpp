// The catalog service over a real SQLite store: who an event reaches (fan-out routing through
// the per-tenant index), kept in step with endpoint changes and rebuilt the same from the store.
#include "catalog/catalog.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "crypto/keygen.hpp"

namespace sealhook {
namespace {

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store = std::move(make_store("sqlite::memory:").value());
    limits.max_endpoints_per_tenant = 1000;  // enough for the map's chunks to split
    catalog = std::make_unique<CatalogService>(*store, registry, clock, limits, guard);
    tenant = catalog->create_tenant("acme").value().first.id;
    auto key = crypto::generate_key(crypto::KeyType::kX25519, 0).value();
    ASSERT_TRUE(catalog->add_public_key(tenant, key.public_key().to_jwk()).ok());
    ASSERT_TRUE(catalog->set_subscriptions(tenant, {"*"}).ok());
  }

  std::string endpoint(std::vector<std::string> types) {
    EndpointSpec spec;
    spec.url = "http://127.0.0.1:9/hook";
    spec.event_types = std::move(types);
    return catalog->create_endpoint(tenant, spec).value().id;
  }

  // The endpoints an event reaches (a tenant without a public key is skipped by the publisher).
  static std::set<std::string> reached(const CatalogService& c, std::string_view type) {
    std::set<std::string> out;
    for (const auto& target : c.fanout(type, std::nullopt)) {
      if (!target.tenant->active_key()) continue;
      for (const auto& ep : target.endpoints) EXPECT_TRUE(out.insert(ep->endpoint.id).second);
    }
    return out;
  }

  ManualClock clock;
  delivery::UrlGuard guard{delivery::AddressPolicy{.allow_private = true, .allowed = {}}, {}};
  CatalogLimits limits;
  Registry registry;
  std::unique_ptr<Store> store;
  std::unique_ptr<CatalogService> catalog;
  std::string tenant;
};

TEST_F(CatalogTest, FanoutRoutesByExactTypeWildcardAndNoFilter) {
  auto exact = endpoint({"a"});
  auto two = endpoint({"a", "b"});
  auto wild = endpoint({"b.*"});
  auto all = endpoint({});
  EXPECT_EQ(reached(*catalog, "a"), (std::set<std::string>{exact, two, all}));
  EXPECT_EQ(reached(*catalog, "b"), (std::set<std::string>{two, all}));
  EXPECT_EQ(reached(*catalog, "b.x"), (std::set<std::string>{wild, all}));
  EXPECT_EQ(reached(*catalog, "zzz"), (std::set<std::string>{all}));

  EndpointSpec to_c;
  to_c.event_types = std::vector<std::string>{"c"};
  ASSERT_TRUE(catalog->update_endpoint(tenant, exact, to_c).ok());
  ASSERT_TRUE(catalog->delete_endpoint(tenant, all).ok());
  EXPECT_EQ(reached(*catalog, "a"), (std::set<std::string>{two}));
  EXPECT_EQ(reached(*catalog, "c"), (std::set<std::string>{exact}));
  EXPECT_TRUE(reached(*catalog, "zzz").empty());

  // The same routes come back from the store.
  Registry fresh;
  CatalogService reloaded(*store, fresh, clock, CatalogLimits{}, guard);
  ASSERT_TRUE(reloaded.load().ok());
  EXPECT_EQ(reached(reloaded, "a"), (std::set<std::string>{two}));
  EXPECT_EQ(reached(reloaded, "b.y"), (std::set<std::string>{wild}));
  EXPECT_EQ(reached(reloaded, "c"), (std::set<std::string>{exact}));
}

TEST_F(CatalogTest, SubscriptionsAndKeysGateTheTenant) {
  auto ep = endpoint({});
  ASSERT_TRUE(catalog->set_subscriptions(tenant, {"order.*"}).ok());
  EXPECT_EQ(reached(*catalog, "order.created"), (std::set<std::string>{ep}));
  EXPECT_TRUE(reached(*catalog, "invoice.paid").empty());
  auto other = catalog->create_tenant("no-key").value().first.id;  // subscribed, no key
  ASSERT_TRUE(catalog->set_subscriptions(other, {"*"}).ok());
  EndpointSpec spec;
  spec.url = "http://127.0.0.1:9/x";
  auto other_ep = catalog->create_endpoint(other, spec).value().id;
  EXPECT_EQ(reached(*catalog, "order.created"), (std::set<std::string>{ep}));  // never unencrypted
  // ...but listed without a key, so that the publisher can count what it skips.
  auto targets = catalog->fanout("order.created", other);
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(targets[0].tenant->active_key(), nullptr);
  ASSERT_EQ(targets[0].endpoints.size(), 1u);
  EXPECT_EQ(targets[0].endpoints[0]->endpoint.id, other_ep);
}

TEST_F(CatalogTest, ApiKeysAreListedAndRevokedOneByOneButTheLastOnlyOnPurpose) {
  auto [t, first] = catalog->create_tenant("gamma").value();
  auto [second, second_token] = catalog->create_api_key(t.id).value();
  auto keys = catalog->list_api_keys(t.id).value();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[1].id, second.id);
  ASSERT_TRUE(catalog->delete_api_key(t.id, keys[0].id, false).ok());
  EXPECT_FALSE(catalog->authenticate(first).has_value());  // revoked at once
  EXPECT_EQ(catalog->authenticate(second_token), t.id);
  EXPECT_EQ(catalog->delete_api_key(t.id, keys[0].id, false).error().code, "not_found");
  EXPECT_EQ(catalog->delete_api_key(tenant, second.id, true).error().code, "not_found");
  EXPECT_EQ(catalog->delete_api_key(t.id, second.id, false).error().code, "last_api_key");
  EXPECT_EQ(catalog->authenticate(second_token), t.id);
  ASSERT_TRUE(catalog->delete_api_key(t.id, second.id, true).ok());
  EXPECT_FALSE(catalog->authenticate(second_token).has_value());
  EXPECT_TRUE(catalog->list_api_keys(t.id).value().empty());
  // The store agrees: a restart does not bring a revoked key back.
  Registry fresh;
  CatalogService reloaded(*store, fresh, clock, CatalogLimits{}, guard);
  ASSERT_TRUE(reloaded.load().ok());
  EXPECT_FALSE(reloaded.authenticate(first).has_value());
  EXPECT_TRUE(reloaded.list_api_keys(t.id).value().empty());
}

TEST_F(CatalogTest, ApiKeysAuthenticateTheirTenantOnly) {
  auto created = catalog->create_tenant("beta").value();
  EXPECT_EQ(catalog->authenticate(created.second), created.first.id);
  EXPECT_FALSE(catalog->authenticate(created.second + "x").has_value());
  auto second = catalog->create_api_key(created.first.id).value();
  EXPECT_EQ(catalog->authenticate(second.second), created.first.id);
  ASSERT_TRUE(catalog->delete_tenant(created.first.id).ok());
  EXPECT_FALSE(catalog->authenticate(created.second).has_value());
  EXPECT_FALSE(catalog->authenticate(second.second).has_value());
}

TEST_F(CatalogTest, ApiKeyBoundCountsEachTenantsOwnKeysAcrossARestart) {
  CatalogLimits few_keys;
  few_keys.max_api_keys_per_tenant = 2;
  Registry r;
  CatalogService c(*store, r, clock, few_keys, guard);
  ASSERT_TRUE(c.load().ok());
  auto a = c.create_tenant("a").value().first.id;  // its first key comes with it
  auto b = c.create_tenant("b").value().first.id;
  ASSERT_TRUE(c.create_api_key(a).ok());
  EXPECT_EQ(c.create_api_key(a).error().code, "limit_reached");
  ASSERT_TRUE(c.create_api_key(b).ok());  // b's count is its own

  Registry fresh;
  CatalogService reloaded(*store, fresh, clock, few_keys, guard);
  ASSERT_TRUE(reloaded.load().ok());
  EXPECT_EQ(reloaded.create_api_key(a).error().code, "limit_reached");
  EXPECT_EQ(reloaded.create_api_key(b).error().code, "limit_reached");
  EXPECT_EQ(reloaded.create_api_key(tenant).value().first.tenant_id, tenant);
}

TEST_F(CatalogTest, EndpointsAreKeptInIdOrderThroughChangesAndARestart) {
  std::vector<std::string> ids;
  for (int i = 0; i < 300; ++i) ids.push_back(endpoint({i % 2 ? "a" : "b"}));
  ASSERT_TRUE(catalog->delete_endpoint(tenant, ids[7]).ok());
  ids.erase(ids.begin() + 7);
  EXPECT_EQ(catalog->delete_endpoint(tenant, ids[7] + "x").error().code, "not_found");
  std::sort(ids.begin(), ids.end());
  auto listed = [](const CatalogService& c, const std::string& t) {
    std::vector<std::string> out;
    auto snap = c.snapshot();
    for (const auto& [id, ep] : (*snap->tenants.find(t))->endpoints) {
      EXPECT_EQ(ep->endpoint.id, id);
      EXPECT_TRUE(snap->endpoints.contains(id));
      out.push_back(id);
    }
    return out;
  };
  EXPECT_EQ(listed(*catalog, tenant), ids);
  EXPECT_EQ(reached(*catalog, "a").size() + reached(*catalog, "b").size(), ids.size());
  Registry fresh;
  CatalogService reloaded(*store, fresh, clock, limits, guard);
  ASSERT_TRUE(reloaded.load().ok());
  EXPECT_EQ(listed(reloaded, tenant), ids);
  EXPECT_EQ(reached(reloaded, "a"), reached(*catalog, "a"));
}

TEST_F(CatalogTest, PublishReachesExactlyTheSubscribedTenantsAsSubscriptionsChange) {
  auto onboard = [&](const std::string& name, std::vector<std::string> patterns) {
    auto id = catalog->create_tenant(name).value().first.id;
    auto key = crypto::generate_key(crypto::KeyType::kX25519, 0).value();
    EXPECT_TRUE(catalog->add_public_key(id, key.public_key().to_jwk()).ok());
    EXPECT_TRUE(catalog->set_subscriptions(id, patterns).ok());
    EndpointSpec spec;
    spec.url = "http://127.0.0.1:9/" + name;
    return catalog->create_endpoint(id, spec).value();
  };
  auto a = onboard("a", {"a"}), b = onboard("b", {"b.*"}), c = onboard("c", {});
  auto d = onboard("d", {"a", "c"});
  using S = std::set<std::string>;
  EXPECT_EQ(reached(*catalog, "a"), (S{a.id, d.id}));
  EXPECT_EQ(reached(*catalog, "b.x"), (S{b.id}));
  EXPECT_EQ(reached(*catalog, "c"), (S{d.id}));
  EXPECT_EQ(reached(*catalog, "b"), S{});

  ASSERT_TRUE(catalog->set_subscriptions(a.tenant_id, {"c"}).ok());
  ASSERT_TRUE(catalog->set_subscriptions(c.tenant_id, {"*"}).ok());
  ASSERT_TRUE(catalog->set_subscriptions(d.tenant_id, {}).ok());
  EXPECT_EQ(reached(*catalog, "a"), (S{c.id}));
  EXPECT_EQ(reached(*catalog, "c"), (S{a.id, c.id}));
  ASSERT_TRUE(catalog->delete_tenant(a.tenant_id).ok());
  EXPECT_EQ(reached(*catalog, "c"), (S{c.id}));
  EXPECT_EQ(reached(*catalog, "b.y"), (S{b.id, c.id}));

  Registry fresh;
  CatalogService reloaded(*store, fresh, clock, limits, guard);
  ASSERT_TRUE(reloaded.load().ok());
  for (std::string type : {"a", "b.y", "c", "zzz"})
    EXPECT_EQ(reached(reloaded, type), reached(*catalog, type)) << type;
}

// Rotation: a new secret; the old one signs too for the grace (the server's default, or what the
// rotation asks for, bounded), is kept in the store so that every process signs alike, and can
// be expired early. Setting a secret with PATCH replaces both.
TEST_F(CatalogTest, RotatingASecretKeepsTheOldOneSigningForTheGrace) {
  auto id = endpoint({});
  const std::string original = catalog->snapshot()->endpoints.find(id)->get()->endpoint.secret;
  limits.secret_rotation_grace_ms = 3'600'000;
  CatalogService service(*store, registry, clock, limits, guard);
  auto rotated = service.rotate_endpoint_secret(tenant, id, std::nullopt);
  ASSERT_TRUE(rotated.ok()) << rotated.error().message;
  EXPECT_NE(rotated->secret, original);
  EXPECT_TRUE(crypto::SigningSecret::parse(rotated->secret).ok());
  EXPECT_EQ(rotated->previous_secret, original);
  EXPECT_EQ(rotated->previous_secret_expires_at_ms, clock.now_ms() + 3'600'000);
  const EndpointView& view = **catalog->snapshot()->endpoints.find(id);
  EXPECT_EQ(view.secret.to_string(), rotated->secret);
  ASSERT_NE(view.previous_at(clock.now_ms() + 3'599'999), nullptr);
  EXPECT_EQ(view.previous_at(clock.now_ms() + 3'599'999)->to_string(), original);
  EXPECT_EQ(view.previous_at(clock.now_ms() + 3'600'000), nullptr);

  // Another process loading the store signs with the same two secrets.
  Registry fresh;
  CatalogService reloaded(*store, fresh, clock, CatalogLimits{}, guard);
  ASSERT_TRUE(reloaded.load().ok());
  const EndpointView& loaded = **reloaded.snapshot()->endpoints.find(id);
  EXPECT_EQ(loaded.secret.to_string(), rotated->secret);
  ASSERT_NE(loaded.previous_at(clock.now_ms()), nullptr);
  EXPECT_EQ(loaded.previous_at(clock.now_ms())->to_string(), original);

  // The grace a rotation asks for, within bounds; a second rotation drops the oldest secret.
  auto again = service.rotate_endpoint_secret(tenant, id, 0);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->previous_secret, rotated->secret);
  EXPECT_EQ((**catalog->snapshot()->endpoints.find(id)).previous_at(clock.now_ms()), nullptr);
  for (int64_t bad : {int64_t{-1}, limits.max_secret_rotation_grace_ms + 1}) {
    auto refused = service.rotate_endpoint_secret(tenant, id, bad);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, "invalid_grace_period");
  }
  EXPECT_EQ(catalog->snapshot()->endpoints.find(id)->get()->endpoint.secret, again->secret);

  // Expired early: from now on the new secret alone, here and after a reload.
  ASSERT_TRUE(service.rotate_endpoint_secret(tenant, id, 60'000).ok());
  auto expired = service.expire_previous_secret(tenant, id);
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(expired->previous_secret, "");
  EXPECT_EQ((**catalog->snapshot()->endpoints.find(id)).previous_at(clock.now_ms()), nullptr);
  EXPECT_EQ(service.expire_previous_secret(tenant, id).error().code, "not_found");
  Registry after;
  CatalogService reloaded_after(*store, after, clock, CatalogLimits{}, guard);
  ASSERT_TRUE(reloaded_after.load().ok());
  EXPECT_EQ((**reloaded_after.snapshot()->endpoints.find(id)).previous_at(clock.now_ms()), nullptr);

  // PATCH with a secret: exactly that secret, no overlap.
  ASSERT_TRUE(service.rotate_endpoint_secret(tenant, id, 60'000).ok());
  EndpointSpec own;
  own.secret = crypto::SigningSecret::generate().to_string();
  auto patched = service.update_endpoint(tenant, id, own);
  ASSERT_TRUE(patched.ok());
  EXPECT_EQ(patched->secret, *own.secret);
  EXPECT_EQ(patched->previous_secret, "");
  EXPECT_EQ((**catalog->snapshot()->endpoints.find(id)).previous_at(clock.now_ms()), nullptr);

  // Only the tenant's own endpoints.
  auto other = catalog->create_tenant("other").value().first.id;
  EXPECT_EQ(service.rotate_endpoint_secret(other, id, std::nullopt).error().code, "not_found");
  EXPECT_EQ(service.expire_previous_secret(other, id).error().code, "not_found");
  EXPECT_EQ(service.rotate_endpoint_secret(tenant, "ep_nope", std::nullopt).error().code,
            "not_found");
}

// A PATCH that changes `ordering` tells the hook (the queue) before it is stored; a refusal
// refuses the PATCH and changes nothing; other changes do not call it.
TEST_F(CatalogTest, AnOrderingChangeReachesTheHookBeforeItIsStored) {
  const std::string ep = endpoint({});
  std::vector<std::pair<std::string, Ordering>> told;
  Status answer;
  catalog->set_ordering_hook([&](const Endpoint& e) {
    told.emplace_back(e.id, e.ordering);
    return answer;
  });
  EndpointSpec to_ordered;
  to_ordered.ordering = Ordering::kOrdered;
  answer = make_error(ErrorKind::kUnavailable, "queue_error", "disk full");
  EXPECT_EQ(catalog->update_endpoint(tenant, ep, to_ordered).error().code, "queue_error");
  EXPECT_EQ((*catalog->snapshot()->endpoints.find(ep))->endpoint.ordering, Ordering::kUnordered);
  answer = Status{};
  ASSERT_TRUE(catalog->update_endpoint(tenant, ep, to_ordered).ok());
  EXPECT_EQ((*catalog->snapshot()->endpoints.find(ep))->endpoint.ordering, Ordering::kOrdered);
  EndpointSpec same;
  same.ordering = Ordering::kOrdered;
  same.max_attempts = 3;
  ASSERT_TRUE(catalog->update_endpoint(tenant, ep, same).ok());
  EXPECT_EQ(told, (std::vector<std::pair<std::string, Ordering>>{{ep, Ordering::kOrdered},
                                                                 {ep, Ordering::kOrdered}}));
  Registry fresh;
  CatalogService reloaded(*store, fresh, clock, limits, guard);
  ASSERT_TRUE(reloaded.load().ok());
  EXPECT_EQ((*reloaded.snapshot()->endpoints.find(ep))->endpoint.ordering, Ordering::kOrdered);
}

}  // namespace
}  // namespace sealhook
