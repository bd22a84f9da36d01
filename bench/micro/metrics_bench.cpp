// What /metrics costs the hot path: each attempt observes a histogram, each publish counts its
// type class. Threads:2 runs two threads on the same counters (two io threads), so the cost of
// sharing their cache lines shows.
//   BM_HistogramObserve             Histogram::observe_ms (a bucket search, two atomic adds)
//   BM_TypeClassCount/classes:<n>   TypeClassCounts::count with n classes claimed, the type of
//                                   the last one counted (the longest search)
#include <benchmark/benchmark.h>

#include <string>

#include "core/histogram.hpp"
#include "publish/type_classes.hpp"

namespace sealhook::bench {
namespace {

void BM_HistogramObserve(benchmark::State& state) {
  static Histogram h(Histogram::default_bounds_ms());
  int64_t v = state.thread_index();
  for (auto _ : state) {
    h.observe_ms(v);
    v = (v + 37) % 2'000;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramObserve)->Threads(1)->Threads(2);

void BM_TypeClassCount(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  static TypeClassCounts* counts = nullptr;
  if (state.thread_index() == 0) {
    delete counts;
    counts = new TypeClassCounts(n);
    for (size_t i = 0; i < n; ++i) counts->count("class" + std::to_string(i) + ".created");
  }
  const std::string type = "class" + std::to_string(n - 1) + ".created";
  for (auto _ : state) counts->count(type);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TypeClassCount)->ArgName("classes")->Arg(1)->Arg(20)->Threads(1)->Threads(2);

}  // namespace
}  // namespace sealhook::bench
