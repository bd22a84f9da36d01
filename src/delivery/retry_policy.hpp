#pragma once
// Exponential backoff with jitter: attempt n (n >= 1 failed) waits min(max_delay, base * 2^(n-1)),
// shortened by up to `jitter` of itself, and never less than a Retry-After the endpoint gave
// on 429/503 (capped at max_delay). Randomness is injected so tests are exact.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace sealhook::delivery {

struct RetryOptions {
  int64_t base_ms = 1'000;
  int64_t max_delay_ms = 3'600'000;
  double jitter = 0.2;  // fraction in [0, 1)
};

class RetryPolicy {
 public:
  // `uniform01` returns a number in [0, 1).
  RetryPolicy(RetryOptions options, std::function<double()> uniform01);
  // The wait before the next attempt after `failed_attempts` failures.
  int64_t delay_ms(int failed_attempts, std::optional<int64_t> retry_after_ms = std::nullopt) const;
  const RetryOptions& options() const { return options_; }

 private:
  RetryOptions options_;
  std::function<double()> uniform01_;
};

// Retry-After as delta-seconds or an HTTP-date, as a delay from `now_ms`; nullopt if malformed.
std::optional<int64_t> parse_retry_after(std::string_view value, int64_t now_ms);

// A thread-safe uniform [0,1) source seeded from the OS.
std::function<double()> system_uniform01();

}  // namespace sealhook::delivery
