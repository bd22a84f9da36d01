#include "delivery/connection_pool.hpp"

#include <sys/socket.h>

#include <cerrno>

#include "delivery/http_connection.hpp"

namespace sealhook::delivery {
namespace {

// An idle keep-alive connection has nothing to read: readable means the peer closed it
// (EOF, a TLS close_notify) or sent something unsolicited; either way it is not reusable.
bool peer_still_open(Connection& conn) {
  if (!conn.socket.is_open() || conn.buffer.size() != 0) return false;
  char byte;
  const ssize_t n = ::recv(conn.socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

ConnectionPool::ConnectionPool(size_t max_idle_per_origin, Clock::duration idle_timeout)
    : max_idle_(max_idle_per_origin), idle_timeout_(idle_timeout) {}

ConnectionPool::~ConnectionPool() = default;

std::unique_ptr<Connection> ConnectionPool::acquire(std::string_view origin) {
  for (;;) {
    Idle idle;
    {
      std::lock_guard lock(mu_);
      auto it = idle_.find(origin);
      if (it == idle_.end() || it->second.empty()) return nullptr;
      idle = std::move(it->second.back());
      it->second.pop_back();
    }
    if (Clock::now() - idle.since < idle_timeout_ && peer_still_open(*idle.conn))
      return std::move(idle.conn);
    // else: closed here, outside the lock, and the next one is tried.
  }
}

void ConnectionPool::release(std::string_view origin, std::unique_ptr<Connection> conn) {
  if (max_idle_ == 0) return;
  std::unique_ptr<Connection> evicted;
  std::lock_guard lock(mu_);
  auto it = idle_.find(origin);
  if (it == idle_.end()) it = idle_.emplace(std::string(origin), std::vector<Idle>{}).first;
  auto& list = it->second;
  if (list.size() >= max_idle_) {
    evicted = std::move(list.front().conn);
    list.erase(list.begin());
  }
  list.push_back(Idle{std::move(conn), Clock::now()});
}

void ConnectionPool::prune() {
  std::vector<std::unique_ptr<Connection>> expired;
  {
    std::lock_guard lock(mu_);
    const auto cutoff = Clock::now() - idle_timeout_;
    for (auto it = idle_.begin(); it != idle_.end();) {
      auto& list = it->second;
      size_t keep = 0;
      for (auto& idle : list) {
        if (idle.since <= cutoff) {
          expired.push_back(std::move(idle.conn));
        } else {
          if (&list[keep] != &idle) list[keep] = std::move(idle);
          ++keep;
        }
      }
      list.resize(keep);
      it = list.empty() ? idle_.erase(it) : std::next(it);
    }
  }
  // expired connections close here, outside the lock
}

size_t ConnectionPool::idle_count() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [origin, list] : idle_) n += list.size();
  return n;
}

}  // namespace sealhook::delivery
