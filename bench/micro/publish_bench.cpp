// A whole POST /v1/events through the router, api::handle_request, on real parts: SQLite
// ":memory:" store, memory queue, catalog service with one tenant (its key, subscription and
// endpoints created through the service), journal, publisher. Measures authentication (two
// SHA-256), parse, field checks, fan-out, plaintext envelope, one jwe_seal, queue push and the
// journal hand-off; not the socket or Beast parsing. The journal writes on its own thread
// (the second core); it is flushed after the timed loop and `journal_flush_ms` says how far
// behind it was. The queue is drained every 4096 publishes, outside the timing.
//   BM_HandlePublish/<alg>/endpoints:<n>[/idempotent]  ("id" set: + one SQLite read and insert)
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <string>

#include "api/context.hpp"
#include "common.hpp"
#include "core/ids.hpp"
#include "publish/publisher.hpp"
#include "publish_body.hpp"
#include "queue/memory/memory_queue.hpp"
#include "queue_util.hpp"

namespace sealhook::bench {
namespace {

namespace http = boost::beast::http;

struct World {
  ManualClock clock;
  std::unique_ptr<Store> store;
  Registry registry;
  delivery::UrlGuard guard{delivery::AddressPolicy{.allow_private = true, .allowed = {}}, {}};
  std::unique_ptr<CatalogService> catalog;
  std::unique_ptr<MemoryQueue> queue;
  std::unique_ptr<Journal> journal;
  std::unique_ptr<Publisher> publisher;
  std::unique_ptr<api::ApiContext> ctx;
  std::string api_key;

  World(Alg alg, int endpoints) {
    auto s = make_store("sqlite::memory:");
    check(s.ok(), "make_store(sqlite::memory:)");
    store = std::move(s.value());
    catalog = std::make_unique<CatalogService>(*store, registry, clock, CatalogLimits{}, guard);
    check(catalog->load().ok(), "catalog load");
    queue = std::make_unique<MemoryQueue>(options(100'000'000), clock);
    journal = std::make_unique<Journal>(*store, clock);
    publisher = std::make_unique<Publisher>(*catalog, *queue, *journal, *store, clock);
    ctx = std::make_unique<api::ApiContext>(api::ApiContext{
        *catalog, *publisher, *store, *journal, *queue, clock, sha256_hex("admin-token-not-used"),
        1024 * 1024, nullptr, nullptr, nullptr, nullptr});
    auto tenant = catalog->create_tenant("bench");
    check(tenant.ok(), "create_tenant");
    const std::string& tid = tenant->first.id;
    api_key = tenant->second;
    auto key =
        catalog->add_public_key(tid, boost::json::value(private_key(alg).public_key().to_jwk()));
    check(key.ok(), "add_public_key");
    check(catalog->set_subscriptions(tid, {"order.*"}).ok(), "set_subscriptions");
    for (int i = 0; i < endpoints; ++i) {
      EndpointSpec spec;
      spec.url = "http://127.0.0.1:9/hook/" + std::to_string(i);
      check(catalog->create_endpoint(tid, spec).ok(), "create_endpoint");
    }
  }

  net::Request request(const std::string& body) const {
    net::Request req{http::verb::post, "/v1/events", 11};
    req.set(http::field::host, "localhost");
    req.set(http::field::authorization, "Bearer " + api_key);
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    return req;
  }

  void drain() {
    for (;;) {
      auto batch = queue->lease(clock.now_ms(), 1024, 60'000);
      if (batch.empty()) return;
      for (const auto& l : batch) (void)queue->ack(l);
    }
  }
};

void BM_HandlePublish(benchmark::State& state, Alg alg, int endpoints, bool idempotent) {
  World w(alg, endpoints);
  const std::string body = publish_body(1024, "");
  net::Request req = w.request(body);
  // With an "id", each publish needs its own key: the body is rebuilt per iteration (a copy
  // of ~1.1 KiB, well under a microsecond).
  const std::string head = body.substr(0, body.size() - 1) + R"(,"id":"order-)";
  uint64_t n = 0, accepted = 0;
  for (auto _ : state) {
    if (idempotent) req.body() = head + std::to_string(n) + "\"}";
    net::Response res = api::handle_request(*w.ctx, req);
    if (res.result_int() != 202) {
      state.SkipWithError(
          ("publish answered " + std::to_string(res.result_int()) + ": " + res.body()).c_str());
      break;
    }
    ++accepted;
    if (++n % 4096 == 0) {
      state.PauseTiming();
      w.drain();
      state.ResumeTiming();
    }
  }
  auto t0 = std::chrono::steady_clock::now();
  w.journal->flush();
  state.counters["journal_flush_ms"] =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  state.counters["deliveries"] = static_cast<double>(accepted) * endpoints;
  state.SetItemsProcessed(static_cast<int64_t>(accepted));
  w.drain();
}

[[maybe_unused]] const bool publish_registered = [] {
  struct Case {
    Alg alg;
    int endpoints;
    bool idempotent;
  };
  for (Case c :
       {Case{Alg::kX25519, 1, false}, Case{Alg::kX25519, 10, false}, Case{Alg::kRsa2048, 1, false},
        Case{Alg::kRsa4096, 1, false}, Case{Alg::kX25519, 1, true}}) {
    std::string name = std::string("BM_HandlePublish/") + alg_name(c.alg) +
                       "/endpoints:" + std::to_string(c.endpoints) +
                       (c.idempotent ? "/idempotent" : "");
    benchmark::RegisterBenchmark(name.c_str(), BM_HandlePublish, c.alg, c.endpoints, c.idempotent)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  }
  return true;
}();

}  // namespace
}  // namespace sealhook::bench
