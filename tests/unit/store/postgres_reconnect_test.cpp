// The postgres store across connections: the catalog's NOTIFY reaching another store's
// watch_catalog, and a server restart (its own server, started and restarted by
// scripts/start-postgres.sh and stop-postgres.sh, so that no other test sees it go down).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <thread>

#include "postgres_db.hpp"
#include "test_util.hpp"

namespace sealhook {
namespace {

using namespace std::chrono_literals;
using testing::FreshDatabase;

// Counts watch_catalog's calls; waits for the count to pass a value.
class Watcher {
 public:
  std::function<void()> callback() {
    return [this] {
      std::lock_guard lock(mu_);
      ++calls_;
      cv_.notify_all();
    };
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  bool await_more_than(int n, std::chrono::milliseconds within) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, within, [&] { return calls_ > n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int calls_ = 0;
};

using PostgresNotifyTest = FreshDatabase;

TEST_F(PostgresNotifyTest, AWriteThroughOneStoreReachesAnothersWatcherWithinASecond) {
  auto writer = testing::open_store(url());
  auto reader = testing::open_store(url());
  ASSERT_NE(writer, nullptr);
  ASSERT_NE(reader, nullptr);
  Watcher watcher;
  ASSERT_TRUE(reader->watch_catalog(watcher.callback()));
  // The first call comes once the listener is connected and LISTENing.
  ASSERT_TRUE(watcher.await_more_than(0, 5s)) << "the listener never connected";
  for (int round = 0; round < 5; ++round) {
    int before = watcher.calls();
    std::string id = "tn_" + std::to_string(round);
    auto started = std::chrono::steady_clock::now();
    ASSERT_TRUE(writer->insert_tenant(testing::tenant(id), testing::api_key("ak_" + id, id)));
    ASSERT_TRUE(watcher.await_more_than(before, 1s)) << "no notification within 1 s";
    auto took = std::chrono::steady_clock::now() - started;
    std::printf("notify round %d: %lld us\n", round,
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::microseconds>(took).count()));
  }
  // An empty callback stops watching: it returns with the listener's thread joined.
  EXPECT_TRUE(reader->watch_catalog(nullptr));
}

// SQLite has no push channel: the default says so.
TEST(StoreWatch, SqliteHasNoPushChannel) {
  auto store = testing::open_store("sqlite::memory:");
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->watch_catalog([] {}));
}

// A server of this test's own, in a temporary directory.
class OwnServer {
 public:
  OwnServer() {
    std::random_device rd;
    env_ = (std::filesystem::temp_directory_path() /
            ("sealhook-pg-restart-" + std::to_string(rd()) + ".env"))
               .string();
    started_ = run(script("start-postgres.sh") + " --fsync off --env-file " + env_);
    if (!started_) return;
    url_ = read("POSTGRES_URL");
    dir_ = read("POSTGRES_DIR");
    port_ = read("POSTGRES_PORT");
  }
  ~OwnServer() {
    if (started_) (void)run(script("stop-postgres.sh") + " --env-file " + env_);
  }
  bool started() const { return started_ && !url_.empty(); }
  const std::string& url() const { return url_; }
  bool stop() { return run(script("stop-postgres.sh") + " --keep " + dir_); }
  bool start_again() {
    return run(script("start-postgres.sh") + " --fsync off --dir " + dir_ + " --port " + port_);
  }

 private:
  static std::string script(const char* name) {
    return std::string(SEALHOOK_SOURCE_DIR) + "/scripts/" + name;
  }
  static bool run(const std::string& command) {
    return std::system((command + " >/dev/null").c_str()) == 0;
  }
  std::string read(const std::string& key) const {
    std::ifstream in(env_);
    const std::string prefix = "export " + key + "=";
    for (std::string line; std::getline(in, line);)
      if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
    return "";
  }

  std::string env_, url_, dir_, port_;
  bool started_ = false;
};

// Polls `call` until it succeeds, at most `within`.
template <class Call>
bool succeeds_within(std::chrono::milliseconds within, Call call) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (call()) return true;
    std::this_thread::sleep_for(20ms);  // a retry's pace, not a synchronisation
  }
  return false;
}

TEST(PostgresRestartTest, TheStoreReconnectsAndItsWatcherHearsAgain) {
  OwnServer server;
  ASSERT_TRUE(server.started()) << "scripts/start-postgres.sh failed";
  auto store = testing::open_store(server.url());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->insert_tenant(testing::tenant("tn_a"), testing::api_key("ak_a", "tn_a")));
  Watcher watcher;
  ASSERT_TRUE(store->watch_catalog(watcher.callback()));
  ASSERT_TRUE(watcher.await_more_than(0, 5s));
  int heard = watcher.calls();

  // Restarted while the store was idle: its connections were closed by the server, which the
  // pool sees before lending one, so not even the first call after fails.
  ASSERT_TRUE(server.stop());
  ASSERT_TRUE(server.start_again());
  for (int i = 0; i < 5; ++i) {
    Status s = store->ping();
    ASSERT_TRUE(s.ok()) << i << ": " << s.error().message;
  }
  auto catalog = store->load_catalog();
  ASSERT_TRUE(catalog) << catalog.error().message;
  ASSERT_EQ(catalog->tenants.size(), 1u);
  // The listener reconnects (calling back: what it missed) and hears new writes.
  ASSERT_TRUE(watcher.await_more_than(heard, 10s)) << "the listener never reconnected";
  heard = watcher.calls();
  ASSERT_TRUE(store->insert_api_key(testing::api_key("ak_b", "tn_a")));
  EXPECT_TRUE(watcher.await_more_than(heard, 1s));

  // Down: a call fails as unavailable, promptly (a refused connection), and never crashes.
  ASSERT_TRUE(server.stop());
  for (int i = 0; i < 3; ++i) {
    auto started = std::chrono::steady_clock::now();
    Status s = store->ping();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().kind, ErrorKind::kUnavailable) << s.error().message;
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  }
  heard = watcher.calls();
  ASSERT_TRUE(server.start_again());
  // Back: calls succeed again (polled: the server may still be finishing its start), and the
  // data is there.
  ASSERT_TRUE(succeeds_within(10s, [&] { return store->ping().ok(); }));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store->ping()) << i;
  auto keys = store->load_catalog();
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_EQ(keys->api_keys.size(), 2u);
  ASSERT_TRUE(watcher.await_more_than(heard, 10s)) << "the listener never reconnected";
}

}  // namespace
}  // namespace sealhook
