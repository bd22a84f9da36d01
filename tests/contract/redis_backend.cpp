#include "contract/redis_backend.hpp"

#include "queue/redis/redis_connection.hpp"
#include "queue/redis/redis_queue.hpp"
#include "test_redis_url.hpp"

namespace sealhook::contract {
namespace {

Result<std::string> test_redis_url() {
  if (std::string url = testing::test_redis_url(); !url.empty()) return url;
  return make_error(ErrorKind::kUnavailable, "no_redis",
                    "no test redis-server: run through ctest (fixture `redis`), or set "
                    "SEALHOOK_TEST_REDIS=redis://127.0.0.1:PORT/0 (scripts/start-redis.sh)");
}

std::string key_prefix_for(const std::string& dir) {
  return shared_name_for(dir, "sealhook-test", ":") + ":";
}

Result<RedisAddress> test_address() {
  auto url = test_redis_url();
  if (!url) return url.error();
  return parse_redis_url(url.value());
}

}  // namespace

QueueBackend redis_backend() {
  QueueBackend b;
  b.name = "redis";
  b.durable = true;
  b.open = [](const QueueOptions& o, const Clock& c,
              const std::string& dir) -> Result<std::unique_ptr<Queue>> {
    auto address = test_address();
    if (!address) return address.error();
    RedisQueueOptions ro;
    ro.queue = o;
    ro.address = address.value();
    ro.prefix = key_prefix_for(dir);
    ro.owner = "contract";  // the same process name on every reopen, as a restart would be
    auto q = RedisQueue::open(ro, c);
    if (!q) return q.error();
    return std::unique_ptr<Queue>(std::move(q.value()));
  };
  b.cleanup = [](const std::string& dir) {
    auto address = test_address();
    if (!address) return;
    RedisConnectionOptions co;
    co.address = address.value();
    RedisConnection conn(co);
    conn.start();
    if (!conn.await_up(std::chrono::seconds(5))) return;
    auto done = conn.call({"EVAL",
                           "for _, k in ipairs(redis.call('KEYS', ARGV[1] .. '*')) do "
                           "redis.call('DEL', k) end return 0",
                           "0", key_prefix_for(dir)});
    EXPECT_TRUE(done.ok() && !done->is_error()) << "could not delete the test's keys";
  };
  return b;
}

}  // namespace sealhook::contract
