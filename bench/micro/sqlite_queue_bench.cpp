// SqliteQueue, one delivery's trip through it as serve makes it on one endpoint: each delivery
// has its own 2 KiB ciphertext (one event, one tenant) and is pushed on its own, answered once
// its group commit is in; `inflight` pushes are outstanding at once (publishers waiting for
// their commit), then each is leased and acked. The queue works on threads of its own (its
// writer, its checkpointer), so what counts is the process's CPU per delivery beside the wall
// time:
//   BM_SqliteQueueCycle/inflight:<n>   per_delivery = wall time per delivery,
//                                      cpu_us = CPU per delivery (every thread), wal_mib = the
//                                      WAL file's size at the end (its high-water mark)
// A fresh queue file per run, in a temporary directory under $TMPDIR (default /tmp).
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "common.hpp"
#include "core/clock.hpp"
#include "queue/sqlite/sqlite_queue.hpp"
#include "queue_util.hpp"

namespace sealhook::bench {
namespace {

namespace fs = std::filesystem;

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

void BM_SqliteQueueCycle(benchmark::State& state) {
  const size_t inflight = static_cast<size_t>(state.range(0));
  const fs::path dir = fs::temp_directory_path() / ("sealhook-micro-" + new_id("q_", kNowMs));
  fs::create_directories(dir);
  ManualClock clock(kNowMs);
  SqliteQueueOptions o;
  o.queue = options(10'000'000);
  o.path = (dir / "queue.db").string();
  auto q = SqliteQueue::open(o, clock);
  check(q.ok(), "open the queue");
  std::mutex mu;
  std::condition_variable cv;
  size_t answered = 0;
  uint64_t ready = 0;
  (*q)->set_ready_listener([&] {
    std::lock_guard lock(mu);
    ++ready;
    cv.notify_all();
  });
  const std::string endpoint = endpoint_ids(1)[0];
  const double cpu0 = cpu_seconds();
  for (auto _ : state) {
    answered = 0;
    for (size_t i = 0; i < inflight; ++i) {
      QueuedDelivery d = sample_delivery(std::make_shared<const std::string>(2048, 'c'));
      d.endpoint_id = endpoint;
      (*q)->push_async({std::move(d)}, [&](Status st) {
        check(st.ok(), "push");
        std::lock_guard lock(mu);
        ++answered;
        cv.notify_all();
      });
    }
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return answered == inflight; });
    }
    for (size_t got = 0; got < inflight;) {
      uint64_t seen = 0;
      {
        std::lock_guard lock(mu);
        seen = ready;
      }
      auto leases = (*q)->lease(kNowMs, inflight - got, 60'000);
      for (const auto& l : leases) check((*q)->ack(l).ok(), "ack");
      got += leases.size();
      if (leases.empty()) {
        std::unique_lock lock(mu);
        cv.wait_for(lock, std::chrono::milliseconds(5), [&] { return ready != seen; });
      }
    }
  }
  const double cpu = cpu_seconds() - cpu0;
  const double n = static_cast<double>(state.iterations() * inflight);
  state.counters["per_delivery"] = benchmark::Counter(
      static_cast<double>(inflight),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["cpu_us"] = cpu / n * 1e6;
  std::error_code ec;
  const auto wal = fs::file_size(dir / "queue.db-wal", ec);
  state.counters["wal_mib"] = ec ? 0.0 : static_cast<double>(wal) / (1 << 20);
  q->reset();
  fs::remove_all(dir, ec);
}
BENCHMARK(BM_SqliteQueueCycle)
    ->ArgName("inflight")
    ->Arg(1)
    ->Arg(8)
    ->Arg(32)
    ->UseRealTime()
    ->MinTime(2.0);

}  // namespace
}  // namespace sealhook::bench
