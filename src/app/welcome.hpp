#pragma once
// What `serve` prints once it listens: the address it is bound to, a URL that reaches it from
// this machine, and the first commands to run against it.
#include <boost/asio/ip/tcp.hpp>
#include <string>

namespace sealhook::app {

struct Node;

struct ListenAddress {
  std::string bound;  // "0.0.0.0:4242", "[::]:4242", "127.0.0.1:4242"
  std::string url;    // "http://127.0.0.1:4242": loopback for a wildcard address
  bool wildcard = false;
};

ListenAddress describe_listen(const boost::asio::ip::tcp::endpoint& bound);
void print_welcome(const Node& n, const boost::asio::ip::tcp::endpoint& bound);

}  // namespace sealhook::app
