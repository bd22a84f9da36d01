#pragma once
// Shared bits of sealhook-bench: wall-clock time (CLOCK_REALTIME, so that the sink's arrival
// times and the load generator's answer times can be subtracted across processes) and
// percentiles.
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace sealhook::bench {

inline int64_t wall_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// Nearest-rank percentile of an already sorted vector (p in 0..100).
inline int64_t percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(rank, sorted.size() - 1)];
}

inline std::string ms(int64_t ns) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ns) / 1e6);
  return buf;
}

struct SinkArgs {
  std::string listen = "127.0.0.1:0";
  int threads = 1;
  std::string port_file;
  std::string hang_listen;  // empty: no hang listener
  std::string hang_port_file;
  size_t expect = 0;
  bool paused = false;  // hold webhook POSTs until POST /resume
};

struct LoadArgs {
  std::string url;
  std::string token;
  int connections = 32;
  uint64_t events = 10'000;
  double rate = 0;  // events/s overall; 0 = as fast as possible
  std::string body_file;
  size_t payload_bytes = 1024;
  std::string type = "bench.event";
  uint64_t types_round_robin = 0;  // > 0: event k has type type_prefix + (k % N)
  std::string type_prefix = "bench.e";
  std::string body_template;  // every "{k}" replaced by the request's index k (0-based)
  int expect_status = 202;    // answers counted as accepted
  std::string tenant;
  std::string out;
  int timeout_s = 120;
};

int run_sink(const SinkArgs& a);
int run_load(const LoadArgs& a);

}  // namespace sealhook::bench
