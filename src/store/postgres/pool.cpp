#include "store/postgres/pool.hpp"

namespace sealhook::postgres {

Result<Pool::Lease> Pool::acquire(std::string_view what) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, options_.wait,
                    [&] { return !idle_.empty() || idle_.size() + lent_ < options_.size; })) {
    return make_error(ErrorKind::kUnavailable, "store_unavailable",
                      "Store failed to " + std::string(what) + ": all " +
                          std::to_string(options_.size) +
                          " connections to PostgreSQL stayed busy for " +
                          std::to_string(options_.wait.count()) + " ms.");
  }
  ++lent_;
  while (!idle_.empty()) {
    std::unique_ptr<Connection> conn = std::move(idle_.back());
    idle_.pop_back();
    if (conn->still_open()) return Lease(this, std::move(conn));
    // The server closed it while it was idle (a restart): so it did the others, most likely.
    std::vector<std::unique_ptr<Connection>> dropped;
    dropped.swap(idle_);
    lock.unlock();
    conn.reset();
    dropped.clear();
    lock.lock();
  }
  // Connecting takes up to connect_timeout: not under the lock, the other calls go on.
  lock.unlock();
  auto conn = Connection::open(conninfo_, options_.connect, what);
  if (!conn) {
    lock.lock();
    --lent_;
    cv_.notify_one();
    return conn.error();
  }
  return Lease(this, std::move(*conn));
}

// A connection left inside a transaction (a call that could not roll back) is dropped too.
void Pool::give_back(std::unique_ptr<Connection> conn) {
  bool broken = conn->broken();
  bool reusable = !broken && PQtransactionStatus(conn->handle()) == PQTRANS_IDLE;
  std::vector<std::unique_ptr<Connection>> dropped;
  {
    std::lock_guard lock(mu_);
    --lent_;
    if (reusable) {
      idle_.push_back(std::move(conn));
    } else if (broken) {
      dropped.swap(idle_);
    }
  }
  cv_.notify_all();
  // Closed outside the lock (PQfinish may write a goodbye to the socket).
  conn.reset();
  dropped.clear();
}

}  // namespace sealhook::postgres
