// Idempotent publishes over a real SQLite store: a key stands for the request that first used
// it (target tenant, type, payload text). The same request again gets the first answer; another
// request under the key is 422 idempotency_key_reused and enqueues nothing. Two publishes racing
// with one key through two connections to the store (as two processes would) fan out once.
#include <gtest/gtest.h>

#include <latch>
#include <thread>

#include "../store/test_util.hpp"
#include "crypto/keygen.hpp"
#include "publish/publisher.hpp"
#include "queue/memory/memory_queue.hpp"

namespace sealhook {
namespace {

class PublisherIdempotencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string spec = "sqlite:" + (dir.path() / "store.db").string();
    store = testing::open_store(spec);
    other_store = testing::open_store(spec);  // another connection: another process
    ASSERT_TRUE(store && other_store);
    catalog = std::make_unique<CatalogService>(*store, registry, clock, CatalogLimits{}, guard);
    for (std::string* id : {&t1, &t2}) {
      *id = catalog->create_tenant("t").value().first.id;
      auto key = crypto::generate_key(crypto::KeyType::kX25519, 0).value();
      ASSERT_TRUE(catalog->add_public_key(*id, key.public_key().to_jwk()).ok());
      ASSERT_TRUE(catalog->set_subscriptions(*id, {"*"}).ok());
      EndpointSpec endpoint;
      endpoint.url = "http://127.0.0.1:9/hook";
      ASSERT_TRUE(catalog->create_endpoint(*id, endpoint).ok());
    }
    journal = std::make_unique<Journal>(*store, clock);
    publisher = std::make_unique<Publisher>(*catalog, queue, *journal, *store, clock);
    racer = std::make_unique<Publisher>(*catalog, queue, *journal, *other_store, clock);
  }

  static PublishRequest request(std::optional<std::string> tenant, std::string type,
                                std::string payload, std::string key, std::string scope = "admin") {
    return PublishRequest{std::move(type), std::move(payload), std::move(tenant), std::move(key),
                          std::move(scope)};
  }

  size_t queued() const { return queue.stats().depth; }

  static void expect_reused(const Result<std::string>& r) {
    ASSERT_FALSE(r.ok()) << *r;
    EXPECT_EQ(r.error().kind, ErrorKind::kUnprocessable);
    EXPECT_EQ(r.error().code, "idempotency_key_reused");
  }

  testing::TempDir dir;
  ManualClock clock;
  delivery::UrlGuard guard{delivery::AddressPolicy{.allow_private = true, .allowed = {}}, {}};
  Registry registry;
  MemoryQueue queue{QueueOptions{}, clock};
  std::unique_ptr<Store> store, other_store;
  std::unique_ptr<CatalogService> catalog;
  std::unique_ptr<Journal> journal;
  std::unique_ptr<Publisher> publisher, racer;
  std::string t1, t2;
};

TEST_F(PublisherIdempotencyTest, AKeyIsBoundToItsTenantTypeAndPayload) {
  auto first = publisher->publish(request(t1, "order.created", R"({"n":1})", "dup-1"));
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_EQ(queued(), 1u);

  // The issue's case: the same admin key for another tenant is refused, and T2 gets nothing.
  expect_reused(publisher->publish(request(t2, "order.created", R"({"n":1})", "dup-1")));
  expect_reused(publisher->publish(request(std::nullopt, "order.created", R"({"n":1})", "dup-1")));
  expect_reused(publisher->publish(request(t1, "order.deleted", R"({"n":1})", "dup-1")));
  expect_reused(publisher->publish(request(t1, "order.created", R"({"n":2})", "dup-1")));
  // Another text is another event: the receiver gets the payload byte for byte.
  expect_reused(publisher->publish(request(t1, "order.created", R"({ "n":1})", "dup-1")));
  EXPECT_EQ(queued(), 1u);

  // The same request again: the first answer, nothing enqueued twice.
  auto again = publisher->publish(request(t1, "order.created", R"({"n":1})", "dup-1"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);
  EXPECT_EQ(queued(), 1u);

  // A tenant's keys are its own scope; within it, the same rules.
  auto own = publisher->publish(request(t2, "order.created", R"({"n":1})", "dup-1", t2));
  ASSERT_TRUE(own.ok());
  EXPECT_NE(*own, *first);
  EXPECT_EQ(queued(), 2u);
  expect_reused(publisher->publish(request(t2, "order.created", R"({"n":3})", "dup-1", t2)));
  EXPECT_EQ(*publisher->publish(request(t2, "order.created", R"({"n":1})", "dup-1", t2)), *own);

  // After the 24 h window the key is free for any request.
  clock.advance_ms(kIdempotencyWindowMs + 1);
  auto later = publisher->publish(request(t2, "order.created", R"({"n":1})", "dup-1"));
  ASSERT_TRUE(later.ok()) << later.error().message;
  EXPECT_NE(*later, *first);
  EXPECT_EQ(queued(), 3u);
}

TEST_F(PublisherIdempotencyTest, RacingPublishesWithOneKeyAndTwoBodiesFanOutOnce) {
  constexpr int kRounds = 40;
  for (int round = 0; round < kRounds; ++round) {
    const std::string key = "race-" + std::to_string(round);
    Result<std::string> a = make_error(ErrorKind::kInternal, "unset", "");
    Result<std::string> b = a;
    std::latch start(2);
    std::thread other([&] {
      start.arrive_and_wait();
      b = racer->publish(request(t2, "order.created", R"({"from":"b"})", key));
    });
    start.arrive_and_wait();
    a = publisher->publish(request(t1, "order.created", R"({"from":"a"})", key));
    other.join();
    ASSERT_NE(a.ok(), b.ok()) << "round " << round << ": exactly one publish wins";
    expect_reused(a.ok() ? b : a);
  }
  EXPECT_EQ(queued(), static_cast<size_t>(kRounds));  // one delivery per round, never two
}

TEST_F(PublisherIdempotencyTest, RacingPublishesOfOneRequestFanOutOnce) {
  constexpr int kRounds = 40;
  for (int round = 0; round < kRounds; ++round) {
    const std::string key = "same-" + std::to_string(round);
    const PublishRequest req = request(t1, "order.created", R"({"same":true})", key);
    Result<std::string> a = make_error(ErrorKind::kInternal, "unset", "");
    Result<std::string> b = a;
    std::latch start(2);
    std::thread other([&] {
      start.arrive_and_wait();
      b = racer->publish(req);
    });
    start.arrive_and_wait();
    a = publisher->publish(req);
    other.join();
    ASSERT_TRUE(a.ok() || b.ok()) << "round " << round;
    const Result<std::string>& loser = a.ok() ? b : a;
    if (loser.ok())  // it came second: the first answer
      EXPECT_EQ(*a, *b);
    else  // it came while the first was fanning out
      EXPECT_EQ(loser.error().code, "idempotency_in_progress");
  }
  EXPECT_EQ(queued(), static_cast<size_t>(kRounds));
}

}  // namespace
}  // namespace sealhook
