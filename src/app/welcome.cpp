#include "app/welcome.hpp"

#include <iostream>

#include "app/node.hpp"

namespace sealhook::app {
namespace {

namespace ip = boost::asio::ip;

std::string host_port(const ip::address& a, uint16_t port) {
  std::string host = a.to_string();
  if (a.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(port);
}

// The first commands to run against this server, with its address and (when it was just
// generated) its admin token; a token given by the operator is never echoed.
void print_first_steps(const std::string& base, const std::string& admin_token) {
  const std::string tenant_auth = " -H \"Authorization: Bearer $API_KEY\"";
  std::cout << "get started:\n"
            << "  curl -s -X POST " << base << "/v1/tenants -H \"Authorization: Bearer "
            << admin_token << "\" --json '{\"name\":\"acme\"}'\n"
            << "  then, with API_KEY=<its api_key>:\n"
            << "  sealhook keygen --out keys\n"
            << "  curl -s -X POST " << base << "/v1/keys" << tenant_auth
            << " --json \"{\\\"public_key\\\": $(cat keys/public.jwk)}\"\n"
            << "  curl -s -X PUT " << base << "/v1/subscriptions" << tenant_auth
            << " --json '{\"event_types\":[\"*\"]}'\n"
            << "  curl -s -X POST " << base << "/v1/endpoints" << tenant_auth
            << " --json '{\"url\":\"https://your.receiver/hook\"}'\n"
            << "  curl -s -X POST " << base << "/v1/events" << tenant_auth
            << " --json '{\"type\":\"order.created\",\"payload\":{\"id\":1}}'\n";
}

}  // namespace

ListenAddress describe_listen(const ip::tcp::endpoint& bound) {
  ListenAddress out;
  const ip::address a = bound.address();
  out.bound = host_port(a, bound.port());
  out.wildcard = a.is_unspecified();
  // A wildcard address is no destination; its loopback is, from this machine.
  ip::address reachable = !out.wildcard ? a
                          : a.is_v6()   ? ip::address(ip::address_v6::loopback())
                                        : ip::address(ip::address_v4::loopback());
  out.url = "http://" + host_port(reachable, bound.port());
  return out;
}

void print_welcome(const Node& n, const ip::tcp::endpoint& bound) {
  const ServeConfig& c = n.config;
  const ListenAddress where = describe_listen(bound);
  std::cout << "sealhook listening on " << where.bound
            << (where.wildcard ? " (all interfaces)" : "") << ", reachable at " << where.url << "\n"
            << "queue " << c.queue;
  if (c.queue == "sqlite") std::cout << " " << queue_path(c) << ", sync " << c.queue_sync;
  std::cout << "; store " << c.store << "\n";
  if (!n.generated_admin_token.empty()) {
    std::cout << "admin token (shown once; only its hash is kept): " << n.generated_admin_token
              << "\n";
    print_first_steps(where.url, n.generated_admin_token);
  } else {
    if (c.admin_token.empty())
      std::cout << "admin token: the one generated on this store's first start\n";
    print_first_steps(where.url, "$ADMIN_TOKEN");
  }
  std::cout << std::flush;
}

}  // namespace sealhook::app
