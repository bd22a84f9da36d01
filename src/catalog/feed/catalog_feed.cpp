#include "catalog/feed/catalog_feed.hpp"

#include <spdlog/spdlog.h>

#include "queue/redis/redis_connection.hpp"
#include "queue/redis/redis_subscriber.hpp"

namespace sealhook {

CatalogFeed::CatalogFeed(CatalogService& catalog, Registry& registry, const Clock& clock,
                         CatalogFeedOptions options)
    : catalog_(catalog), registry_(registry), clock_(clock), options_(std::move(options)) {}

CatalogFeed::~CatalogFeed() {
  stop();
  catalog_.set_change_hook(nullptr);
}

std::string CatalogFeed::channel(const std::string& redis_url) {
  auto address = parse_redis_url(redis_url);
  return "sealhook:catalog:" + std::to_string(address ? address->db : 0);
}

void CatalogFeed::start() {
  // From here on the snapshot is only as fresh as the last check (before, this process was
  // the only writer it knew of).
  registry_.set_synced_at_ms(clock_.now_ms());
  if (!options_.redis_url.empty()) {
    if (auto address = parse_redis_url(options_.redis_url)) {
      RedisConnectionOptions o;
      o.address = *address;
      channel_ = channel(options_.redis_url);
      // It connects (and reconnects) by itself; a nudge sent while Redis is down is dropped,
      // and the periodic check still brings the change.
      publisher_ = std::make_unique<RedisConnection>(o);
      publisher_->start();
      subscriber_ = std::make_unique<RedisSubscriber>(o, channel_, [this] {
        counters_.nudges_heard++;
        wake();
      });
    }
  }
  // Called on the store's thread, after each change committed by anyone (and after the store
  // reconnects): wakes the check, which reads what changed.
  watching_ = catalog_.store().watch_catalog([this] {
    counters_.store_pushes++;
    wake();
  });
  catalog_.set_change_hook([this] { publish(); });
  thread_ = std::thread([this] { run(); });
}

void CatalogFeed::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  // Returns once the store's thread can no longer call wake().
  if (watching_) catalog_.store().watch_catalog(nullptr);
  if (thread_.joinable()) thread_.join();
  subscriber_.reset();
  // The hook stays set (writes may still run on other threads) but sends nothing from here on.
  std::lock_guard lock(publish_mu_);
  publisher_.reset();
}

void CatalogFeed::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_one();
}

// After the write committed: queued on the connection's thread, never waited for here.
void CatalogFeed::publish() {
  std::lock_guard lock(publish_mu_);
  if (!publisher_) return;
  counters_.nudges_sent++;
  publisher_->send({"PUBLISH", channel_, std::to_string(catalog_.version())},
                   [](Result<RedisReply>) {});
}

void CatalogFeed::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, options_.check, [&] { return stopping_ || woken_; });
    if (stopping_) return;
    woken_ = false;
    lock.unlock();
    check();
    lock.lock();
  }
}

void CatalogFeed::check() {
  int64_t started = clock_.now_ms();
  counters_.checks++;
  auto reloaded = catalog_.reload_if_changed();
  if (!reloaded) {
    counters_.errors++;
    spdlog::warn("catalog feed: reload failed: {}", reloaded.error().message);
    return;
  }
  if (*reloaded) counters_.reloads++;
  registry_.set_synced_at_ms(started);
}

}  // namespace sealhook
