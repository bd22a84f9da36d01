// The store contract: the catalog (tenants, API keys, public keys, subscriptions, endpoints),
// written, replaced, deleted and read back whole or a few tenants at a time.
#include "contract/store_contract.hpp"

namespace sealhook::contract {
namespace {

using Patterns = std::vector<std::string>;

TEST_P(StoreContract, CatalogRoundTripsEverything) {
  ASSERT_TRUE(store->insert_tenant(tenant("tn_b", 20), api_key("ak_2", "tn_b", 21)).ok());
  ASSERT_TRUE(store->insert_tenant(tenant("tn_a", 10), api_key("ak_1", "tn_a", 11)).ok());
  ASSERT_TRUE(store->insert_api_key(api_key("ak_3", "tn_a", 30)).ok());
  PublicKeyRecord old_key{"kid_old", "tn_a", "RSA-OAEP-256", R"({"kty":"RSA","n":"x","e":"AQAB"})",
                          40};
  PublicKeyRecord new_key{"kid_new", "tn_a", "ECDH-ES+A256KW", R"({"kty":"OKP","crv":"X25519"})",
                          50};
  ASSERT_TRUE(store->insert_public_key(new_key).ok());  // inserted first, created later
  ASSERT_TRUE(store->insert_public_key(old_key).ok());
  ASSERT_TRUE(store->put_subscriptions("tn_a", {"order.created", "invoice.*", "a.b"}).ok());
  ASSERT_TRUE(store->put_subscriptions("tn_b", {"*"}).ok());
  Endpoint ordered{"ep_1",
                   "tn_a",
                   "https://a.example/hook?x=1&y=é",
                   "whsec_1",
                   {"order.created", "invoice.paid", "a.b"},
                   Ordering::kOrdered,
                   3,
                   60,
                   "whsec_0",
                   99'000};
  Endpoint all_types{
      "ep_2", "tn_b", "https://b.example/hook", "whsec_2", {}, Ordering::kUnordered, 6, 70, "", 0};
  ASSERT_TRUE(store->put_endpoint(all_types).ok());
  ASSERT_TRUE(store->put_endpoint(ordered).ok());

  Catalog c = catalog();
  // Tenants, keys and endpoints oldest first; public keys oldest first (the last one listed
  // for a tenant is its newest key); subscriptions in the order given.
  EXPECT_EQ(c.tenants, (std::vector<Tenant>{tenant("tn_a", 10), tenant("tn_b", 20)}));
  EXPECT_EQ(c.api_keys,
            (std::vector<ApiKey>{api_key("ak_1", "tn_a", 11), api_key("ak_2", "tn_b", 21),
                                 api_key("ak_3", "tn_a", 30)}));
  EXPECT_EQ(c.public_keys, (std::vector<PublicKeyRecord>{old_key, new_key}));
  ASSERT_EQ(c.subscriptions.size(), 2u);
  EXPECT_EQ(c.subscriptions[0].first, "tn_a");
  EXPECT_EQ(c.subscriptions[0].second, (Patterns{"order.created", "invoice.*", "a.b"}));
  EXPECT_EQ(c.subscriptions[1].first, "tn_b");
  EXPECT_EQ(c.subscriptions[1].second, (Patterns{"*"}));
  EXPECT_EQ(c.endpoints, (std::vector<Endpoint>{ordered, all_types}));
}

TEST_P(StoreContract, PutReplacesSubscriptionsAndEndpoints) {
  fill_tenant("tn_a");
  ASSERT_TRUE(store->put_subscriptions("tn_a", {"x", "y"}).ok());
  Endpoint e{"ep_tn_a", "tn_a", "https://new.example", "whsec_new", {"b", "a"}, Ordering::kOrdered,
             9,         999,    "whsec_old",           12'345};
  ASSERT_TRUE(store->put_endpoint(e).ok());
  Catalog c = catalog();
  ASSERT_EQ(c.subscriptions.size(), 1u);
  EXPECT_EQ(c.subscriptions[0].second, (Patterns{"x", "y"}));
  e.created_at_ms = 7;  // creation time is kept; everything else, a rotation too, is replaced
  EXPECT_EQ(c.endpoints, std::vector<Endpoint>{e});

  e.event_types = {};
  e.previous_secret = "";
  e.previous_secret_expires_at_ms = 0;
  ASSERT_TRUE(store->put_endpoint(e).ok());
  EXPECT_EQ(catalog().endpoints, std::vector<Endpoint>{e});
  ASSERT_TRUE(store->put_subscriptions("tn_a", {}).ok());
  EXPECT_TRUE(catalog().subscriptions.empty());
}

// The state is written apart from the rest: an edit (put_endpoint, as a PATCH of other fields
// made by a process that has not seen the change yet) never undoes a change of state.
TEST_P(StoreContract, EndpointStateIsWrittenApartAndKeptByEdits) {
  fill_tenant("tn_a");
  fill_tenant("tn_b");
  Endpoint created{"ep_new",
                   "tn_a",
                   "https://s.example",
                   "whsec_s",
                   {},
                   Ordering::kUnordered,
                   6,
                   5,
                   "",
                   0,
                   {true, StateReason::kManual, 5}};
  ASSERT_TRUE(store->put_endpoint(created).ok());
  const EndpointState gone{true, StateReason::kGone, 1'700'000'000'123};
  ASSERT_TRUE(store->set_endpoint_state("tn_a", "ep_tn_a", gone).value());
  // In that state already (another process put it there): no change, the first one's kept.
  EXPECT_FALSE(
      store->set_endpoint_state("tn_a", "ep_tn_a", {true, StateReason::kFailing, 7}).value());
  auto find = [&](const std::string& id) {
    for (const Endpoint& e : catalog().endpoints)
      if (e.id == id) return e;
    return Endpoint{};
  };
  EXPECT_EQ(find("ep_new").state, created.state);  // created with its state
  Endpoint e = find("ep_tn_a");
  EXPECT_EQ(e.state, gone);
  Endpoint stale = e;
  stale.url = "https://edited.example";
  stale.state = EndpointState{};  // what the editing process still believed
  ASSERT_TRUE(store->put_endpoint(stale).ok());
  e = find("ep_tn_a");
  EXPECT_EQ(e.url, "https://edited.example");
  EXPECT_EQ(e.state, gone);
  const EndpointState enabled{false, StateReason::kManual, 1'700'000'000'456};
  ASSERT_TRUE(store->set_endpoint_state("tn_a", "ep_tn_a", enabled).value());
  EXPECT_EQ(find("ep_tn_a").state, enabled);
  // Another tenant's endpoint, or none: not found, and nothing changes.
  auto other = store->set_endpoint_state("tn_b", "ep_tn_a", gone);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(store->set_endpoint_state("tn_a", "ep_nope", gone).error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(find("ep_tn_a").state, enabled);
  // The change of state reaches other processes by the feed, and a reload of the tenant too.
  auto tenants = store->load_tenants_catalog({"tn_a"}).value();
  ASSERT_FALSE(tenants.endpoints.empty());
  for (const Endpoint& x : tenants.endpoints)
    EXPECT_EQ(x.state, x.id == "ep_new" ? created.state : enabled) << x.id;
}

TEST_P(StoreContract, DeleteTenantCascades) {
  fill_tenant("tn_a");
  fill_tenant("tn_b");
  DeliveryUpdate dead = update(delivery("tn_a", 1, DeliveryStatus::kDead), {attempt(1, 1, 500)});
  dead.dead_body = "jwe";
  DeliveryRecord kept = delivery("tn_b", 2);
  write({dead, update(delivery("tn_a", 3)), update(kept, {attempt(1, 5, 200)})});
  ASSERT_TRUE(store->reserve_idempotency("tn_a", "k", "h", 1, 0, 0).ok());
  ASSERT_TRUE(store->complete_idempotency("tn_a", "k", "{}").ok());
  ASSERT_TRUE(store->reserve_idempotency("tn_b", "k", "h", 1, 0, 0).ok());
  ASSERT_TRUE(store->complete_idempotency("tn_b", "k", R"({"b":1})").ok());

  ASSERT_TRUE(store->delete_tenant("tn_a").ok());
  Catalog c = catalog();
  EXPECT_EQ(c.tenants, std::vector<Tenant>{tenant("tn_b")});
  EXPECT_EQ(c.api_keys, std::vector<ApiKey>{api_key("ak_tn_b", "tn_b")});
  ASSERT_EQ(c.public_keys.size(), 1u);
  EXPECT_EQ(c.public_keys[0].kid, "kid_tn_b");
  ASSERT_EQ(c.subscriptions.size(), 1u);
  EXPECT_EQ(c.subscriptions[0].first, "tn_b");
  EXPECT_EQ(c.endpoints, std::vector<Endpoint>{endpoint("ep_tn_b", "tn_b")});
  EXPECT_EQ(*store->count_deliveries(std::nullopt), 1);
  EXPECT_EQ(*store->count_deliveries(DeliveryStatus::kDead), 0);  // its dead letter went too
  EXPECT_FALSE(store->get_delivery("tn_a", dead.record.id)->has_value());
  EXPECT_TRUE(store->get_attempts(dead.record.id)->empty());
  EXPECT_TRUE(store->list_deliveries("tn_a", std::nullopt, 10, std::nullopt)->data.empty());
  EXPECT_EQ(store->get_attempts(kept.id)->size(), 1u);
  // Its idempotency keys went too; the other tenant's stay.
  EXPECT_EQ(store->reserve_idempotency("tn_a", "k", "h", 2, 0, 0)->state, Reservation::kReserved);
  EXPECT_EQ(store->reserve_idempotency("tn_b", "k", "h", 2, 0, 0)->response_json, R"({"b":1})");

  // The ids can be used again.
  ASSERT_TRUE(store->insert_tenant(tenant("tn_a"), api_key("ak_tn_a", "tn_a")).ok());
  ASSERT_TRUE(store->put_endpoint(endpoint("ep_tn_a", "tn_a")).ok());
}

TEST_P(StoreContract, DeletingWhatDoesNotExistIsNotFound) {
  fill_tenant("tn_a");
  fill_tenant("tn_b");
  std::vector<Status> results = {
      store->delete_tenant("tn_zz"),
      store->delete_api_key("tn_a", "ak_nope"),
      store->delete_api_key("tn_b", "ak_tn_a"),  // another tenant's key
      store->delete_public_key("tn_a", "kid_nope"),
      store->delete_public_key("tn_b", "kid_tn_a"),
      store->delete_endpoint("tn_a", "ep_nope"),
      store->delete_endpoint("tn_b", "ep_tn_a"),
      store->put_subscriptions("tn_zz", {}),
      store->put_subscriptions("tn_zz", {"a"}),
      store->insert_api_key(api_key("ak_x", "tn_zz")),
      store->insert_public_key({"kid", "tn_zz", "RSA-OAEP-256", "{}", 1}),
      store->put_endpoint(endpoint("ep_x", "tn_zz")),
  };
  for (size_t i = 0; i < results.size(); ++i) {
    ASSERT_FALSE(results[i].ok()) << i;
    EXPECT_EQ(results[i].error().kind, ErrorKind::kNotFound) << i;
    EXPECT_EQ(results[i].error().code, "not_found") << i;
  }
  Catalog c = catalog();  // nothing was removed or added along the way
  EXPECT_EQ(c.tenants.size(), 2u);
  EXPECT_EQ(c.api_keys.size(), 2u);
  EXPECT_EQ(c.public_keys.size(), 2u);
  EXPECT_EQ(c.subscriptions.size(), 2u);
  EXPECT_EQ(c.endpoints.size(), 2u);
}

TEST_P(StoreContract, DeletesRemoveOneThing) {
  fill_tenant("tn_a");
  fill_tenant("tn_b");
  ASSERT_TRUE(store->insert_api_key(api_key("ak_2", "tn_a", 2000)).ok());
  ASSERT_TRUE(store->delete_api_key("tn_a", "ak_tn_a").ok());
  ASSERT_TRUE(store->delete_public_key("tn_a", "kid_tn_a").ok());
  write({update(delivery("tn_a", 1))});
  ASSERT_TRUE(store->delete_endpoint("tn_a", "ep_tn_a").ok());
  Catalog c = catalog();
  EXPECT_EQ(c.api_keys,
            (std::vector<ApiKey>{api_key("ak_tn_b", "tn_b"), api_key("ak_2", "tn_a", 2000)}));
  ASSERT_EQ(c.public_keys.size(), 1u);
  EXPECT_EQ(c.public_keys[0].tenant_id, "tn_b");
  EXPECT_EQ(c.endpoints, std::vector<Endpoint>{endpoint("ep_tn_b", "tn_b")});
  // An endpoint's deliveries stay, as history.
  EXPECT_TRUE(store->get_delivery("tn_a", delivery("tn_a", 1).id)->has_value());
  // Deleted twice: the second finds nothing.
  EXPECT_EQ(store->delete_endpoint("tn_a", "ep_tn_a").error().kind, ErrorKind::kNotFound);
}

TEST_P(StoreContract, DuplicatesAreConflicts) {
  fill_tenant("tn_a");
  fill_tenant("tn_b");
  std::vector<Status> results = {
      store->insert_tenant(tenant("tn_a"), api_key("ak_new", "tn_a")),
      store->insert_tenant(tenant("tn_c"), api_key("ak_tn_a", "tn_c")),  // duplicate key id
      store->insert_api_key(api_key("ak_tn_a", "tn_a")),
      store->insert_public_key({"kid_tn_a", "tn_a", "RSA-OAEP-256", "{}", 1}),
      // An endpoint id that belongs to another tenant is not taken over.
      store->put_endpoint(
          {"ep_tn_a", "tn_b", "https://evil", "whsec", {}, Ordering::kUnordered, 1, 1, "", 0}),
  };
  for (size_t i = 0; i < results.size(); ++i) {
    ASSERT_FALSE(results[i].ok()) << i;
    EXPECT_EQ(results[i].error().kind, ErrorKind::kConflict) << i;
    EXPECT_EQ(results[i].error().code, "already_exists") << i;
  }
  // A kid is a key thumbprint: two tenants may upload the same public key.
  EXPECT_TRUE(store->insert_public_key({"kid_tn_a", "tn_b", "RSA-OAEP-256", "{}", 1}).ok());
  Catalog c = catalog();
  EXPECT_EQ(c.tenants, (std::vector<Tenant>{tenant("tn_a"), tenant("tn_b")}));  // no tn_c
  EXPECT_EQ(c.api_keys.size(), 2u);
  EXPECT_EQ(c.endpoints,
            (std::vector<Endpoint>{endpoint("ep_tn_a", "tn_a"), endpoint("ep_tn_b", "tn_b")}));
}

TEST_P(StoreContract, TheCatalogOfSomeTenants) {
  fill_tenant("tn_a");
  fill_tenant("tn_b");
  fill_tenant("tn_c");
  ASSERT_TRUE(store->put_subscriptions("tn_a", {"a", "b"}).ok());
  ASSERT_TRUE(store->put_subscriptions("tn_c", {}).ok());
  Endpoint e{"ep_1", "tn_a", "http://x/", "whsec_x", {"a", "b"}, Ordering::kOrdered, 3, 1, "", 0};
  ASSERT_TRUE(store->put_endpoint(e).ok());
  ASSERT_TRUE(store->delete_tenant("tn_b").ok());

  auto cat = store->load_tenants_catalog({"tn_a", "tn_b", "tn_gone", "tn_c"});
  ASSERT_TRUE(cat.ok()) << cat.error().message;
  EXPECT_EQ(cat->tenants, (std::vector<Tenant>{tenant("tn_a"), tenant("tn_c")}));
  EXPECT_EQ(cat->api_keys,
            (std::vector<ApiKey>{api_key("ak_tn_a", "tn_a"), api_key("ak_tn_c", "tn_c")}));
  ASSERT_EQ(cat->public_keys.size(), 2u);
  EXPECT_EQ(cat->public_keys[0].kid, "kid_tn_a");
  EXPECT_EQ(cat->public_keys[1].kid, "kid_tn_c");
  ASSERT_EQ(cat->subscriptions.size(), 1u);  // tn_c subscribes to nothing
  EXPECT_EQ(cat->subscriptions[0].first, "tn_a");
  EXPECT_EQ(cat->subscriptions[0].second, (Patterns{"a", "b"}));
  // Each tenant's endpoints oldest first (e was created at 1, ep_tn_a at 7).
  EXPECT_EQ(cat->endpoints,
            (std::vector<Endpoint>{e, endpoint("ep_tn_a", "tn_a"), endpoint("ep_tn_c", "tn_c")}));
  auto none = store->load_tenants_catalog({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->tenants.empty());
  EXPECT_TRUE(none->endpoints.empty());
}

}  // namespace
}  // namespace sealhook::contract
