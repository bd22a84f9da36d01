// Retry scheduling with many deliveries pending. The queue is filled once per process with
// `pending` deliveries over 10,000 endpoints, each pushed, leased and retry()'d to a time
// spread over the next hour (so they sit in the shards' timer heaps), all sharing one 1 KiB
// body. The timed loop then takes one due delivery through lease() and puts it back with
// retry() due at once: a heap pop and a heap push (sifting to the top) on a heap of
// pending/16 per shard. Memory of the fill is reported per pending delivery:
//   rss_per_pending   VmRSS growth / pending (run alone for a clean number: memory that
//                     earlier benchmarks freed is reused without growing RSS)
//   heap_per_pending  malloc bytes in use growth / pending (mallinfo2; exact either way)
//   BM_RetryLease/pending:<n>
#include <benchmark/benchmark.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common.hpp"
#include "queue/memory/memory_queue.hpp"
#include "queue_util.hpp"

namespace sealhook::bench {
namespace {

constexpr size_t kEndpoints = 10'000;
constexpr int64_t kSpreadMs = 3'600'000;

struct Filled {
  ManualClock clock{kNowMs};
  std::unique_ptr<MemoryQueue> queue;
  double rss_per_pending = 0, heap_per_pending = 0, fill_seconds = 0;
};

// Pushes `n` due deliveries one per endpoint per round, leases them, retries each into the
// future: the path a failed attempt takes.
void fill(MemoryQueue& q, size_t pending) {
  auto endpoints = endpoint_ids(kEndpoints);
  auto body = shared_body();
  std::string event_id = new_id("evt_", kNowMs);
  size_t done = 0;
  while (done < pending) {
    size_t round = std::min(kEndpoints, pending - done);
    std::vector<QueuedDelivery> batch;
    batch.reserve(round);
    for (size_t i = 0; i < round; ++i) {
      QueuedDelivery d;
      d.id = new_id("msg_", kNowMs);
      d.tenant_id = "tn_01HZY3K4V5W6X7Y8Z9A0B1C2D3";
      d.endpoint_id = endpoints[i];
      d.event_id = event_id;
      d.event_type = "order.created";
      d.body = body;
      d.not_before_ms = kNowMs;
      d.published_at_ms = kNowMs;
      batch.push_back(std::move(d));
    }
    check(q.push(std::move(batch)).ok(), "fill push");
    auto leased = q.lease(kNowMs, round, 60'000);
    check(leased.size() == round, "fill lease");
    for (auto& l : leased)
      check(q.retry(l, kNowMs + 1'000 + static_cast<int64_t>((done++ * 7919) % kSpreadMs)).ok(),
            "fill retry");
  }
}

Filled& filled(size_t pending) {
  static std::map<size_t, std::unique_ptr<Filled>> cache;
  auto& slot = cache[pending];
  if (slot) return *slot;
  slot = std::make_unique<Filled>();
  slot->queue = std::make_unique<MemoryQueue>(options(pending + 1'000), slot->clock);
  size_t rss0 = rss_bytes(), heap0 = heap_in_use_bytes();
  auto t0 = std::chrono::steady_clock::now();
  fill(*slot->queue, pending);
  slot->fill_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (pending > 0) {
    slot->rss_per_pending = (static_cast<double>(rss_bytes()) - static_cast<double>(rss0)) /
                            static_cast<double>(pending);
    slot->heap_per_pending =
        (static_cast<double>(heap_in_use_bytes()) - static_cast<double>(heap0)) /
        static_cast<double>(pending);
  }
  // One delivery due now, the one the timed loop cycles.
  QueuedDelivery due = sample_delivery(shared_body());
  due.endpoint_id = new_id("ep_", kNowMs);
  std::vector<QueuedDelivery> one;
  one.push_back(std::move(due));
  check(slot->queue->push(std::move(one)).ok(), "push the due delivery");
  return *slot;
}

void BM_RetryLease(benchmark::State& state) {
  Filled& f = filled(static_cast<size_t>(state.range(0)));
  MemoryQueue& q = *f.queue;
  for (auto _ : state) {
    auto got = q.lease(kNowMs, 1, 60'000);
    if (got.size() != 1) {
      state.SkipWithError("no due delivery leased");
      break;
    }
    if (!q.retry(got.front(), kNowMs)) {
      state.SkipWithError("retry refused");
      break;
    }
  }
  state.counters["pending"] = static_cast<double>(q.stats().depth);
  state.counters["rss_per_pending"] = f.rss_per_pending;
  state.counters["heap_per_pending"] = f.heap_per_pending;
  state.counters["fill_s"] = f.fill_seconds;
}
BENCHMARK(BM_RetryLease)->ArgName("pending")->Arg(0)->Arg(1'000'000);

}  // namespace
}  // namespace sealhook::bench
