#include "store/journal.hpp"

#include <spdlog/spdlog.h>

#include <unordered_map>

namespace sealhook {

std::vector<DeliveryUpdate> coalesce(std::vector<DeliveryUpdate>&& batch) {
  std::vector<DeliveryUpdate> out;
  out.reserve(batch.size());
  std::unordered_map<std::string, size_t> at;
  at.reserve(batch.size());
  for (auto& u : batch) {
    auto [it, fresh] = at.try_emplace(u.record.id, out.size());
    if (fresh) {
      out.push_back(std::move(u));
      continue;
    }
    DeliveryUpdate& merged = out[it->second];
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
  return out;
}

Journal::Journal(Store& store, JournalOptions options)
    : store_(store), options_(options), thread_([this] { run(); }) {}

Journal::~Journal() { stop(); }

void Journal::submit(DeliveryUpdate&& update) {
  std::unique_lock lock(mu_);
  done_cv_.wait(lock, [&] { return pending_.size() < options_.max_backlog || stopping_; });
  pending_.push_back(std::move(update));
  ++submitted_;
  if (pending_.size() == 1 || pending_.size() >= options_.max_batch) work_cv_.notify_one();
}

void Journal::submit(std::vector<DeliveryUpdate>&& updates) {
  std::unique_lock lock(mu_);
  done_cv_.wait(lock, [&] { return pending_.size() < options_.max_backlog || stopping_; });
  bool was_empty = pending_.empty();
  for (auto& u : updates) pending_.push_back(std::move(u));
  submitted_ += updates.size();
  if (was_empty || pending_.size() >= options_.max_batch) work_cv_.notify_one();
}

void Journal::flush() {
  std::unique_lock lock(mu_);
  uint64_t target = submitted_;
  flush_target_ = std::max(flush_target_, target);  // no lingering: a reader waits
  work_cv_.notify_one();
  done_cv_.wait(lock, [&] { return written_ >= target || !thread_.joinable(); });
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

void Journal::run() {
  std::vector<DeliveryUpdate> batch;
  std::unique_lock lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return !pending_.empty() || stopping_; });
    if (pending_.empty() && stopping_) break;
    // A small batch lingers briefly so that bursts become one transaction.
    work_cv_.wait_for(lock, options_.linger, [&] {
      return pending_.size() >= options_.max_batch || stopping_ || flush_target_ > written_;
    });
    size_t n = std::min(pending_.size(), options_.max_batch);
    batch.assign(std::make_move_iterator(pending_.begin()),
                 std::make_move_iterator(pending_.begin() + static_cast<long>(n)));
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(n));
    lock.unlock();
    Status st = store_.write_deliveries(coalesce(std::move(batch)));
    if (!st)
      spdlog::error("journal: writing {} delivery records failed: {}", n, st.error().message);
    batch.clear();
    lock.lock();
    if (!st) errors_ += n;
    written_ += n;
    done_cv_.notify_all();
  }
  done_cv_.notify_all();
}

}  // namespace sealhook
