// MemoryQueue, one delivery's trip through it: push, lease, ack. The queue holds a
// backlog of 10,000 deliveries spread over the endpoints, so lanes and shards are populated
// as in a busy server; every iteration pushes `batch` deliveries (round-robin over the
// endpoints), leases as many and completes them. The QueuedDelivery objects are recycled
// (the ones leased are pushed again), so no id strings are built in the loop; the vectors
// of the interface (push batch, lease result) are allocated as in production.
//   BM_QueueCycle/endpoints:<n>/batch:<b>/threads:<t>   per_delivery = time per delivery, all
//   threads together (the inverse of the throughput; Time is per iteration, same basis)
// With 1 endpoint and batch 256 the per-endpoint in-flight bound (QueueOptions'
// max_inflight_per_endpoint, default 64) caps what one lease returns, as the dispatcher sees.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "common.hpp"
#include "queue/memory/memory_queue.hpp"
#include "queue_util.hpp"

namespace sealhook::bench {
namespace {

constexpr size_t kBacklog = 10'000;

struct Shared {
  ManualClock clock{kNowMs};
  std::vector<std::string> endpoints;
  std::unique_ptr<MemoryQueue> queue;
};
Shared* g_shared = nullptr;  // set up by thread 0 before the (barrier-guarded) timed loop

void setup(size_t endpoints) {
  g_shared = new Shared;
  g_shared->endpoints = endpoint_ids(endpoints);
  g_shared->queue = std::make_unique<MemoryQueue>(options(10'000'000), g_shared->clock);
  auto body = shared_body();
  std::vector<QueuedDelivery> backlog;
  for (size_t i = 0; i < kBacklog; ++i) {
    backlog.push_back(sample_delivery(body));
    backlog.back().endpoint_id = g_shared->endpoints[i % endpoints];
  }
  check(g_shared->queue->push(std::move(backlog)).ok(), "backlog push");
}

void BM_QueueCycle(benchmark::State& state) {
  const size_t endpoints = static_cast<size_t>(state.range(0));
  const size_t batch = static_cast<size_t>(state.range(1));
  if (state.thread_index() == 0) setup(endpoints);
  std::vector<QueuedDelivery> pool(batch, sample_delivery(shared_body()));
  size_t next = static_cast<size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    Shared& g = *g_shared;
    for (auto& d : pool) d.endpoint_id = g.endpoints[next++ % endpoints];
    if (!g.queue->push(std::move(pool))) {
      state.SkipWithError("push refused");
      break;
    }
    pool.clear();
    while (pool.size() < batch) {
      auto got = g.queue->lease(kNowMs, batch - pool.size(), 60'000);
      for (auto& l : got) {
        (void)g.queue->ack(l);
        pool.push_back(*l.delivery);  // a copy: the leased delivery is shared, read-only
      }
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
  state.counters["per_delivery"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kAvgThreads |
                                                         benchmark::Counter::kInvert);
  if (state.thread_index() == 0) {
    // Other threads are past the end barrier and no longer touch the queue.
    delete g_shared;
    g_shared = nullptr;
  }
}
BENCHMARK(BM_QueueCycle)
    ->ArgNames({"endpoints", "batch"})
    ->ArgsProduct({{1, 10'000}, {1, 256}})
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

}  // namespace
}  // namespace sealhook::bench
