#include "delivery/endpoint_health.hpp"

#include <spdlog/spdlog.h>

namespace sealhook::delivery {

EndpointHealthTracker::EndpointHealthTracker(Store& store, const Clock& clock,
                                             HealthOptions options, Post post, Disable disable)
    : store_(store),
      clock_(clock),
      options_(options),
      post_(std::move(post)),
      disable_(std::move(disable)) {}

bool EndpointHealthTracker::due(const Endpoint& endpoint, const EndpointHealth& streak,
                                int64_t now_ms) const {
  const int64_t after =
      endpoint.disable_after_ms > 0 ? endpoint.disable_after_ms : options_.disable_after_ms;
  const int min_attempts = endpoint.disable_min_attempts > 0 ? endpoint.disable_min_attempts
                                                             : options_.disable_min_attempts;
  return streak.failed_attempts >= min_attempts && now_ms - streak.failing_since_ms >= after;
}

void EndpointHealthTracker::failed(const Endpoint& endpoint, int64_t at_ms) {
  int failures = 0;
  int64_t first = 0;
  {
    std::lock_guard lock(mu_);
    auto [it, fresh] = streaks_.try_emplace(endpoint.id);
    if (fresh) known_++;
    Local& l = it->second;
    if (l.unwritten++ == 0) l.first_at_ms = at_ms;
    l.last_at_ms = at_ms;
    if (l.writing || (!fresh && at_ms - l.written_at_ms < options_.flush_ms)) return;
    failures = l.unwritten;
    first = l.first_at_ms;
    l.unwritten = 0;
    l.writing = true;
    l.written_at_ms = at_ms;
  }
  write(endpoint, failures, first, at_ms);
}

void EndpointHealthTracker::write(const Endpoint& endpoint, int failures, int64_t first_at_ms,
                                  int64_t last_at_ms) {
  post_([this, endpoint, failures, first_at_ms, last_at_ms] {
    auto streak = store_.add_endpoint_failures(endpoint.id, failures, first_at_ms, last_at_ms);
    {
      std::lock_guard lock(mu_);
      auto it = streaks_.find(endpoint.id);
      if (it != streaks_.end()) {
        it->second.writing = false;
        if (!streak && streak.error().kind != ErrorKind::kNotFound) {
          it->second.unwritten += failures;  // counted again with the next write
          it->second.first_at_ms = std::min(it->second.first_at_ms, first_at_ms);
        }
      }
    }
    if (!streak) {
      if (streak.error().kind != ErrorKind::kNotFound)
        spdlog::warn("endpoint {}: its failures were not recorded: {}", endpoint.id,
                     streak.error().message);
      return;
    }
    if (!endpoint.state.disabled && due(endpoint, *streak, clock_.now_ms()))
      disable_(endpoint.tenant_id, endpoint.id);
  });
}

void EndpointHealthTracker::succeeded(const Endpoint& endpoint) {
  if (known_.load(std::memory_order_relaxed) == 0) return;  // no streak anywhere: nothing to end
  {
    std::lock_guard lock(mu_);
    const bool local = streaks_.erase(endpoint.id) > 0;
    const bool remote = remote_.erase(endpoint.id) > 0;
    if (!local && !remote) return;
    known_ = streaks_.size() + remote_.size();
  }
  post_([this, id = endpoint.id] {
    if (Status st = store_.clear_endpoint_failures(id); !st)
      spdlog::warn("endpoint {}: the end of its failures was not recorded: {}", id,
                   st.error().message);
  });
}

void EndpointHealthTracker::enabled(const std::string& endpoint_id) {
  {
    std::lock_guard lock(mu_);
    streaks_.erase(endpoint_id);
    remote_.erase(endpoint_id);
    known_ = streaks_.size() + remote_.size();
  }
  if (Status st = store_.clear_endpoint_failures(endpoint_id); !st)
    spdlog::warn("endpoint {}: the end of its failures was not recorded: {}", endpoint_id,
                 st.error().message);
}

void EndpointHealthTracker::refresh() {
  auto ids = store_.failing_endpoints();
  if (!ids) return;  // the next refresh tries again
  std::lock_guard lock(mu_);
  remote_ = std::unordered_set<std::string>(ids->begin(), ids->end());
  known_ = streaks_.size() + remote_.size();
}

}  // namespace sealhook::delivery
