#pragma once
// A Prometheus histogram kept in lock-free atomic counters: observe() from any thread costs a
// bucket search and two relaxed atomic adds, no lock. Values are whole numbers: by default
// milliseconds (what the sender and the clock measure), shown in seconds as Prometheus has them
// (`divisor` 1000); a count (a concurrency limit) is shown as it is (`divisor` 1).
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace sealhook {

class Histogram {
 public:
  // `bounds_ms`: the buckets' upper bounds (inclusive), ascending; +Inf is implied.
  explicit Histogram(std::vector<int64_t> bounds_ms, double divisor = 1000.0);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // A negative value (a clock stepped back) counts as 0.
  void observe_ms(int64_t value_ms);
  void observe(int64_t value) { observe_ms(value); }

  struct Snapshot {
    std::vector<double> bounds_s;      // the finite bounds over the divisor (seconds)
    std::vector<uint64_t> cumulative;  // per finite bound, then +Inf (== count)
    uint64_t count = 0;
    double sum_s = 0;
  };
  // Cumulative counts; `count` is their +Inf bucket, so the two always agree, even while
  // observations go on (the sum may lag by the observations in flight).
  Snapshot snapshot() const;

  // Attempt durations and publish-to-delivery latencies: 5 ms to 5 min.
  static std::vector<int64_t> default_bounds_ms();

 private:
  std::vector<int64_t> bounds_ms_;
  double divisor_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // not cumulative; the last is +Inf
  std::atomic<uint64_t> sum_ms_{0};
};

}  // namespace sealhook
