#pragma once
// Host-name lookups for endpoint registration, bounded in number and in time.
#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace sealhook::delivery {

using AddressList = std::vector<boost::asio::ip::address>;
// Blocking name resolution; errors are kUnprocessable "unresolvable_host".
using ResolveFn = std::function<Result<AddressList>(const std::string& host)>;
Result<AddressList> system_resolve(const std::string& host);  // getaddrinfo

struct LookupOptions {
  size_t max_concurrent = 8;                 // --registration-lookups
  std::chrono::milliseconds timeout{5'000};  // --registration-lookup-timeout-ms
};

// getaddrinfo has no deadline and cannot be cancelled: lookups run on a fixed pool of
// max_concurrent threads and the caller waits at most `timeout`. A lookup past its deadline
// keeps its thread, and its place in the bound, until getaddrinfo returns; while all places are
// taken, resolve() answers kUnavailable "lookups_busy" at once instead of queueing.
class HostLookup {
 public:
  explicit HostLookup(LookupOptions options, ResolveFn resolve = system_resolve);
  ~HostLookup();  // waits for the lookups still running
  HostLookup(const HostLookup&) = delete;
  HostLookup& operator=(const HostLookup&) = delete;

  // Thread-safe.
  Result<AddressList> resolve(const std::string& host);

 private:
  LookupOptions options_;
  ResolveFn resolve_;
  std::atomic<size_t> busy_{0};
  boost::asio::thread_pool pool_;
};

}  // namespace sealhook::delivery
