#pragma once
// A blocking loopback client that writes bytes as given and reads answers as they come, for
// requests no well-behaved HTTP library would send.
#include <cstdint>
#include <map>
#include <string>

namespace sealhook::net::testing {

struct RawResponse {
  int status = 0;                              // 0: the connection closed first
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

class RawClient {
 public:
  // Connects to 127.0.0.1:port from `source` (any 127.0.0.0/8 address is another client).
  explicit RawClient(uint16_t port, const std::string& source = "127.0.0.1");
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  void send(const std::string& bytes);
  // One response (Content-Length framed); status 0 when the server closed before one.
  RawResponse read_response();
  // Everything until the server closes (after what read_response() left over).
  std::string read_to_close();

 private:
  bool fill();  // one recv into pending_; false at the end of the stream or on an error
  int fd_ = -1;
  std::string pending_;
};

}  // namespace sealhook::net::testing
