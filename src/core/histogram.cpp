#include "core/histogram.hpp"

#include <algorithm>
#include <cassert>

namespace sealhook {

Histogram::Histogram(std::vector<int64_t> bounds_ms, double divisor)
    : bounds_ms_(std::move(bounds_ms)),
      divisor_(divisor),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_ms_.size() + 1)) {
  assert(std::is_sorted(bounds_ms_.begin(), bounds_ms_.end()));
}

void Histogram::observe_ms(int64_t value_ms) {
  value_ms = std::max<int64_t>(value_ms, 0);
  // The first bound >= the value: `le` is inclusive.
  auto at = std::lower_bound(bounds_ms_.begin(), bounds_ms_.end(), value_ms) - bounds_ms_.begin();
  buckets_[static_cast<size_t>(at)].fetch_add(1, std::memory_order_relaxed);
  sum_ms_.fetch_add(static_cast<uint64_t>(value_ms), std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds_s.reserve(bounds_ms_.size());
  for (int64_t b : bounds_ms_) s.bounds_s.push_back(static_cast<double>(b) / divisor_);
  s.cumulative.reserve(bounds_ms_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_ms_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum_s = static_cast<double>(sum_ms_.load(std::memory_order_relaxed)) / divisor_;
  return s;
}

std::vector<int64_t> Histogram::default_bounds_ms() {
  return {5, 10, 25, 50, 100, 250, 500, 1'000, 2'500, 5'000, 10'000, 30'000, 60'000, 300'000};
}

}  // namespace sealhook
