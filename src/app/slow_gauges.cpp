#include "app/slow_gauges.hpp"

#include <spdlog/spdlog.h>

namespace sealhook::app {
namespace {

std::optional<uint64_t> read(const std::atomic<int64_t>& v, int64_t unset) {
  int64_t x = v.load();
  if (x == unset) return std::nullopt;
  return static_cast<uint64_t>(x);
}

}  // namespace

void SlowGauges::refresh(Store& store, const Queue& queue, int64_t now_ms) {
  if (auto scheduled = queue.count_scheduled(now_ms)) scheduled_ = static_cast<int64_t>(*scheduled);
  auto dead = store.count_deliveries(DeliveryStatus::kDead);
  auto lost = store.count_deliveries(DeliveryStatus::kLost);
  if (dead) dead_ = *dead;
  if (lost) lost_ = *lost;
  if (dead && lost)
    refreshed_at_ms_ = now_ms;
  else
    spdlog::warn("metrics: counting dead and lost deliveries failed: {}",
                 (dead ? lost.error() : dead.error()).message);
}

SlowGauges::Values SlowGauges::values() const {
  return Values{read(dead_, kUnset), read(lost_, kUnset), read(scheduled_, kUnset),
                refreshed_at_ms_.load()};
}

}  // namespace sealhook::app
