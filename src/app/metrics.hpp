#pragma once
// Prometheus text exposition of the counters the parts keep.
#include <optional>
#include <string>

#include "catalog/feed/catalog_feed.hpp"
#include "delivery/dispatcher.hpp"
#include "publish/publisher.hpp"
#include "queue/queue.hpp"
#include "store/journal.hpp"
#include "store/store.hpp"

namespace sealhook::app {

// `feed` may be null (a process without a catalog feed); `reads_limited`, the tenants' delivery
// reads answered 429 (over --tenant-read-rate), is unset in a process without the API.
std::string render_metrics(const PublishCounters& publish, const delivery::Dispatcher& dispatcher,
                           const Queue& queue, Store& store, const Journal& journal,
                           const CatalogFeedCounters* feed = nullptr,
                           std::optional<uint64_t> reads_limited = std::nullopt);

}  // namespace sealhook::app
