#include "api/read_limit.hpp"

#include <algorithm>
#include <cmath>

namespace sealhook::api {

ReadLimit::ReadLimit(double per_second, double burst)
    : per_ms_(per_second / 1000.0), burst_(std::max(1.0, burst)) {}

double ReadLimit::refilled(const Bucket& b, int64_t now_ms) const {
  return std::min(burst_,
                  b.tokens + static_cast<double>(std::max<int64_t>(0, now_ms - b.at_ms)) * per_ms_);
}

int64_t ReadLimit::take(std::string_view tenant_id, int64_t now_ms) {
  std::lock_guard lock(mu_);
  auto it = buckets_.find(std::string(tenant_id));
  if (it == buckets_.end()) {
    if (buckets_.size() >= prune_at_) prune(now_ms);
    it = buckets_.emplace(std::string(tenant_id), Bucket{burst_, now_ms}).first;
  }
  Bucket& b = it->second;
  b.tokens = refilled(b, now_ms);
  b.at_ms = std::max(b.at_ms, now_ms);
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  ++limited_;
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil((1.0 - b.tokens) / per_ms_)));
}

void ReadLimit::prune(int64_t now_ms) {
  // A full bucket is the same as none: dropped. Amortised: the next prune waits for the map to
  // double again.
  std::erase_if(buckets_, [&](const auto& kv) { return refilled(kv.second, now_ms) >= burst_; });
  prune_at_ = std::max<size_t>(1024, buckets_.size() * 2);
}

uint64_t ReadLimit::limited() const {
  std::lock_guard lock(mu_);
  return limited_;
}

size_t ReadLimit::tracked() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

}  // namespace sealhook::api
