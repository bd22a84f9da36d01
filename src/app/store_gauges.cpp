#include "app/store_gauges.hpp"

#include <spdlog/spdlog.h>

namespace sealhook::app {

void StoreGauges::refresh(Store& store, int64_t now_ms) {
  auto dead = store.count_deliveries(DeliveryStatus::kDead);
  auto lost = store.count_deliveries(DeliveryStatus::kLost);
  if (dead) dead_ = static_cast<int64_t>(*dead);
  if (lost) lost_ = static_cast<int64_t>(*lost);
  if (dead && lost)
    refreshed_at_ms_ = now_ms;
  else
    spdlog::warn("metrics: counting dead and lost deliveries failed: {}",
                 (dead ? lost.error() : dead.error()).message);
}

StoreGauges::Values StoreGauges::values() const {
  Values v;
  if (int64_t d = dead_.load(); d != kUnset) v.dead = static_cast<uint64_t>(d);
  if (int64_t l = lost_.load(); l != kUnset) v.lost = static_cast<uint64_t>(l);
  v.refreshed_at_ms = refreshed_at_ms_.load();
  return v;
}

}  // namespace sealhook::app
