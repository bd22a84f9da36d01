#pragma once
// An HttpServer on 127.0.0.1:0 with two io threads and a handler that answers
// "<target> <body size>", for tests that speak raw bytes to it (raw_client.hpp).
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/json/parse.hpp>
#include <thread>

#include "net/http_server.hpp"
#include "raw_client.hpp"

namespace sealhook::net::testing {

using namespace std::chrono_literals;

class HttpServerTest : public ::testing::Test {
 protected:
  void start(ServerOptions o = {}) {
    server_ = std::make_unique<HttpServer>(io_, std::move(o), [this](Request& r) {
      handled_++;
      Response res{boost::beast::http::status::ok, r.version()};
      res.body() = std::string(r.target()) + " " + std::to_string(r.body().size());
      return res;
    });
    ASSERT_TRUE(server_->listen("127.0.0.1:0").ok());
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  void TearDown() override {
    work_.reset();
    server_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }
  uint16_t port() const { return server_->port(); }
  // Polls `done` (the server's own state) for up to 5 s.
  template <class F>
  bool eventually(F done) {
    for (auto end = std::chrono::steady_clock::now() + 5s; std::chrono::steady_clock::now() < end;
         std::this_thread::sleep_for(5ms))
      if (done()) return true;
    return false;
  }
  // The code of a JSON error body {"error": {"code", "message"}}; "" for any other body.
  static std::string error_code(const RawResponse& r) {
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    const auto* outer = ec ? nullptr : v.if_object();
    const auto* inner = outer && outer->size() == 1 && outer->contains("error")
                            ? outer->at("error").if_object()
                            : nullptr;
    if (!inner || inner->size() != 2 || !inner->contains("message")) return "";
    const auto* code = inner->contains("code") ? inner->at("code").if_string() : nullptr;
    return code ? std::string(*code) : "";
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  std::unique_ptr<HttpServer> server_;
  std::vector<std::thread> threads_;
  std::atomic<int> handled_{0};
};

}  // namespace sealhook::net::testing

namespace sealhook::net {
using testing::HttpServerTest;
using testing::RawClient;
using testing::RawResponse;
}  // namespace sealhook::net
