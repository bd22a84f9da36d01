#pragma once
// The HTTP server's shared bounds: bytes of request bodies across all connections, and open
// connections per client address. Both are taken on an io thread and given back on any.
#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <mutex>
#include <unordered_map>

namespace sealhook::net {

// A byte count shared by every connection, taken before the bytes are read.
class ByteBudget {
 public:
  explicit ByteBudget(size_t limit) : limit_(limit) {}

  bool try_take(size_t n) {
    size_t used = used_.load(std::memory_order_relaxed);
    do {
      if (n > limit_ - used) return false;
    } while (!used_.compare_exchange_weak(used, used + n, std::memory_order_relaxed));
    return true;
  }
  void give(size_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }
  size_t used() const { return used_.load(std::memory_order_relaxed); }

 private:
  const size_t limit_;
  std::atomic<size_t> used_{0};
};

// Open connections per remote address.
class ClientSlots {
 public:
  explicit ClientSlots(size_t per_client) : per_client_(per_client) {}

  bool try_take(const boost::asio::ip::address& a) {
    std::lock_guard lock(mutex_);
    size_t& n = open_[a];
    if (n >= per_client_) return false;
    ++n;
    return true;
  }
  void give(const boost::asio::ip::address& a) {
    std::lock_guard lock(mutex_);
    auto it = open_.find(a);
    if (it != open_.end() && --it->second == 0) open_.erase(it);
  }

 private:
  const size_t per_client_;
  std::mutex mutex_;
  std::unordered_map<boost::asio::ip::address, size_t> open_;
};

}  // namespace sealhook::net
