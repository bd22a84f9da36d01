#pragma once
// The catalog change feed: keeps this process's in-memory catalog in step with writes made by
// other processes sharing the store. A thread of its own checks the store's catalog version
// every `check` (one indexed one-row read) and reloads the changed tenants; that check is the
// guarantee. With Redis, every write through this process also PUBLISHes a nudge on
// sealhook:catalog:<db>, and a subscriber wakes the thread at once on others' nudges, so
// changes usually arrive within milliseconds. A store with a push channel of its own
// (PostgreSQL's LISTEN/NOTIFY: Store::watch_catalog) wakes the thread the same way on every
// catalog write by any process. Idle, the thread sleeps between checks.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "catalog/catalog.hpp"
#include "core/clock.hpp"

namespace sealhook {

class RedisConnection;
class RedisSubscriber;

struct CatalogFeedOptions {
  std::chrono::milliseconds check{500};
  std::string redis_url;  // "" = no nudges, the periodic check only
};

struct CatalogFeedCounters {
  std::atomic<uint64_t> checks{0}, reloads{0}, nudges_sent{0}, nudges_heard{0}, errors{0};
  std::atomic<uint64_t> store_pushes{0};  // the store's watch_catalog calls
};

class CatalogFeed {
 public:
  // Sets `catalog`'s change hook (the nudge), so it must outlive the feed.
  CatalogFeed(CatalogService& catalog, Registry& registry, const Clock& clock,
              CatalogFeedOptions options);
  ~CatalogFeed();
  CatalogFeed(const CatalogFeed&) = delete;
  CatalogFeed& operator=(const CatalogFeed&) = delete;

  // Starts the thread (and the Redis connections: a Redis that cannot be reached leaves the
  // periodic check alone working).
  void start();
  void stop();
  // Checks now instead of at the next period (called on a nudge).
  void wake();
  const CatalogFeedCounters& counters() const { return counters_; }
  static std::string channel(const std::string& redis_url);

 private:
  void run();
  void check();
  void publish();

  CatalogService& catalog_;
  Registry& registry_;
  const Clock& clock_;
  CatalogFeedOptions options_;
  CatalogFeedCounters counters_;
  std::string channel_;
  std::mutex publish_mu_;  // guards publisher_: writes publish from any thread
  std::unique_ptr<RedisConnection> publisher_;
  std::unique_ptr<RedisSubscriber> subscriber_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
  bool stopping_ = false;
  bool watching_ = false;  // the store's watch_catalog is on
  std::thread thread_;
};

}  // namespace sealhook
