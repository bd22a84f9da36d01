#include "delivery/host_lookup.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <boost/asio/post.hpp>
#include <future>
#include <memory>

namespace sealhook::delivery {

Result<AddressList> system_resolve(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0)
    return make_error(ErrorKind::kUnprocessable, "unresolvable_host",
                      "cannot resolve host '" + host + "': " + gai_strerror(rc));
  AddressList out;
  for (addrinfo* p = res; p != nullptr; p = p->ai_next) {
    if (p->ai_family == AF_INET) {
      const auto* sa = reinterpret_cast<const sockaddr_in*>(p->ai_addr);
      out.emplace_back(boost::asio::ip::address_v4(ntohl(sa->sin_addr.s_addr)));
    } else if (p->ai_family == AF_INET6) {
      const auto* sa = reinterpret_cast<const sockaddr_in6*>(p->ai_addr);
      boost::asio::ip::address_v6::bytes_type bytes;
      std::copy_n(sa->sin6_addr.s6_addr, 16, bytes.begin());
      out.emplace_back(boost::asio::ip::address_v6(bytes, sa->sin6_scope_id));
    }
  }
  ::freeaddrinfo(res);
  return out;
}

HostLookup::HostLookup(LookupOptions options, ResolveFn resolve)
    : options_(options), resolve_(std::move(resolve)), pool_(options.max_concurrent) {}

HostLookup::~HostLookup() { pool_.join(); }

Result<AddressList> HostLookup::resolve(const std::string& host) {
  size_t busy = busy_.load();
  do {
    if (busy >= options_.max_concurrent)
      return make_error(ErrorKind::kUnavailable, "lookups_busy",
                        "too many host-name lookups at once; retry shortly");
  } while (!busy_.compare_exchange_weak(busy, busy + 1));
  auto promise = std::make_shared<std::promise<Result<AddressList>>>();
  auto future = promise->get_future();
  boost::asio::post(pool_, [this, host, promise] {
    auto result = resolve_(host);
    busy_--;  // before the waiter wakes, so that its next lookup finds the place free
    promise->set_value(std::move(result));
  });
  if (future.wait_for(options_.timeout) != std::future_status::ready)
    return make_error(ErrorKind::kUnprocessable, "unresolvable_host",
                      "timed out resolving host '" + host + "'");
  return future.get();
}

}  // namespace sealhook::delivery
