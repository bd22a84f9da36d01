#pragma once
// The push half of the catalog change feed: a connection of its own LISTENs on the channel
// every catalog write NOTIFYs (in its transaction, so a notification means committed), on a
// thread of its own, and calls `on_change` for each batch of notifications. Notifications
// sent while it is disconnected are lost, so it calls `on_change` after every (re)connect as
// well; the caller's periodic version check stays the guarantee. It reconnects with a
// doubling backoff, and probes an idle connection now and then so that a server gone silent
// is noticed. The destructor stops and joins the thread.
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "store/postgres/connection.hpp"

namespace sealhook::postgres {

struct ListenOptions {
  std::string channel;
  std::chrono::milliseconds probe{10000};
  std::chrono::milliseconds backoff_max{5000};
};

class CatalogListener {
 public:
  CatalogListener(std::string conninfo, ConnectOptions connect, ListenOptions options,
                  std::function<void()> on_change);
  ~CatalogListener();
  CatalogListener(const CatalogListener&) = delete;
  CatalogListener& operator=(const CatalogListener&) = delete;

 private:
  void run();
  // Listens on one connection until it breaks (false) or the listener stops (true).
  bool listen(Connection& conn);
  // Sleeps `d`, or less when stopped; true when stopped.
  bool pause(std::chrono::milliseconds d);

  const std::string conninfo_;
  const ConnectOptions connect_;
  const ListenOptions options_;
  const std::function<void()> on_change_;
  int stop_fd_;  // an eventfd: written once to stop, polled beside the connection's socket
  std::thread thread_;
};

}  // namespace sealhook::postgres
