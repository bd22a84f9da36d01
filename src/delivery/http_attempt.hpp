#pragma once
// Internal to the HTTP sender: the state shared by the sender and its in-flight attempts,
// and the entry point that runs one POST attempt.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>

#include "delivery/connection_pool.hpp"
#include "delivery/sender.hpp"

namespace sealhook::delivery {

struct SenderShared {
  SenderShared(boost::asio::io_context& io_context, SenderOptions opts,
               boost::asio::ssl::context&& client_tls);

  boost::asio::io_context& io;
  const SenderOptions options;
  // Host-name lookups (getaddrinfo blocks) run here, several at once, never on the io threads
  // and never one behind another: Asio's own resolver has a single thread per io_context.
  boost::asio::thread_pool dns;
  boost::asio::ssl::context tls;  // one per sender: verify peer (tls_context.hpp)
  ConnectionPool pool;
};

// Runs one POST (on a pooled connection when one is idle for the origin); done is called
// exactly once, on the io_context. Never throws.
void start_attempt(const std::shared_ptr<SenderShared>& shared, SendRequest request,
                   std::function<void(SendResult)> done);

}  // namespace sealhook::delivery
