#pragma once
// A loopback HTTP/1.1 (optionally TLS) server for the sender tests, on its own thread.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace sealhook::delivery::testing {

struct RecordedRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // in the order received
  std::string body;
  int connection = 0;  // 1-based index of the connection it arrived on

  // The value of the only header called name (case-insensitive); "" when absent,
  // "<duplicate>" when there are several.
  std::string header(std::string_view name) const;
};

struct Reply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool chunked = false;
  bool keep_alive = true;  // false: "Connection: close", then close
  bool never = false;      // never answer; keep the connection open
  bool drop = false;       // close the connection without answering
  bool interim = false;    // send "103 Early Hints" before the answer

  Reply& with_status(int s) {
    status = s;
    return *this;
  }
  Reply& with_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  Reply& with_body(std::string b, bool chunk = false) {
    body = std::move(b);
    chunked = chunk;
    return *this;
  }
};

class TestServer {
 public:
  // request_on_connection is 1 for the first request of a connection.
  using Handler = std::function<Reply(const RecordedRequest&, int request_on_connection)>;

  explicit TestServer(Handler handler, std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
  ~TestServer();

  uint16_t port() const { return port_; }
  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }
  std::vector<RecordedRequest> received() const;
  // Closes every open connection on the server side and waits until that is done.
  void close_all_connections();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

}  // namespace sealhook::delivery::testing
