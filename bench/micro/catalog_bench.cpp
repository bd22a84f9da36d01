// What one more catalog write costs when the catalog is already large: onboarding must not
// slow down as tenants and endpoints accumulate (a write must not copy the whole catalog).
//   BM_CatalogCreateTenant/tenants:<n>      POST then DELETE /v1/tenants with n tenants (and
//                                           their API keys) in the catalog
//   BM_CatalogCreateEndpoint/endpoints:<n>  POST then DELETE /v1/endpoints in a tenant that has
//                                           n endpoints
// Each iteration deletes what it created, so the catalog keeps its size during the run.
//   BM_CatalogFanout/tenants:<n>            who an event reaches (CatalogService::fanout, once per
//                                           publish) among n tenants, each with a key, one
//                                           endpoint and its own exact event type: one reached
//   BM_CatalogFanoutWildcard/tenants:<n>    the same with every tenant subscribed to "*": all
//                                           reached (per_tenant: the cost of each)
// The catalog is loaded from a real in-memory SQLite store filled directly (not through the
// writes measured), so the set-up stays fast whatever the write costs. Each iteration's write
// also goes to SQLite, as in production: that part is constant.
#include <benchmark/benchmark.h>

#include <boost/json/serialize.hpp>

#include <map>
#include <memory>
#include <string>

#include "catalog/catalog.hpp"
#include "common.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"
#include "crypto/keygen.hpp"

namespace sealhook::bench {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;

struct Fixture {
  std::unique_ptr<Store> store = std::move(make_store("sqlite::memory:").value());
  Registry registry;
  delivery::UrlGuard guard{delivery::AddressPolicy{.allow_private = true, .allowed = {}}, {}};
  ManualClock clock;
  std::unique_ptr<CatalogService> catalog;
  std::string tenant_id;

  // subscribed: every tenant gets a key, the subscription ["t.<i>"] (or ["*"]: `wildcard`)
  // and one endpoint.
  Fixture(size_t tenants, size_t endpoints, bool subscribed = false, bool wildcard = false) {
    clock.set_ms(kT0);
    const auto key = crypto::generate_key(crypto::KeyType::kX25519, 0).value().public_key();
    for (size_t i = 0; i < tenants; ++i) {
      Tenant t{new_id("tn_", kT0 - 1'000'000 + static_cast<int64_t>(i)), "t", kT0};
      ApiKey k{new_id("ak_", kT0), t.id, sha256_hex(t.id), kT0};
      check(store->insert_tenant(t, k).ok(), "insert_tenant");
      tenant_id = t.id;
      if (!subscribed) continue;
      check(store
                ->insert_public_key(PublicKeyRecord{key.kid(), t.id, key.alg(),
                                                    boost::json::serialize(key.to_jwk()), kT0})
                .ok(),
            "insert_public_key");
      std::string pattern = wildcard ? "*" : "t." + std::to_string(i);
      check(store->put_subscriptions(t.id, {pattern}).ok(), "subscriptions");
      check(store->put_endpoint(endpoint(t.id, i)).ok(), "put_endpoint");
    }
    for (size_t i = 0; i < endpoints; ++i)
      check(store->put_endpoint(endpoint(tenant_id, i)).ok(), "put_endpoint");
    CatalogLimits limits;
    limits.max_tenants = 10'000'000;
    limits.max_endpoints_per_tenant = 10'000'000;
    catalog = std::make_unique<CatalogService>(*store, registry, clock, limits, guard);
    check(catalog->load().ok(), "load");
  }

  static Endpoint endpoint(const std::string& tenant, size_t i) {
    return Endpoint{new_id("ep_", kT0 - 1'000'000 + static_cast<int64_t>(i)),
                    tenant,
                    "https://example.com/hook/" + std::to_string(i),
                    crypto::SigningSecret::generate().to_string(),
                    {},
                    Ordering::kUnordered,
                    6,
                    kT0,
                    "",
                    0};
  }
};

void BM_CatalogCreateTenant(benchmark::State& state) {
  Fixture f(static_cast<size_t>(state.range(0)), 0);
  for (auto _ : state) {
    auto created = f.catalog->create_tenant("bench");
    check(created.ok(), "create_tenant");
    check(f.catalog->delete_tenant(created->first.id).ok(), "delete_tenant");
  }
}
BENCHMARK(BM_CatalogCreateTenant)->ArgName("tenants")->Arg(1'000)->Arg(100'000);

void BM_CatalogCreateEndpoint(benchmark::State& state) {
  Fixture f(1, static_cast<size_t>(state.range(0)));
  EndpointSpec spec;
  spec.url = "http://127.0.0.1:9/hook";
  for (auto _ : state) {
    auto created = f.catalog->create_endpoint(f.tenant_id, spec);
    check(created.ok(), "create_endpoint");
    check(f.catalog->delete_endpoint(f.tenant_id, created->id).ok(), "delete_endpoint");
  }
}
BENCHMARK(BM_CatalogCreateEndpoint)->ArgName("endpoints")->Arg(100)->Arg(10'000);

// Google Benchmark calls a benchmark several times per argument: each catalog is built once.
Fixture& subscribed_catalog(size_t tenants, bool wildcard) {
  static std::map<std::pair<size_t, bool>, std::unique_ptr<Fixture>> built;
  auto& slot = built[{tenants, wildcard}];
  if (!slot) slot = std::make_unique<Fixture>(tenants, 0, true, wildcard);
  return *slot;
}

void BM_CatalogFanout(benchmark::State& state) {
  Fixture& f = subscribed_catalog(static_cast<size_t>(state.range(0)), false);
  for (auto _ : state) {
    auto targets = f.catalog->fanout("t.0", std::nullopt);
    check(targets.size() == 1, "fanout");
    benchmark::DoNotOptimize(targets);
  }
}
BENCHMARK(BM_CatalogFanout)->ArgName("tenants")->Arg(1'000)->Arg(100'000);

// Every tenant subscribed to "*" (the fanout1000 scenario): per_tenant = the routing cost of
// one tenant reached.
void BM_CatalogFanoutWildcard(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  Fixture& f = subscribed_catalog(n, true);
  for (auto _ : state) {
    auto targets = f.catalog->fanout("t.0", std::nullopt);
    check(targets.size() == n, "fanout");
    benchmark::DoNotOptimize(targets);
  }
  state.counters["per_tenant"] =
      benchmark::Counter(static_cast<double>(state.iterations() * n),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_CatalogFanoutWildcard)->ArgName("tenants")->Arg(1'000);

}  // namespace
}  // namespace sealhook::bench
