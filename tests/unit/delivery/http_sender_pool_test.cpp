// Keep-alive reuse, the retry on a connection the peer closed, bounded response reads.
#include <boost/asio/strand.hpp>

#include "delivery/connection_pool.hpp"
#include "delivery/http_connection.hpp"
#include "http_test_fixture.hpp"

namespace sealhook::delivery {
namespace {

using namespace std::chrono_literals;
using namespace sealhook::delivery::testing;

TEST_F(HttpSenderTest, ReusesOneConnectionForSequentialSends) {
  TestServer server(ok_reply);
  sender();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(send(url(server)).status, 200);
  EXPECT_EQ(server.requests(), 5);
  EXPECT_EQ(server.connections(), 1);
}

TEST_F(HttpSenderTest, ConcurrentSendsShareTheBoundedPool) {
  TestServer server(ok_reply);
  SenderOptions o = private_ok();
  o.max_idle_per_origin = 4;
  sender(o);
  std::vector<std::future<SendResult>> batch;
  for (int i = 0; i < 32; ++i) batch.push_back(start(url(server)));
  for (auto& f : batch) EXPECT_EQ(await(std::move(f)).status, 200);
  const int opened = server.connections();
  EXPECT_LE(opened, 32);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(send(url(server)).status, 200);
  EXPECT_EQ(server.connections(), opened);  // the sequential ones reuse a kept connection
  EXPECT_EQ(server.requests(), 40);
}

TEST_F(HttpSenderTest, SurvivesTheServerClosingIdleConnections) {
  TestServer server(ok_reply);
  sender();
  EXPECT_EQ(send(url(server)).status, 200);
  server.close_all_connections();
  const SendResult r = send(url(server));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(server.connections(), 2);
}

TEST_F(HttpSenderTest, RetriesOnceWhenAReusedConnectionDiesBeforeAnswering) {
  // The second request on any connection is met with a close (the keep-alive race).
  TestServer server([](const RecordedRequest&, int nth) {
    Reply r;
    r.drop = nth == 2;
    return r;
  });
  sender();
  EXPECT_EQ(send(url(server)).status, 200);
  const SendResult r = send(url(server));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(server.requests(), 3);
}

TEST_F(HttpSenderTest, DoesNotRetryAFreshConnection) {
  TestServer server([](const RecordedRequest&, int) {
    Reply r;
    r.drop = true;
    return r;
  });
  sender();
  const SendResult r = send(url(server));
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.error.rfind("read: ", 0), 0u) << r.error;
  EXPECT_EQ(server.requests(), 1);
}

TEST_F(HttpSenderTest, DropsConnectionsTheServerAsksToClose) {
  TestServer server([](const RecordedRequest&, int) {
    Reply r;
    r.keep_alive = false;
    return r;
  });
  sender();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(send(url(server)).status, 200);
  EXPECT_EQ(server.connections(), 3);
}

TEST_F(HttpSenderTest, ReportsTheStatusOfAnOversizedResponse) {
  TestServer server([](const RecordedRequest& req, int) {
    const std::string body(req.target == "/small" ? 500 : 100'000, 'x');
    return Reply().with_status(201).with_body(body, req.target == "/chunked");
  });
  SenderOptions o = private_ok();
  o.max_response_bytes = 1024;
  sender(o);
  for (const char* path : {"/big", "/chunked"}) {
    const SendResult r = send(url(server, path));
    EXPECT_EQ(r.status, 201) << path;
    EXPECT_EQ(r.error, "") << path;
  }
  EXPECT_EQ(server.connections(), 2);  // each oversized answer costs its connection
  EXPECT_EQ(send(url(server, "/small")).status, 201);
  EXPECT_EQ(send(url(server, "/small")).status, 201);
  EXPECT_EQ(server.connections(), 3);  // a body within the limit is read; the connection kept
}

TEST(ConnectionPool, KeepsAtMostMaxIdleAndForgetsExpiredOnes) {
  boost::asio::io_context io;
  const auto strand = boost::asio::make_strand(io);
  ConnectionPool pool(2, 0s);
  for (int i = 0; i < 3; ++i) pool.release("http://a:80", std::make_unique<Connection>(strand));
  pool.release("http://b:80", std::make_unique<Connection>(strand));
  EXPECT_EQ(pool.idle_count(), 3u);
  pool.prune();  // idle timeout 0: everything has expired
  EXPECT_EQ(pool.idle_count(), 0u);
  pool.release("http://a:80", std::make_unique<Connection>(strand));
  EXPECT_EQ(pool.acquire("http://a:80"), nullptr);  // expired (and never opened)
  EXPECT_EQ(pool.acquire("http://unknown:80"), nullptr);
}

}  // namespace
}  // namespace sealhook::delivery
