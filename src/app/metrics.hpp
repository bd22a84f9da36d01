#pragma once
// Prometheus text exposition of the counters the parts keep. Cheap to render: atomics, the
// queue's own counters (a shared backend's: one round trip, on the blocking pool like every
// scrape) and the store gauges' last refresh; never a store query.
#include <optional>
#include <string>
#include <string_view>

#include "app/slow_gauges.hpp"
#include "catalog/catalog.hpp"
#include "catalog/feed/catalog_feed.hpp"
#include "delivery/dispatcher.hpp"
#include "publish/publisher.hpp"
#include "queue/queue.hpp"
#include "store/journal.hpp"
#include "trace/exporter.hpp"

namespace sealhook::app {

struct MetricsSources {
  const PublishCounters& publish;
  const delivery::Dispatcher& dispatcher;
  const Queue& queue;
  std::string_view queue_kind;  // the `queue` label: "memory", "sqlite", "redis", "kafka"
  const Journal& journal;
  const SlowGauges& slow_gauges;
  const CatalogFeedCounters* feed = nullptr;  // null: a process without a catalog feed
  // The tenants' delivery reads answered 429 (over --tenant-read-rate); unset without the API.
  std::optional<uint64_t> reads_limited = std::nullopt;
  const trace::ExporterCounters* traces = nullptr;  // null: tracing off
  const CatalogService* catalog = nullptr;          // endpoints by state, disables
};

std::string render_metrics(const MetricsSources& s);

}  // namespace sealhook::app
