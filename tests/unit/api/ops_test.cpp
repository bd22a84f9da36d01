// handle_ops_request (api/ops.hpp), what `worker` serves on --metrics-listen: the three ops
// routes of the API with their answers, every other path a 404 JSON error.
#include "api/ops.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "queue/queue.hpp"
#include "store/journal.hpp"
#include "store/store.hpp"

namespace sealhook::api {
namespace {

namespace http = boost::beast::http;

class OpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = make_store("sqlite::memory:");
    ASSERT_TRUE(store.ok());
    store_ = std::move(store.value());
    journal_ = std::make_unique<Journal>(*store_, clock_);
    QueueConfig qc;
    qc.kind = "memory";
    auto queue = make_queue(qc, clock_);
    ASSERT_TRUE(queue.ok());
    queue_ = std::move(queue.value());
  }
  void TearDown() override { journal_->stop(); }

  net::Response get(const std::string& target, http::verb verb = http::verb::get) {
    OpsContext ctx{*store_, *journal_, *queue_, [] { return std::string("sealhook_x 1\n"); }};
    net::Request req{verb, target, 11};
    return handle_ops_request(ctx, req);
  }

  static std::string code_of(const net::Response& r) {
    return std::string(boost::json::parse(r.body()).at("error").at("code").as_string());
  }

  ManualClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<Queue> queue_;
};

TEST_F(OpsTest, AnswersTheThreeOpsRoutes) {
  auto h = get("/healthz");
  EXPECT_EQ(h.result_int(), 200);
  EXPECT_EQ(boost::json::parse(h.body()).at("status"), "ok");
  auto r = get("/readyz");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(boost::json::parse(r.body()).at("status"), "ready");
  auto m = get("/metrics");
  EXPECT_EQ(m.result_int(), 200);
  EXPECT_EQ(m.body(), "sealhook_x 1\n");
  EXPECT_EQ(m[http::field::content_type], "text/plain; version=0.0.4");
}

TEST_F(OpsTest, EveryOtherPathIsA404AndAnotherMethodA405) {
  for (const char* path : {"/", "/v1/tenants", "/v1/events", "/publish", "/openapi.json",
                           "/metrics/x", "/v1/healthz"}) {
    auto r = get(path);
    EXPECT_EQ(r.result_int(), 404) << path;
    EXPECT_EQ(code_of(r), "not_found") << path;
  }
  auto r = get("/metrics", http::verb::post);
  EXPECT_EQ(r.result_int(), 405);
  EXPECT_EQ(r[http::field::allow], "GET");
  EXPECT_EQ(code_of(r), "method_not_allowed");
}

}  // namespace
}  // namespace sealhook::api
