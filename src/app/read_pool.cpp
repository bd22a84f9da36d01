#include "app/read_pool.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sealhook::app {
namespace {

thread_local bool flushed = false;

// nice applies to the calling thread alone on Linux.
void lower_priority() {
  const auto tid = static_cast<id_t>(::gettid());
  errno = 0;
  const int nice = ::getpriority(PRIO_PROCESS, tid);
  if (errno != 0 || ::setpriority(PRIO_PROCESS, tid, std::min(19, nice + ReadPool::kNice)) != 0)
    spdlog::debug("the read pool's thread keeps its priority: {}", std::strerror(errno));
}

}  // namespace

ReadPool::ReadPool(std::function<void()> flush)
    : flush_(std::move(flush)), thread_([this] { run(); }) {}

ReadPool::~ReadPool() { join(); }

bool ReadPool::flushed_for_batch() { return flushed; }

void ReadPool::post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void ReadPool::join() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void ReadPool::run() {
  lower_priority();
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
    if (tasks_.empty()) return;  // stopping, nothing left
    std::deque<std::function<void()>> batch;
    batch.swap(tasks_);
    lock.unlock();
    if (flush_) flush_();
    flushed = true;
    for (auto& task : batch) task();
    flushed = false;
    lock.lock();
  }
}

}  // namespace sealhook::app
