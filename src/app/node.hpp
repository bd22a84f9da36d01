#pragma once
// The composition root: one function builds every part a sealhook process runs — store,
// catalog, queue, journal, publisher, sender, dispatcher — from the config, so that `serve`
// (and the coming `worker`) assemble the same parts without copying. Commands only run them.
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <string>

#include "app/config.hpp"
#include "app/read_pool.hpp"
#include "app/slow_gauges.hpp"
#include "catalog/catalog.hpp"
#include "catalog/feed/catalog_feed.hpp"
#include "core/clock.hpp"
#include "delivery/dispatcher.hpp"
#include "delivery/endpoint_health.hpp"
#include "delivery/retry_policy.hpp"
#include "delivery/sender.hpp"
#include "publish/publisher.hpp"
#include "queue/queue.hpp"
#include "store/journal.hpp"
#include "store/store.hpp"
#include "trace/tracer.hpp"

namespace sealhook::app {

struct Node {
  ServeConfig config;
  SystemClock clock;
  // Spans of publishes and attempts (OTEL_EXPORTER_OTLP_ENDPOINT), null when off. Declared
  // early: it goes after everything that ends spans.
  std::unique_ptr<trace::Tracer> tracer;
  std::unique_ptr<Store> store;
  Registry registry;
  std::unique_ptr<delivery::UrlGuard> url_guard;  // the catalog's: goes after it
  std::unique_ptr<CatalogService> catalog;
  std::unique_ptr<CatalogFeed> feed;  // keeps `catalog` in step with other processes
  std::unique_ptr<Queue> queue;
  std::unique_ptr<Journal> journal;
  std::unique_ptr<Publisher> publisher;
  boost::asio::io_context io;
  // Work that may block (store calls, durable pushes, journal flushes): never on `io`.
  std::unique_ptr<boost::asio::thread_pool> blocking;
  // Tenants' delivery reads (GET /v1/deliveries, .../{id}), at a lower priority: read_pool.hpp.
  std::unique_ptr<ReadPool> reads;
  std::unique_ptr<delivery::Sender> sender;
  std::unique_ptr<delivery::RetryPolicy> policy;
  // Failure streaks toward the automatic disable (--disable-after): the dispatcher tells it.
  std::unique_ptr<delivery::EndpointHealthTracker> health;
  std::unique_ptr<delivery::Dispatcher> dispatcher;
  SlowGauges slow_gauges;  // refreshed by NodeRuntime, read by /metrics
  std::string admin_token_hash;
  std::string generated_admin_token;  // set only on the first start of a store without one

  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  // Stops the dispatcher and the journal, then the queue (its thread calls into the others),
  // before anything else goes.
  ~Node();
};

// Builds every part from `config` (validated); the queue recovers what it holds, the admin
// token is the one kept in the store. The caller runs reconcile() once it serves.
Result<std::unique_ptr<Node>> assemble(const ServeConfig& config);

// The queue file's path: --queue-path, else queue.db beside the SQLite store.
std::string queue_path(const ServeConfig& config);
// How this process names itself in the redis queue: --redis-owner, else HOST/serve/LISTEN
// (serve) or HOST/worker/METRICS_LISTEN (worker); with port 0, HOST/ROLE/pid-PID, so that two
// processes never share one.
std::string redis_owner(const ServeConfig& config);
// Whether several processes share the queue (redis, kafka), so that one process's view of it
// is not the whole story.
bool shared_queue(const std::string& queue_kind);

// Store records marked pending that no queue will deliver: with the durable queue that held
// them, they were acknowledged before their record was written (delivered); otherwise (a
// volatile queue's process stopped) they are marked lost. Returns how many were settled.
// Safe while deliveries go on: the pending records are read before the queue is asked, so a
// delivery settled in between is one that was acknowledged. With `unchanged_for_ms` > 0 only
// records not updated for that long are looked at: on a shared queue another process may have
// just taken a delivery out (acked or dead-lettered it) and not yet written its record.
Result<size_t> reconcile(Store& store, Queue* queue, const std::string& queue_kind, int64_t now_ms,
                         int64_t unchanged_for_ms = 0);
// After the queue reported a reset (it lost its data): the store's pending records that it does
// not hold any more are marked lost (they would otherwise look pending for ever). How many.
Result<size_t> mark_lost_after_reset(Store& store, Queue& queue, int64_t now_ms);
// Runs mark_lost_after_reset on the blocking pool whenever the queue reports a reset (after
// the journal's held records are written). Every process that settles deliveries calls it.
void watch_queue_resets(Node& n);

}  // namespace sealhook::app
