#include "store/journal.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace sealhook {
namespace {

// Folds `u`, a later update of the same delivery, into `merged`.
void merge(DeliveryUpdate& merged, DeliveryUpdate&& u) {
  if (!u.create_only) {  // a later full update wins; a late create_only changes nothing
    merged.record = std::move(u.record);
    merged.create_only = false;
  }
  for (auto& a : u.attempts) merged.attempts.push_back(std::move(a));
  if (u.dead_body) {
    merged.dead_body = std::move(u.dead_body);
    merged.clear_dead_body = false;
  }
  if (u.clear_dead_body) {
    merged.clear_dead_body = true;
    merged.dead_body.reset();
  }
}

}  // namespace

std::vector<DeliveryUpdate> coalesce(std::vector<DeliveryUpdate>&& batch) {
  std::vector<DeliveryUpdate> out;
  out.reserve(batch.size());
  std::unordered_map<std::string, size_t> at;
  at.reserve(batch.size());
  for (auto& u : batch) {
    auto [it, fresh] = at.try_emplace(u.record.id, out.size());
    if (fresh) {
      out.push_back(std::move(u));
    } else {
      merge(out[it->second], std::move(u));
    }
  }
  return out;
}

Journal::Journal(Store& store, const Clock& clock, JournalOptions options)
    : store_(store), clock_(clock), options_(options), thread_([this] { run(); }) {}

Journal::~Journal() { stop(); }

void Journal::submit(DeliveryUpdate&& update) { submit(std::move(update), nullptr); }

void Journal::submit(std::vector<DeliveryUpdate>&& updates) {
  std::unique_lock lock(mu_);
  done_cv_.wait(lock, [&] { return pending_.size() < options_.max_backlog || stopping_; });
  bool was_empty = pending_.empty();
  for (auto& u : updates) pending_.push_back(std::move(u));
  submitted_ += updates.size();
  if (was_empty || pending_.size() >= options_.max_batch) work_cv_.notify_one();
}

void Journal::submit(DeliveryUpdate&& update, Written written) {
  std::unique_lock lock(mu_);
  done_cv_.wait(lock, [&] { return pending_.size() < options_.max_backlog || stopping_; });
  pending_.push_back(std::move(update));
  ++submitted_;
  if (written) callbacks_.emplace_back(submitted_, std::move(written));
  if (pending_.size() == 1 || pending_.size() >= options_.max_batch) work_cv_.notify_one();
}

void Journal::flush() {
  std::unique_lock lock(mu_);
  if (exited_) return;                   // stop() wrote everything
  uint64_t ticket = ++flush_requested_;  // no lingering, no settling: a reader waits
  work_cv_.notify_one();
  done_cv_.wait(lock, [&] { return flush_done_ >= ticket || exited_; });
}

void Journal::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  work_cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

uint64_t Journal::write_errors() const {
  std::lock_guard lock(mu_);
  return errors_;
}

bool Journal::healthy() const {
  std::lock_guard lock(mu_);
  return healthy_;
}

uint64_t Journal::backlog() const {
  std::lock_guard lock(mu_);
  return pending_.size() + writing_.load(std::memory_order_relaxed);
}

bool Journal::write_until_done(const std::vector<DeliveryUpdate>& out) {
  auto backoff = options_.retry_backoff;
  int failures_while_stopping = 0;
  for (;;) {
    Status st = store_.write_deliveries(out);
    std::unique_lock lock(mu_);
    if (st) {
      healthy_ = true;
      return true;
    }
    errors_++;
    healthy_ = false;
    spdlog::error("journal: writing {} delivery records failed (retrying in {} ms): {}", out.size(),
                  backoff.count(), st.error().message);
    // Stopping with a store that keeps failing: a few more tries, then give up (and say so).
    if (stopping_ && ++failures_while_stopping > 3) {
      spdlog::error("journal: stopping; {} delivery records could not be written", out.size());
      return false;
    }
    work_cv_.wait_for(lock, backoff);
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(5));
  }
}

std::vector<DeliveryUpdate> Journal::settle(std::vector<DeliveryUpdate>&& batch, bool everything) {
  std::vector<DeliveryUpdate> out;
  out.reserve(batch.size());
  const int64_t now = clock_.now_ms();
  const bool hold = !everything && options_.settle.count() > 0;
  for (auto& u : batch) {
    if (auto it = held_.find(u.record.id); it != held_.end()) {
      // The outcome of a held delivery: one write for both (its held_order_ entry goes stale).
      DeliveryUpdate merged = std::move(it->second.update);
      held_.erase(it);
      merge(merged, std::move(u));
      out.push_back(std::move(merged));
    } else if (u.create_only && hold) {
      held_order_.emplace_back(now, u.record.id);
      std::string id = u.record.id;
      held_.emplace(std::move(id), Held{std::move(u), now});
    } else {
      out.push_back(std::move(u));
    }
  }
  // Held long enough, or too many held, or a flush/stop: written as they are.
  while (!held_order_.empty()) {
    const auto& [since, id] = held_order_.front();
    bool due =
        everything || since + options_.settle.count() <= now || held_.size() > options_.max_held;
    if (!due) break;
    if (auto it = held_.find(id); it != held_.end() && it->second.since_ms == since) {
      out.push_back(std::move(it->second.update));
      held_.erase(it);
    }
    held_order_.pop_front();
  }
  return out;
}

void Journal::run() {
  std::vector<DeliveryUpdate> batch;
  std::unique_lock lock(mu_);
  for (;;) {
    auto urgent = [&] { return stopping_ || flush_requested_ > flush_done_; };
    auto work = [&] { return !pending_.empty() || urgent(); };
    if (held_order_.empty()) {
      work_cv_.wait(lock, work);
    } else {  // wake for the oldest held record, if nothing comes first
      int64_t wait_ms = held_order_.front().first + options_.settle.count() - clock_.now_ms();
      work_cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(wait_ms, 0)), work);
    }
    // A small batch lingers briefly so that bursts become one transaction.
    if (!pending_.empty() && !urgent()) {
      const auto linger =
          callbacks_.empty() ? options_.linger : std::min(options_.linger, options_.linger_waited);
      work_cv_.wait_for(lock, linger,
                        [&] { return pending_.size() >= options_.max_batch || urgent(); });
    }
    const uint64_t ticket = flush_requested_;
    const bool everything = urgent();
    size_t n = everything ? pending_.size() : std::min(pending_.size(), options_.max_batch);
    batch.assign(std::make_move_iterator(pending_.begin()),
                 std::make_move_iterator(pending_.begin() + static_cast<long>(n)));
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(n));
    taken_ += n;
    writing_.store(n, std::memory_order_relaxed);
    // The callbacks of the updates taken now run once they are written.
    std::vector<Written> written;
    while (!callbacks_.empty() && callbacks_.front().first <= taken_) {
      written.push_back(std::move(callbacks_.front().second));
      callbacks_.pop_front();
    }
    lock.unlock();
    std::vector<DeliveryUpdate> out = settle(coalesce(std::move(batch)), everything);
    held_count_.store(held_.size(), std::memory_order_relaxed);
    writing_.store(out.size(), std::memory_order_relaxed);
    // A callback means "durable now": not run for what could not be written (the lease it
    // would release stays with the queue, which hands the delivery out again after a restart).
    if (out.empty() || write_until_done(out))
      for (auto& w : written) w();
    batch.clear();
    lock.lock();
    writing_.store(0, std::memory_order_relaxed);
    flush_done_ = std::max(flush_done_, ticket);
    done_cv_.notify_all();
    if (stopping_ && pending_.empty() && held_.empty()) break;
  }
  exited_ = true;
  done_cv_.notify_all();
}

}  // namespace sealhook
