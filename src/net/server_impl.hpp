#pragma once
// What the listener and its sessions share (internal to src/net).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "net/http_server.hpp"
#include "net/server_limits.hpp"

namespace sealhook::net {

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(boost::asio::io_context& io, ServerOptions o, Handler h);

  boost::asio::io_context& io;
  boost::asio::ip::tcp::acceptor acceptor;
  ServerOptions options;
  Handler handler;
  std::atomic<size_t> connections{0};
  std::atomic<bool> stopping{false};
  ByteBudget body_memory;
  ClientSlots clients;

  void accept();
  void admit(boost::asio::ip::tcp::socket&& socket);
};

// Serves `socket` until it closes; `client` holds one of server.clients' slots for it.
void start_session(boost::asio::ip::tcp::socket&& socket, std::shared_ptr<HttpServer::Impl> server,
                   boost::asio::ip::address client);
// Answers `socket` 503 (its client address has too many connections open) and closes it.
void refuse_connection(boost::asio::ip::tcp::socket&& socket,
                       std::shared_ptr<HttpServer::Impl> server);

}  // namespace sealhook::net
