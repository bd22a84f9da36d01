// `Expect: 100-continue`, the three read deadlines, the shared body memory, the per-address cap.
#include "server_fixture.hpp"

namespace sealhook::net {
namespace {

using namespace std::chrono_literals;

std::string post(const std::string& target, size_t length, const std::string& extra = "") {
  return "POST " + target + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(length) +
         "\r\n" + extra + "\r\n";
}

TEST_F(HttpServerTest, ExpectContinueIsAnsweredBeforeTheBody) {
  start();
  RawClient c(port());
  c.send(post("/up", 5, "Expect: 100-continue\r\n"));
  EXPECT_EQ(c.read_response().status, 100);  // before a byte of the body was sent
  c.send("hello");
  EXPECT_EQ(c.read_response().body, "/up 5");
}

TEST_F(HttpServerTest, ExpectContinueGetsTheRefusalAtOnce) {
  ServerOptions o;
  o.max_body_bytes = 100;
  o.screen = [](const RequestHeader& h) -> std::optional<Response> {
    if (h.target() != "/locked") return std::nullopt;
    return error_response(make_error(ErrorKind::kUnauthorized, "unauthorized", "no"));
  };
  start(o);
  RawClient big(port());
  big.send(post("/up", 101, "Expect: 100-continue\r\n"));
  RawResponse r = big.read_response();
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(error_code(r), "payload_too_large");
  EXPECT_EQ(r.headers["connection"], "close");
  RawClient locked(port());
  locked.send(post("/locked", 10, "Expect: 100-continue\r\n"));
  r = locked.read_response();
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_EQ(locked.read_to_close(), "");
  RawClient open(port());  // the screen passes what it does not refuse
  open.send(post("/open", 2, "Expect: 100-continue\r\n"));
  EXPECT_EQ(open.read_response().status, 100);
  open.send("{}");
  EXPECT_EQ(open.read_response().body, "/open 2");
  EXPECT_EQ(handled_.load(), 1);
}

TEST_F(HttpServerTest, ASlowHeaderIsCutAtTheHeaderDeadline) {
  ServerOptions o;
  o.header_timeout = 300ms;
  start(o);
  for (std::string sent : {"", "GET / HTTP/1.1\r\nHost: x\r\n"}) {  // nothing; never the end
    RawClient c(port());
    auto begin = std::chrono::steady_clock::now();
    c.send(sent);
    EXPECT_EQ(c.read_to_close(), "");
    auto took = std::chrono::steady_clock::now() - begin;
    EXPECT_GE(took, 250ms);
    EXPECT_LT(took, 3s);  // the client's own 5 s receive timeout otherwise
  }
}

TEST_F(HttpServerTest, ASlowBodyIsCutAtTheBodyDeadline) {
  ServerOptions o;
  o.body_timeout = 300ms;
  start(o);
  RawClient c(port());
  auto begin = std::chrono::steady_clock::now();
  c.send(post("/up", 10) + "abc");
  EXPECT_EQ(c.read_to_close(), "");
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 3s);
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(HttpServerTest, AnIdleKeepAliveConnectionOutlivesTheHeaderDeadline) {
  ServerOptions o;
  o.header_timeout = 200ms;
  o.idle_timeout = 10s;
  start(o);
  RawClient c(port());
  c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.read_response().status, 200);
  std::this_thread::sleep_for(500ms);  // idle for more than the header deadline
  c.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.read_response().body, "/b 0");
}

TEST_F(HttpServerTest, BodiesBeyondTheSharedMemoryAre503UntilMemoryIsGivenBack) {
  ServerOptions o;
  o.max_request_memory_bytes = 1000;
  start(o);
  RawClient holder(port());
  holder.send(post("/a", 800, "Expect: 100-continue\r\n"));
  ASSERT_EQ(holder.read_response().status, 100);  // its 800 bytes are taken
  EXPECT_EQ(server_->request_memory_bytes(), 800u);
  RawClient sized(port());
  sized.send(post("/b", 300));
  RawResponse r = sized.read_response();
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(error_code(r), "server_busy");
  EXPECT_EQ(r.headers["retry-after"], "1");
  RawClient chunked(port());  // counted chunk by chunk: the first fits, the second does not
  chunked.send("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n" +
               std::string(100, 'x') + "\r\n");
  ASSERT_TRUE(eventually([&] { return server_->request_memory_bytes() == 900; }));
  chunked.send("c8\r\n" + std::string(200, 'y') + "\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.read_response().status, 503);
  holder.send(std::string(800, 'z'));
  EXPECT_EQ(holder.read_response().body, "/a 800");
  ASSERT_TRUE(eventually([&] { return server_->request_memory_bytes() == 0; }));
  RawClient after(port());
  after.send(post("/d", 300) + std::string(300, 'w'));
  EXPECT_EQ(after.read_response().body, "/d 300");
}

TEST_F(HttpServerTest, OneClientAddressCannotTakeEveryConnection) {
  ServerOptions o;
  o.max_connections_per_client = 2;
  start(o);
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(std::make_unique<RawClient>(port()));
    held.back()->send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_EQ(held.back()->read_response().status, 200);
  }
  RawClient over(port());
  RawResponse r = over.read_response();
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(error_code(r), "too_many_connections");
  EXPECT_EQ(r.headers["retry-after"], "1");
  EXPECT_EQ(over.read_to_close(), "");
  RawClient other(port(), "127.0.0.2");
  other.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(other.read_response().status, 200);
  held.pop_back();
  ASSERT_TRUE(eventually([&] { return server_->open_connections() == 2; }));
  RawClient again(port());
  again.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(again.read_response().status, 200);
}

}  // namespace
}  // namespace sealhook::net
