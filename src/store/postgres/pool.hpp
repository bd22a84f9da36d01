#pragma once
// A bounded pool of connections, shared by every thread calling the store. A call borrows one
// for its duration; when all `size` are lent it waits at most `wait` and then fails as
// unavailable (503) rather than queueing without bound behind a slow or unreachable server.
// Connections are made on demand (up to `size`). An idle one the server closed is found out
// before it is lent (the call connects afresh instead of failing); one that breaks during a call
// fails that call and is dropped on its return, with every idle one (a restarted server broke
// them all).
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/postgres/connection.hpp"

namespace sealhook::postgres {

struct PoolOptions {
  size_t size = 4;
  std::chrono::milliseconds wait{1000};
  ConnectOptions connect;
};

class Pool {
 public:
  Pool(std::string conninfo, PoolOptions options)
      : conninfo_(std::move(conninfo)), options_(options) {}

  // A borrowed connection, given back when destroyed.
  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_) pool_->give_back(std::move(conn_));
    }
    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_.get(); }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  Result<Lease> acquire(std::string_view what);
  const std::string& conninfo() const { return conninfo_; }
  const PoolOptions& options() const { return options_; }

 private:
  void give_back(std::unique_ptr<Connection> conn);

  const std::string conninfo_;
  const PoolOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  size_t lent_ = 0;  // lent out or being connected
};

}  // namespace sealhook::postgres
