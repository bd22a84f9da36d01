#include "store/journal.hpp"

#include <spdlog/spdlog.h>

namespace sealhook {

Journal::Journal(Store& store, JournalOptions options)
    : store_(store), options_(options), thread_([this] { run(); }) {}

Journal::~Journal() { stop(); }

void Journal::submit(DeliveryUpdate&& update) {
  std::unique_lock lock(mu_);
  done_cv_.wait(lock, [&] { return pending_.size() < options_.max_backlog || stopping_; });
  pending_.push_back(std::move(update));
  ++submitted_;
  work_cv_.notify_one();
}

void Journal::submit(std::vector<DeliveryUpdate>&& updates) {
  std::unique_lock lock(mu_);
  done_cv_.wait(lock, [&] { return pending_.size() < options_.max_backlog || stopping_; });
  for (auto& u : updates) pending_.push_back(std::move(u));
  submitted_ += updates.size();
  work_cv_.notify_one();
}

void Journal::flush() {
  std::unique_lock lock(mu_);
  uint64_t target = submitted_;
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
    size_t n = std::min(pending_.size(), options_.max_batch);
    batch.assign(std::make_move_iterator(pending_.begin()),
                 std::make_move_iterator(pending_.begin() + static_cast<long>(n)));
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(n));
    lock.unlock();
    Status st = store_.write_deliveries(batch);
    if (!st) spdlog::error("journal: writing {} delivery records failed: {}", n, st.error().message);
    batch.clear();
    lock.lock();
    if (!st) errors_ += n;
    written_ += n;
    done_cv_.notify_all();
  }
  done_cv_.notify_all();
}

}  // namespace sealhook
