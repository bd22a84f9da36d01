#pragma once
// One outbound keep-alive connection (internal to the sender; includes Asio SSL and Beast).
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <optional>

namespace sealhook::delivery {

using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Strand>;

// Every operation on a connection (and on the attempt using it) runs on its strand, so an
// io_context run by several threads never touches one socket concurrently.
struct Connection {
  explicit Connection(const Strand& strand) : socket(strand) {}

  Socket socket;
  std::optional<boost::asio::ssl::stream<Socket&>> tls;  // engaged for https
  boost::beast::flat_buffer buffer;                      // bytes read past the last response
};

}  // namespace sealhook::delivery
