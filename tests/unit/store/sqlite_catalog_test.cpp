#include "store/store.hpp"
#include "test_util.hpp"

namespace sealhook {
namespace {

using testing::api_key;
using testing::tenant;

class SqliteCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::open_store("sqlite:" + dir_.path().string());
    ASSERT_NE(store_, nullptr);
  }

  Catalog catalog() {
    auto c = store_->load_catalog();
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    return c.ok() ? *c : Catalog{};
  }

  void fill_tenant(const std::string& id) {
    ASSERT_TRUE(store_->insert_tenant(tenant(id), api_key("ak_" + id, id)).ok());
    ASSERT_TRUE(
        store_->insert_public_key({"kid_" + id, id, "RSA-OAEP-256", "{\"kty\":\"RSA\"}", 5}).ok());
    ASSERT_TRUE(store_->put_subscriptions(id, {"order.*"}).ok());
    Endpoint e{"ep_" + id,
               id,
               "https://example.com/" + id,
               "whsec_x",
               {"order.created"},
               Ordering::kUnordered,
               6,
               7,
               "",
               0};
    ASSERT_TRUE(store_->put_endpoint(e).ok());
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(SqliteCatalogTest, RoundTripsEverything) {
  ASSERT_TRUE(store_->insert_tenant(tenant("tn_a", 10), api_key("ak_1", "tn_a", 11)).ok());
  ASSERT_TRUE(store_->insert_tenant(tenant("tn_b", 20), api_key("ak_2", "tn_b", 21)).ok());
  ASSERT_TRUE(store_->insert_api_key(api_key("ak_3", "tn_a", 30)).ok());
  PublicKeyRecord old_key{"kid_old", "tn_a", "RSA-OAEP-256", R"({"kty":"RSA","n":"x","e":"AQAB"})",
                          40};
  PublicKeyRecord new_key{"kid_new", "tn_a", "ECDH-ES+A256KW", R"({"kty":"OKP","crv":"X25519"})",
                          50};
  ASSERT_TRUE(store_->insert_public_key(old_key).ok());
  ASSERT_TRUE(store_->insert_public_key(new_key).ok());
  ASSERT_TRUE(store_->put_subscriptions("tn_a", {"order.created", "invoice.*", "a.b"}).ok());
  ASSERT_TRUE(store_->put_subscriptions("tn_b", {"*"}).ok());
  Endpoint ordered{"ep_1",
                   "tn_a",
                   "https://a.example/hook",
                   "whsec_1",
                   {"order.created", "invoice.paid", "a.b"},
                   Ordering::kOrdered,
                   3,
                   60,
                   "",
                   0};
  Endpoint all_types{
      "ep_2", "tn_b", "https://b.example/hook", "whsec_2", {}, Ordering::kUnordered, 6, 70, "", 0};
  ASSERT_TRUE(store_->put_endpoint(ordered).ok());
  ASSERT_TRUE(store_->put_endpoint(all_types).ok());

  Catalog c = catalog();
  ASSERT_EQ(c.tenants.size(), 2u);
  EXPECT_EQ(c.tenants[0].id, "tn_a");
  EXPECT_EQ(c.tenants[0].name, "tn_a-name");
  EXPECT_EQ(c.tenants[0].created_at_ms, 10);
  ASSERT_EQ(c.api_keys.size(), 3u);
  EXPECT_EQ(c.api_keys[2].id, "ak_3");
  EXPECT_EQ(c.api_keys[2].tenant_id, "tn_a");
  EXPECT_EQ(c.api_keys[2].hash_hex, "hash-of-ak_3");
  ASSERT_EQ(c.public_keys.size(), 2u);  // oldest first: the last is the newest
  EXPECT_EQ(c.public_keys[0].kid, "kid_old");
  EXPECT_EQ(c.public_keys[1].kid, "kid_new");
  EXPECT_EQ(c.public_keys[1].alg, "ECDH-ES+A256KW");
  EXPECT_EQ(c.public_keys[1].jwk_json, new_key.jwk_json);
  EXPECT_EQ(c.public_keys[1].created_at_ms, 50);
  ASSERT_EQ(c.subscriptions.size(), 2u);
  EXPECT_EQ(c.subscriptions[0].first, "tn_a");
  EXPECT_EQ(c.subscriptions[0].second,
            (std::vector<std::string>{"order.created", "invoice.*", "a.b"}));
  EXPECT_EQ(c.subscriptions[1].second, (std::vector<std::string>{"*"}));
  ASSERT_EQ(c.endpoints.size(), 2u);
  const Endpoint& e = c.endpoints[0];
  EXPECT_EQ(e.id, "ep_1");
  EXPECT_EQ(e.tenant_id, "tn_a");
  EXPECT_EQ(e.url, ordered.url);
  EXPECT_EQ(e.secret, "whsec_1");
  EXPECT_EQ(e.event_types, ordered.event_types);
  EXPECT_EQ(e.ordering, Ordering::kOrdered);
  EXPECT_EQ(e.max_attempts, 3);
  EXPECT_EQ(e.created_at_ms, 60);
  EXPECT_TRUE(c.endpoints[1].event_types.empty());
  EXPECT_EQ(c.endpoints[1].ordering, Ordering::kUnordered);
}

TEST_F(SqliteCatalogTest, PutReplacesSubscriptionsAndEndpoints) {
  fill_tenant("tn_a");
  ASSERT_TRUE(store_->put_subscriptions("tn_a", {"x", "y"}).ok());
  Endpoint e{"ep_tn_a", "tn_a", "https://new.example", "whsec_new", {"b", "a"}, Ordering::kOrdered,
             9,         999,    "whsec_old",           12'345};
  ASSERT_TRUE(store_->put_endpoint(e).ok());
  Catalog c = catalog();
  ASSERT_EQ(c.subscriptions.size(), 1u);
  EXPECT_EQ(c.subscriptions[0].second, (std::vector<std::string>{"x", "y"}));
  ASSERT_EQ(c.endpoints.size(), 1u);
  EXPECT_EQ(c.endpoints[0].url, "https://new.example");
  EXPECT_EQ(c.endpoints[0].event_types, (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(c.endpoints[0].ordering, Ordering::kOrdered);
  EXPECT_EQ(c.endpoints[0].max_attempts, 9);
  EXPECT_EQ(c.endpoints[0].created_at_ms, 7);              // creation time is kept
  EXPECT_EQ(c.endpoints[0].previous_secret, "whsec_old");  // a rotation is stored
  EXPECT_EQ(c.endpoints[0].previous_secret_expires_at_ms, 12'345);

  ASSERT_TRUE(store_->put_subscriptions("tn_a", {}).ok());
  EXPECT_TRUE(catalog().subscriptions.empty());
}

TEST_F(SqliteCatalogTest, DeleteTenantCascades) {
  fill_tenant("tn_a");
  fill_tenant("tn_b");
  DeliveryUpdate dead{testing::delivery("tn_a", 1, DeliveryStatus::kDead),
                      {{"", 1, 1, 1, 500, "HTTP 500"}},
                      std::string("jwe"),
                      false};
  ASSERT_TRUE(store_->write_deliveries({dead, {testing::delivery("tn_b", 2), {}, {}, false}}).ok());
  ASSERT_TRUE(store_->reserve_idempotency("tn_a", "k", "h", 1, 0, 0).ok());
  ASSERT_TRUE(store_->complete_idempotency("tn_a", "k", "{}").ok());

  ASSERT_TRUE(store_->delete_tenant("tn_a").ok());
  Catalog c = catalog();
  ASSERT_EQ(c.tenants.size(), 1u);
  EXPECT_EQ(c.tenants[0].id, "tn_b");
  for (const auto& k : c.api_keys) EXPECT_EQ(k.tenant_id, "tn_b");
  for (const auto& k : c.public_keys) EXPECT_EQ(k.tenant_id, "tn_b");
  for (const auto& s : c.subscriptions) EXPECT_EQ(s.first, "tn_b");
  for (const auto& e : c.endpoints) EXPECT_EQ(e.tenant_id, "tn_b");
  EXPECT_EQ(c.api_keys.size() + c.public_keys.size() + c.subscriptions.size() + c.endpoints.size(),
            4u);
  EXPECT_EQ(*store_->count_deliveries(std::nullopt), 1);
  EXPECT_TRUE(store_->get_attempts(testing::delivery("tn_a", 1).id)->empty());
  EXPECT_EQ(*store_->count_deliveries(DeliveryStatus::kDead), 0);  // its dead letter went too
  EXPECT_EQ(store_->reserve_idempotency("tn_a", "k", "h", 2, 0, 0)->state,
            Reservation::kReserved);  // its idempotency keys went too

  // The id can be used again.
  ASSERT_TRUE(store_->insert_tenant(tenant("tn_a"), api_key("ak_tn_a", "tn_a")).ok());
}

TEST_F(SqliteCatalogTest, DeletingWhatDoesNotExistIsNotFound) {
  fill_tenant("tn_a");
  fill_tenant("tn_b");
  std::vector<Status> results = {
      store_->delete_tenant("tn_zz"),
      store_->delete_api_key("tn_a", "ak_nope"),
      store_->delete_api_key("tn_b", "ak_tn_a"),  // another tenant's key
      store_->delete_public_key("tn_a", "kid_nope"),
      store_->delete_public_key("tn_b", "kid_tn_a"),
      store_->delete_endpoint("tn_a", "ep_nope"),
      store_->delete_endpoint("tn_b", "ep_tn_a"),
      store_->put_subscriptions("tn_zz", {}),
      store_->insert_api_key(api_key("ak_x", "tn_zz")),
      store_->insert_public_key({"kid", "tn_zz", "RSA-OAEP-256", "{}", 1}),
      store_->put_endpoint(
          {"ep_x", "tn_zz", "https://x", "whsec", {}, Ordering::kUnordered, 1, 1, "", 0}),
  };
  for (size_t i = 0; i < results.size(); ++i) {
    ASSERT_FALSE(results[i].ok()) << i;
    EXPECT_EQ(results[i].error().kind, ErrorKind::kNotFound) << i;
    EXPECT_EQ(results[i].error().code, "not_found") << i;
  }
  EXPECT_EQ(catalog().endpoints.size(), 2u);  // nothing was removed along the way
}

TEST_F(SqliteCatalogTest, DeletesWork) {
  fill_tenant("tn_a");
  ASSERT_TRUE(store_->insert_api_key(api_key("ak_2", "tn_a")).ok());
  ASSERT_TRUE(store_->delete_api_key("tn_a", "ak_tn_a").ok());
  ASSERT_TRUE(store_->delete_public_key("tn_a", "kid_tn_a").ok());
  ASSERT_TRUE(store_->write_deliveries({{testing::delivery("tn_a", 1), {}, {}, false}}).ok());
  ASSERT_TRUE(store_->delete_endpoint("tn_a", "ep_tn_a").ok());
  Catalog c = catalog();
  ASSERT_EQ(c.api_keys.size(), 1u);
  EXPECT_EQ(c.api_keys[0].id, "ak_2");
  EXPECT_TRUE(c.public_keys.empty());
  EXPECT_TRUE(c.endpoints.empty());
  EXPECT_TRUE(store_->get_delivery("tn_a", testing::delivery("tn_a", 1).id)->has_value());
}

TEST_F(SqliteCatalogTest, DuplicatesAreConflicts) {
  fill_tenant("tn_a");
  fill_tenant("tn_b");
  std::vector<Status> results = {
      store_->insert_tenant(tenant("tn_a"), api_key("ak_new", "tn_a")),
      store_->insert_tenant(tenant("tn_c"), api_key("ak_tn_a", "tn_c")),  // duplicate key id
      store_->insert_api_key(api_key("ak_tn_a", "tn_a")),
      store_->insert_public_key({"kid_tn_a", "tn_a", "RSA-OAEP-256", "{}", 1}),
      // An endpoint id that belongs to another tenant is not taken over.
      store_->put_endpoint(
          {"ep_tn_a", "tn_b", "https://evil", "whsec", {}, Ordering::kUnordered, 1, 1, "", 0}),
  };
  for (size_t i = 0; i < results.size(); ++i) {
    ASSERT_FALSE(results[i].ok()) << i;
    EXPECT_EQ(results[i].error().kind, ErrorKind::kConflict) << i;
    EXPECT_EQ(results[i].error().code, "already_exists") << i;
  }
  // A kid is a key thumbprint: two tenants may upload the same public key.
  EXPECT_TRUE(store_->insert_public_key({"kid_tn_a", "tn_b", "RSA-OAEP-256", "{}", 1}).ok());
  Catalog c = catalog();
  EXPECT_EQ(c.tenants.size(), 2u);  // the failed insert_tenant left nothing behind
  EXPECT_EQ(c.api_keys.size(), 2u);
  EXPECT_EQ(c.endpoints[0].url, "https://example.com/tn_a");
}

}  // namespace
}  // namespace sealhook
