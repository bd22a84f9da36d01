#include <boost/asio/ip/tcp.hpp>

#include "http_test_fixture.hpp"

namespace sealhook::delivery {
namespace {

using namespace std::chrono_literals;
using namespace sealhook::delivery::testing;
namespace asio = boost::asio;

TEST_F(HttpSenderTest, PostsHeadersAndBodyExactly) {
  TestServer server(ok_reply);
  sender();
  SendRequest req;
  req.url = url(server, "/hook/in?x=1");
  req.headers = {{"Content-Type", "application/jose"},
                 {"webhook-id", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"},
                 {"webhook-timestamp", "1700000000"},
                 {"webhook-signature", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="}};
  req.body = std::make_shared<const std::string>("eyJhbGciOiJSU0EtT0FFUC0yNTYifQ.a.b.c.d");
  const SendResult r = await(start(req));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.error, "");
  EXPECT_FALSE(r.retry_after.has_value());
  ASSERT_EQ(server.received().size(), 1u);
  const auto got = server.received()[0];
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/hook/in?x=1");
  EXPECT_EQ(got.header("Host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(got.header("User-Agent"), "sealhook-test/1");
  EXPECT_EQ(got.header("Content-Length"), std::to_string(req.body->size()));
  EXPECT_EQ(got.header("Transfer-Encoding"), "");
  for (const auto& [name, value] : req.headers) EXPECT_EQ(got.header(name), value) << name;
  EXPECT_EQ(got.headers.size(), req.headers.size() + 3);  // + Host, User-Agent, Content-Length
  EXPECT_EQ(got.body, *req.body);
}

TEST_F(HttpSenderTest, FramingHeadersAreOursAndInjectionIsRefused) {
  TestServer server(ok_reply);
  sender();
  SendRequest req;
  req.url = url(server, "/");
  req.headers = {{"content-length", "1"}, {"Connection", "close"}, {"Host", "evil"}};
  req.body = std::make_shared<const std::string>("abc");
  EXPECT_EQ(await(start(req)).status, 200);
  ASSERT_EQ(server.received().size(), 1u);
  EXPECT_EQ(server.received()[0].header("Content-Length"), "3");
  EXPECT_EQ(server.received()[0].header("Host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(server.received()[0].body, "abc");
  for (auto bad : {std::pair<std::string, std::string>{"x-a", "1\r\nEvil: 1"},
                   {"x-b\r\nEvil", "1"},
                   {"x c", "1"},
                   {"", "1"}}) {
    req.headers = {bad};
    const SendResult r = await(start(req));
    EXPECT_EQ(r.error, "invalid_header") << bad.first;
  }
  EXPECT_EQ(server.requests(), 1);  // nothing was sent for the refused ones
}

TEST_F(HttpSenderTest, PassesStatusAndRetryAfterThrough) {
  TestServer server([](const RecordedRequest& req, int) {
    if (req.target == "/500") return Reply().with_status(500).with_body("oops");
    return Reply().with_status(429).with_header("Retry-After", "7");
  });
  sender();
  const SendResult e500 = send(url(server, "/500"));
  EXPECT_EQ(e500.status, 500);
  EXPECT_EQ(e500.error, "");
  EXPECT_FALSE(e500.retry_after.has_value());
  const SendResult e429 = send(url(server, "/429"));
  EXPECT_EQ(e429.status, 429);
  EXPECT_EQ(e429.retry_after, std::optional<std::string>("7"));
}

TEST_F(HttpSenderTest, DoesNotFollowRedirects) {
  std::string location;
  TestServer server([&](const RecordedRequest&, int) {
    return Reply().with_status(302).with_header("Location", location);
  });
  location = url(server, "/elsewhere");
  sender();
  const SendResult r = send(url(server));
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(server.requests(), 1);
  EXPECT_EQ(server.received()[0].target, "/hook");
}

TEST_F(HttpSenderTest, SkipsInterimResponses) {
  TestServer server([](const RecordedRequest&, int) {
    Reply r = Reply().with_status(202);
    r.interim = true;
    return r;
  });
  sender();
  EXPECT_EQ(send(url(server)).status, 202);
  EXPECT_EQ(send(url(server)).status, 202);
  EXPECT_EQ(server.connections(), 1);
}

TEST_F(HttpSenderTest, TimesOutWhenTheServerNeverAnswers) {
  TestServer server([](const RecordedRequest&, int) {
    Reply r;
    r.never = true;
    return r;
  });
  sender();
  const SendResult r = send(url(server), 300ms);
  EXPECT_EQ(r.error, "timeout");
  EXPECT_EQ(r.status, 0);
  EXPECT_GE(r.duration, 300ms);
  EXPECT_LT(r.duration, 3000ms);
}

TEST_F(HttpSenderTest, TimesOutDuringTlsHandshake) {
  // Listening but never accepting: TCP connects (the kernel's backlog), TLS never answers.
  asio::io_context idle;
  asio::ip::tcp::acceptor silent(idle, {asio::ip::make_address("127.0.0.1"), 0});
  sender();
  const SendResult r =
      send("https://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/", 300ms);
  EXPECT_EQ(r.error, "timeout");
  EXPECT_GE(r.duration, 300ms);
  EXPECT_LT(r.duration, 3000ms);
}

TEST_F(HttpSenderTest, ReportsConnectionRefused) {
  uint16_t port = 0;
  {
    asio::io_context tmp;
    asio::ip::tcp::acceptor a(tmp, {asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  sender();
  const SendResult r = send("http://127.0.0.1:" + std::to_string(port) + "/");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.error.rfind("connect: ", 0), 0u) << r.error;
}

TEST_F(HttpSenderTest, RefusesInvalidUrls) {
  sender();
  const SendResult r = send("ftp://example.com/");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.error.rfind("invalid_url", 0), 0u) << r.error;
}

TEST_F(HttpSenderTest, RefusesForbiddenAddressesWithoutPrivateNetworks) {
  TestServer server(ok_reply);
  SenderOptions o;
  o.addresses.allow_private = false;
  sender(o);
  const std::string port = std::to_string(server.port());
  for (const std::string& u : {"http://127.0.0.1:" + port + "/", "http://localhost:" + port + "/",
                               "http://[::1]:" + port + "/", "http://[::ffff:127.0.0.1]:" + port}) {
    const SendResult r = send(u);
    EXPECT_EQ(r.error, "forbidden_address") << u;
    EXPECT_EQ(r.status, 0);
  }
  EXPECT_EQ(server.connections(), 0);
  EXPECT_EQ(server.requests(), 0);
}

}  // namespace
}  // namespace sealhook::delivery
