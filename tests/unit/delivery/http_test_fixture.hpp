#pragma once
// The client side of the sender tests: a sender on an io_context run by two threads.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <future>
#include <optional>
#include <thread>
#include <vector>

#include "delivery/sender.hpp"
#include "http_test_server.hpp"

namespace sealhook::delivery::testing {

using namespace std::chrono_literals;
namespace asio = boost::asio;

inline Reply ok_reply(const RecordedRequest&, int) { return Reply{}; }

// The client io_context runs on two threads, as in production; every send's completion
// is awaited with a future, and TearDown checks each `done` ran exactly once.
class HttpSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }

  void TearDown() override {
    sender_.reset();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
    for (const auto& calls : calls_) EXPECT_EQ(calls->load(), 1);
  }

  Sender& sender(SenderOptions options = private_ok()) {
    auto made = make_http_sender(io_, std::move(options));
    EXPECT_TRUE(made.ok()) << made.error().message;
    sender_ = std::move(made.value());
    return *sender_;
  }

  static SenderOptions private_ok() {
    SenderOptions o;
    o.addresses.allow_private = true;
    o.user_agent = "sealhook-test/1";
    return o;
  }

  std::future<SendResult> start(const std::string& url, std::chrono::milliseconds timeout = 5s) {
    SendRequest req;
    req.url = url;
    req.body = std::make_shared<const std::string>("{}");
    req.timeout = timeout;
    return start(std::move(req));
  }

  std::future<SendResult> start(SendRequest req) {
    auto promise = std::make_shared<std::promise<SendResult>>();
    auto calls = std::make_shared<std::atomic<int>>(0);
    calls_.push_back(calls);
    sender_->send(std::move(req), [promise, calls](SendResult r) {
      if (calls->fetch_add(1) == 0) promise->set_value(std::move(r));
    });
    return promise->get_future();
  }

  static SendResult await(std::future<SendResult> f) {
    if (f.wait_for(15s) != std::future_status::ready) {
      ADD_FAILURE() << "send did not complete";
      SendResult r;
      r.error = "never completed";
      return r;
    }
    return f.get();
  }

  SendResult send(const std::string& url, std::chrono::milliseconds timeout = 5s) {
    return await(start(url, timeout));
  }

  static std::string url(const TestServer& s, const std::string& path = "/hook") {
    return "http://127.0.0.1:" + std::to_string(s.port()) + path;
  }

  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
      asio::make_work_guard(io_)};
  std::vector<std::thread> threads_;
  std::unique_ptr<Sender> sender_;
  std::vector<std::shared_ptr<std::atomic<int>>> calls_;
};

}  // namespace sealhook::delivery::testing
