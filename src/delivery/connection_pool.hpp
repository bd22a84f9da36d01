#pragma once
// Idle keep-alive connections per origin (scheme://host:port). Thread-safe.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sealhook::delivery {

struct Connection;

class ConnectionPool {
 public:
  using Clock = std::chrono::steady_clock;

  ConnectionPool(size_t max_idle_per_origin, Clock::duration idle_timeout);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // The most recently used idle connection of origin that has not expired and that the peer
  // has not closed (checked without blocking), or null.
  std::unique_ptr<Connection> acquire(std::string_view origin);
  // Keeps conn idle; when origin already has max_idle_per_origin, the oldest is closed.
  void release(std::string_view origin, std::unique_ptr<Connection> conn);
  // Closes every expired idle connection and forgets origins left without one.
  void prune();
  size_t idle_count() const;

 private:
  struct Idle {
    std::unique_ptr<Connection> conn;
    Clock::time_point since;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  const size_t max_idle_;
  const Clock::duration idle_timeout_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::vector<Idle>, Hash, std::equal_to<>> idle_;
};

}  // namespace sealhook::delivery
