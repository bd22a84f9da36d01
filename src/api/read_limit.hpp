#pragma once
// How often a tenant may read its deliveries (GET /v1/deliveries, GET /v1/deliveries/{id}):
// a token bucket per tenant, `per_second` refilled up to `burst`. A read over it is answered
// 429 with Retry-After on the io thread, before any store work, so that one tenant polling
// in a tight loop takes neither the read pool nor the CPU the deliveries need. Per process:
// with several nodes a tenant gets each node's rate.
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sealhook::api {

class ReadLimit {
 public:
  ReadLimit(double per_second, double burst);
  // 0 if a read of `tenant_id` may go now (and takes its token); else the milliseconds until
  // one may.
  int64_t take(std::string_view tenant_id, int64_t now_ms);
  uint64_t limited() const;  // reads refused so far
  size_t tracked() const;    // tenants with a bucket (full ones are dropped now and then)

 private:
  struct Bucket {
    double tokens = 0;
    int64_t at_ms = 0;
  };
  double refilled(const Bucket& b, int64_t now_ms) const;
  void prune(int64_t now_ms);  // under mu_

  const double per_ms_;
  const double burst_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
  size_t prune_at_ = 1024;  // the next size at which full buckets are dropped
  uint64_t limited_ = 0;
};

}  // namespace sealhook::api
