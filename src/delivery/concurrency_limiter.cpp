#include "delivery/concurrency_limiter.hpp"

#include <algorithm>
#include <cmath>

#include "delivery/retry_policy.hpp"

namespace sealhook::delivery {

bool is_overload(const SendResult& r) {
  switch (r.status) {
    case 429:
    case 502:
    case 503:
    case 504:
      return true;
    case 0:
      return r.error == "timeout";
    default:
      return false;
  }
}

int ConcurrencyLimiter::whole(const State& s) const {
  return std::clamp(static_cast<int>(std::floor(s.limit)), 1, options_.max);
}

ConcurrencyLimiter::Admission ConcurrencyLimiter::acquire(const std::string& endpoint_id,
                                                          int64_t now_ms) {
  std::lock_guard lock(mu_);
  State& s =
      states_.try_emplace(endpoint_id, State{static_cast<double>(options_.max)}).first->second;
  Admission a;
  a.limit = whole(s);
  a.round = s.round;
  if (s.hold_until > now_ms) {
    a.wait_ms = s.hold_until;
    a.held = true;
    return a;
  }
  if (s.inflight >= a.limit) {
    // A slot frees about every answer time over the limit: the next turn after the last one
    // given, within the longest wait.
    const double now = static_cast<double>(now_ms);
    const double answer = s.answer_ms < 0 ? static_cast<double>(options_.max_wait_ms) : s.answer_ms;
    const double turn = std::max(now, s.next_turn_ms) + std::max(1.0, answer / a.limit);
    s.next_turn_ms = std::min(turn, now + static_cast<double>(options_.max_wait_ms));
    a.wait_ms = static_cast<int64_t>(std::ceil(s.next_turn_ms));
    return a;
  }
  s.inflight++;
  a.go = true;
  return a;
}

void ConcurrencyLimiter::release(const std::string& endpoint_id, uint64_t round,
                                 const SendResult& r, int64_t now_ms) {
  std::lock_guard lock(mu_);
  auto it = states_.find(endpoint_id);
  if (it == states_.end()) return;
  State& s = it->second;
  s.inflight = std::max(0, s.inflight - 1);
  const auto took = static_cast<double>(r.duration.count());
  s.answer_ms = s.answer_ms < 0 ? took : 0.8 * s.answer_ms + 0.2 * took;
  if (is_overload(r)) {
    if (round == s.round) {  // the first overload answer of this round: cut
      const double cut = std::max(1.0, std::floor(s.limit / 2));
      if (cut < s.limit) cuts_++;
      s.limit = cut;
      s.round++;
    }
    if ((r.status == 429 || r.status == 503) && r.retry_after)
      if (auto after = parse_retry_after(*r.retry_after, now_ms); after && *after > 0)
        s.hold_until = std::max(s.hold_until, now_ms + std::min(*after, options_.max_hold_ms));
  } else if (r.status >= 200 && r.status < 300 && r.duration.count() <= options_.fast_ms) {
    s.limit = std::min(static_cast<double>(options_.max), s.limit + 1.0 / whole(s));
  }
  forget_if_idle(it, now_ms);
}

void ConcurrencyLimiter::give_back(const std::string& endpoint_id) {
  std::lock_guard lock(mu_);
  if (auto it = states_.find(endpoint_id); it != states_.end()) {
    it->second.inflight = std::max(0, it->second.inflight - 1);
    forget_if_idle(it, 0);
  }
}

void ConcurrencyLimiter::forget_if_idle(std::unordered_map<std::string, State>::iterator it,
                                        int64_t now_ms) {
  const State& s = it->second;
  if (s.inflight == 0 && s.limit >= options_.max && s.hold_until <= now_ms) states_.erase(it);
}

int ConcurrencyLimiter::limit(const std::string& endpoint_id) const {
  std::lock_guard lock(mu_);
  auto it = states_.find(endpoint_id);
  return it == states_.end() ? options_.max : whole(it->second);
}

size_t ConcurrencyLimiter::reduced() const {
  std::lock_guard lock(mu_);
  return static_cast<size_t>(std::count_if(states_.begin(), states_.end(), [this](const auto& e) {
    return e.second.limit < options_.max;
  }));
}

uint64_t ConcurrencyLimiter::cuts() const {
  std::lock_guard lock(mu_);
  return cuts_;
}

}  // namespace sealhook::delivery
