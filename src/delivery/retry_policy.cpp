#include "delivery/retry_policy.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <memory>
#include <mutex>
#include <random>
#include <string>

namespace sealhook::delivery {

RetryPolicy::RetryPolicy(RetryOptions options, std::function<double()> uniform01)
    : options_(options), uniform01_(std::move(uniform01)) {}

int64_t RetryPolicy::delay_ms(int failed_attempts, std::optional<int64_t> retry_after_ms) const {
  int n = std::max(1, failed_attempts);
  int64_t d = options_.base_ms;
  for (int i = 1; i < n && d < options_.max_delay_ms; ++i) d *= 2;
  d = std::min(d, options_.max_delay_ms);
  double u = std::clamp(uniform01_(), 0.0, 1.0);
  auto jittered = static_cast<int64_t>(static_cast<double>(d) * (1.0 - options_.jitter * u));
  if (retry_after_ms)
    jittered = std::max(jittered, std::min(*retry_after_ms, options_.max_delay_ms));
  return std::max<int64_t>(jittered, 0);
}

std::optional<int64_t> parse_retry_after(std::string_view value, int64_t now_ms) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int64_t seconds = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc()) return std::nullopt;  // overflow
    if (seconds > 365LL * 24 * 3600) seconds = 365LL * 24 * 3600;
    return seconds * 1000;
  }
  // IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT".
  std::tm tm{};
  std::string text(value.substr(0, 64));
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  int64_t at_ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  return std::max<int64_t>(0, at_ms - now_ms);
}

std::function<double()> system_uniform01() {
  struct State {
    std::mutex mu;
    std::mt19937_64 rng{std::random_device{}()};
    std::uniform_real_distribution<double> dist{0.0, 1.0};
  };
  auto state = std::make_shared<State>();
  return [state] {
    std::lock_guard lock(state->mu);
    return state->dist(state->rng);
  };
}

}  // namespace sealhook::delivery
