// The write-behind cost per delivery: what the journal's writer thread spends in SQLite, the
// work that competes with publish and delivery for the two cores. Each iteration writes
// `batch` publish-time records (create_only) in one write_deliveries() call, then the same
// deliveries as delivered with one attempt each in a second call: a delivery's whole record
// life when it succeeds first time but after the journal wrote its publish-time record, in
// journal batches of `batch`. `/coalesced` writes only the second call: the usual case, where
// the outcome arrives within the journal's settle time and the two records become one.
//   BM_StoreWrite/<memory|wal-file|postgres>[/coalesced]/batch:<n>   per_delivery = per delivery
// The tables grow during the run (a fresh store per run), as they do in production.
// wal-file is the production setup (a .db file, WAL, synchronous=NORMAL) in a temporary
// directory under $TMPDIR (default /tmp), removed afterwards. postgres is the PostgreSQL store
// on the server at SEALHOOK_TEST_POSTGRES (a postgres:// URL; not registered without it), in
// wall time (the server works in processes of its own): each run writes under a tenant of its
// own, whose rows are deleted after it.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "common.hpp"
#include "core/ids.hpp"
#include "queue_util.hpp"
#include "store/store.hpp"

namespace sealhook::bench {
namespace {

namespace fs = std::filesystem;

// Ids as a server making ~16 deliveries per millisecond mints them: time-ordered across
// milliseconds, random within one (a fixed time would make every insert land at a random
// place in the id indexes, which production never does).
DeliveryUpdate record(const std::string& tenant_id, bool delivered) {
  static uint64_t seq = 0;
  DeliveryUpdate u;
  u.record = DeliveryRecord{new_id("msg_", kNowMs + static_cast<int64_t>(seq++ / 16)),
                            tenant_id,
                            "ep_01HZY3K4V5W6X7Y8Z9A0B1C2D3",
                            "evt_01HZY3K4V5W6X7Y8Z9A0B1C2D3",
                            "order.created",
                            DeliveryStatus::kPending,
                            0,
                            kNowMs,
                            kNowMs,
                            kNowMs,
                            ""};
  u.create_only = !delivered;
  return u;
}

enum class Backend { kMemory, kWalFile, kPostgres };

void BM_StoreWrite(benchmark::State& state, Backend backend, bool coalesced) {
  const size_t batch = static_cast<size_t>(state.range(0));
  const bool file = backend == Backend::kWalFile;
  fs::path dir;
  if (file) {
    dir = fs::temp_directory_path() / ("sealhook-micro-" + random_token("", 6));
    fs::create_directories(dir);
  }
  {
    auto store = make_store(backend == Backend::kPostgres ? std::getenv("SEALHOOK_TEST_POSTGRES")
                            : file                        ? "sqlite:" + (dir / "bench.db").string()
                                                          : "sqlite::memory:");
    check(store.ok(), "make_store");
    Tenant t{new_id("tn_", kNowMs), "bench", kNowMs};
    check((*store)->insert_tenant(t, ApiKey{new_id("ak_", kNowMs), t.id, "hash", kNowMs}).ok(),
          "insert_tenant");
    std::vector<DeliveryUpdate> created(batch), done(batch);
    for (auto _ : state) {
      state.PauseTiming();  // building the records is the publisher's and worker's work
      for (size_t i = 0; i < batch; ++i) {
        created[i] = record(t.id, false);
        done[i] = created[i];
        done[i].create_only = false;
        done[i].record.status = DeliveryStatus::kDelivered;
        done[i].record.attempts = 1;
        done[i].attempts = {AttemptRecord{done[i].record.id, 1, kNowMs, 12, 200, ""}};
      }
      state.ResumeTiming();
      if ((!coalesced && !(*store)->write_deliveries(created)) ||
          !(*store)->write_deliveries(done)) {
        state.SkipWithError("write_deliveries failed");
        break;
      }
    }
    if (backend == Backend::kPostgres) check((*store)->delete_tenant(t.id).ok(), "delete_tenant");
  }
  if (file) fs::remove_all(dir);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
  state.counters["per_delivery"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
}

[[maybe_unused]] const bool store_registered = [] {
  const bool postgres = std::getenv("SEALHOOK_TEST_POSTGRES") != nullptr;
  for (bool coalesced : {false, true}) {
    for (Backend backend : {Backend::kMemory, Backend::kWalFile, Backend::kPostgres}) {
      if (backend == Backend::kPostgres && !postgres) continue;
      const char* label = backend == Backend::kMemory    ? "memory"
                          : backend == Backend::kWalFile ? "wal-file"
                                                         : "postgres";
      std::string name = std::string("BM_StoreWrite/") + label + (coalesced ? "/coalesced" : "");
      auto* b = benchmark::RegisterBenchmark(name.c_str(), BM_StoreWrite, backend, coalesced)
                    ->ArgName("batch")
                    ->Arg(1)
                    ->Arg(10)
                    ->Arg(100)
                    ->Arg(1000)
                    ->Unit(benchmark::kMicrosecond);
      // The server does the work in a process of its own: what counts is the wall time.
      if (backend == Backend::kPostgres) b->UseRealTime();
    }
  }
  return true;
}();

}  // namespace
}  // namespace sealhook::bench
