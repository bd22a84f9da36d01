// The server over real loopback sockets: strict framing (RFC 9112 §3.2, §6) and parse errors.
#include "net/http_server.hpp"

#include "server_fixture.hpp"

namespace sealhook::net {
namespace {

using namespace std::chrono_literals;

const std::string kHidden = "GET /hidden HTTP/1.1\r\nHost: x\r\n\r\n";

TEST_F(HttpServerTest, AmbiguousFramingIs400AndTheHiddenRequestIsNeverAnswered) {
  start();
  for (std::string framing : {"Transfer-Encoding: xchunked\r\n", "Transfer-Encoding: identity\r\n",
                              "Transfer-Encoding: gzip, chunked\r\n",
                              "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
                              "Content-Length: 3\r\nTransfer-Encoding: identity\r\n",
                              "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
                              "Content-Length: 3\r\nContent-Length: 4\r\n",
                              "Content-Length: 3, 4\r\n", "Content-Length: x\r\n"}) {
    RawClient c(port());
    std::string body = "0\r\n\r\n" + kHidden;
    c.send("POST /front HTTP/1.1\r\nHost: x\r\n" + framing + "\r\n" + body);
    RawResponse r = c.read_response();
    EXPECT_EQ(r.status, 400) << framing;
    EXPECT_EQ(r.headers["connection"], "close") << framing;
    EXPECT_TRUE(error_code(r) == "bad_framing" || error_code(r) == "malformed_request") << r.body;
    EXPECT_EQ(c.read_to_close(), "") << framing;  // no answer to the hidden request
  }
  EXPECT_EQ(handled_.load(), 0);
  {  // HTTP/1.0 has no chunked coding at all
    RawClient c(port());
    c.send("POST /front HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    EXPECT_EQ(c.read_response().status, 400);
  }
  RawClient good(port());  // exactly `chunked` (any case) still frames a body
  good.send(
      "POST /front HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(good.read_response().body, "/front 3");
}

TEST_F(HttpServerTest, MalformedRequestsGetA400JsonBodyNotASilentClose) {
  start();
  for (std::string raw :
       {"GARBAGE\r\n\r\n", "GET / HTTP/7.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    RawClient c(port());
    c.send(raw);
    RawResponse r = c.read_response();
    EXPECT_EQ(r.status, 400) << raw;
    EXPECT_EQ(error_code(r), "malformed_request") << raw;
  }
  RawClient big(port());
  big.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20'000, 'a') + "\r\n\r\n");
  RawResponse r = big.read_response();
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "headers_too_large");
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(HttpServerTest, Http11NeedsExactlyOneHost) {
  start();
  for (std::string raw :
       {"GET / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"}) {
    RawClient c(port());
    c.send(raw);
    RawResponse r = c.read_response();
    EXPECT_EQ(r.status, 400) << raw;
    EXPECT_EQ(error_code(r), "bad_framing") << raw;
  }
  EXPECT_EQ(handled_.load(), 0);
  RawClient old(port());
  old.send("GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(old.read_response().status, 200);
}

}  // namespace
}  // namespace sealhook::net
