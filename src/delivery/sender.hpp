#pragma once
// The HTTP client that POSTs deliveries: keep-alive connections pooled per origin, TLS with
// certificate and host-name verification, a deadline per attempt, bounded response reads,
// redirects never followed, and the SSRF guard applied to the address actually connected to.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "delivery/address_ranges.hpp"

namespace sealhook::delivery {

struct SendRequest {
  std::string url;  // http:// or https://
  std::vector<std::pair<std::string, std::string>> headers;
  std::shared_ptr<const std::string> body;
  std::chrono::milliseconds timeout{30'000};
};

struct SendResult {
  int status = 0;     // HTTP status, 0 when there was no answer
  std::string error;  // empty when an HTTP answer arrived; else e.g. "timeout", "connect: ..."
  std::optional<std::string> retry_after;  // the raw Retry-After header, if any
  std::chrono::milliseconds duration{0};
};

struct SenderOptions {
  AddressPolicy addresses;  // which addresses may be connected to (the SSRF guard)
  size_t max_response_bytes = 64 * 1024;
  size_t max_idle_per_origin = 32;
  std::string user_agent = "sealhook/0.1";
  size_t dns_threads = 8;  // host-name lookups at once
  std::string ca_file;     // PEM CA certificates trusted beside the system store (--ca-file)
};

class Sender {
 public:
  virtual ~Sender() = default;
  // Completion runs on the sender's io_context. Never throws.
  virtual void send(SendRequest request, std::function<void(SendResult)> done) = 0;
};

// Fails when options.ca_file cannot be read as PEM certificates.
Result<std::unique_ptr<Sender>> make_http_sender(boost::asio::io_context& io,
                                                 SenderOptions options);

}  // namespace sealhook::delivery
