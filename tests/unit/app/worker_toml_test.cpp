// `worker` options: serve's minus the API's (kServeOnly), plus --metrics-listen, through the
// same TOML file handling; what a worker refuses to run with; the default queue owner names.
#include <gtest/gtest.h>

#include <unistd.h>

#include <set>
#include <string>

#include "app/config.hpp"
#include "app/node.hpp"
#include "config_test_util.hpp"

namespace sealhook::app {
namespace {

using testing::parse;
using testing::ScratchDir;
using testing::settable_options;

std::set<std::string> option_names(bool worker) {
  CLI::App cmd;
  ServeConfig cfg;
  if (worker)
    add_worker_options(cmd, cfg);
  else
    add_serve_options(cmd, cfg);
  auto names = settable_options(cmd);
  return {names.begin(), names.end()};
}

TEST(WorkerOptions, AreServesMinusTheApiOnesPlusMetricsListen) {
  std::set<std::string> expected = option_names(false);
  for (const char* name : kServeOnly)
    EXPECT_EQ(expected.erase(name), 1u) << name << " in kServeOnly is no serve option";
  expected.insert("metrics-listen");
  EXPECT_EQ(option_names(true), expected);
  EXPECT_FALSE(option_names(false).contains("metrics-listen"));
}

TEST(WorkerOptions, DefaultToTheRedisQueueAndTheLoopbackMetricsAddress) {
  CLI::App cmd;
  ServeConfig cfg;
  add_worker_options(cmd, cfg);
  parse(cmd);
  EXPECT_EQ(cfg.queue, "redis");
  EXPECT_EQ(cfg.metrics_listen, "127.0.0.1:4243");
  EXPECT_EQ(cfg.reconcile_after_ms, 60'000);
  EXPECT_TRUE(cfg.worker);
}

TEST(WorkerToml, TakesItsOptionsFromTheFile) {
  ScratchDir dir;
  CLI::App cmd;
  ServeConfig cfg;
  add_worker_options(cmd, cfg);
  parse(cmd, {"--max-attempts", "4"});
  auto st = apply_config_file(cmd, dir.write("w.toml",
                                             "metrics_listen = \"127.0.0.1:9100\"\n"
                                             "reconcile-after-ms = 5000\n"
                                             "redis = \"redis://127.0.0.1:6390/1\"\n"
                                             "max-attempts = 9\n"
                                             "drain_timeout_ms = 250\n"));
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(cfg.metrics_listen, "127.0.0.1:9100");
  EXPECT_EQ(cfg.reconcile_after_ms, 5'000);
  EXPECT_EQ(cfg.redis, "redis://127.0.0.1:6390/1");
  EXPECT_EQ(cfg.max_attempts, 4) << "a flag wins over the file";
  EXPECT_EQ(cfg.drain_timeout_ms, 250);
  EXPECT_TRUE(validate_worker(cfg).ok());
}

TEST(WorkerToml, RefusesTheApisOptions) {
  ScratchDir dir;
  for (const char* line :
       {"listen = 4242", "admin_token = \"0123456789abcdef0\"", "max-payload-bytes = 2048"}) {
    CLI::App cmd;
    ServeConfig cfg;
    add_worker_options(cmd, cfg);
    parse(cmd);
    auto st = apply_config_file(cmd, dir.write("w.toml", std::string(line) + "\n"));
    ASSERT_FALSE(st.ok()) << line;
    EXPECT_NE(st.error().message.find("unknown option"), std::string::npos) << st.error().message;
  }
}

ServeConfig worker_config(const std::string& queue, const std::string& store) {
  ServeConfig c;
  c.worker = true;
  c.queue = queue;
  c.redis = "redis://127.0.0.1:6390/0";
  c.store = store;
  return c;
}

TEST(WorkerConfig, RefusesQueuesAndStoresItCannotShare) {
  for (const char* queue : {"memory", "sqlite"}) {
    auto st = validate_worker(worker_config(queue, "sqlite:/tmp/s.db"));
    ASSERT_FALSE(st.ok()) << queue;
    EXPECT_NE(st.error().message.find(std::string("--queue ") + queue), std::string::npos)
        << st.error().message;
  }
  auto st = validate_worker(worker_config("redis", "sqlite::memory:"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("sqlite::memory:"), std::string::npos);
  EXPECT_TRUE(validate_worker(worker_config("redis", "sqlite:/tmp/s.db")).ok());
  ServeConfig no_url = worker_config("redis", "sqlite:/tmp/s.db");
  no_url.redis.clear();
  EXPECT_FALSE(validate_worker(no_url).ok());
  ServeConfig kafka = worker_config("kafka", "sqlite:/tmp/s.db");
  EXPECT_FALSE(validate_worker(kafka).ok());  // no --kafka-brokers
  kafka.kafka_brokers = "127.0.0.1:9092";
  EXPECT_TRUE(validate_worker(kafka).ok());
}

TEST(WorkerConfig, DefaultOwnersNameTheRoleAndNeverRepeatForPortZero) {
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  ServeConfig serve;
  serve.listen = "127.0.0.1:4242";
  EXPECT_EQ(redis_owner(serve), std::string(host) + "/serve/127.0.0.1:4242");
  ServeConfig worker = serve;
  worker.worker = true;
  worker.metrics_listen = "127.0.0.1:4243";
  EXPECT_EQ(redis_owner(worker), std::string(host) + "/worker/127.0.0.1:4243");
  worker.metrics_listen = "127.0.0.1:0";
  EXPECT_EQ(redis_owner(worker), std::string(host) + "/worker/pid-" + std::to_string(::getpid()));
  serve.listen = "0";
  EXPECT_EQ(redis_owner(serve), std::string(host) + "/serve/pid-" + std::to_string(::getpid()));
  serve.redis_owner = "node-a";
  EXPECT_EQ(redis_owner(serve), "node-a");
}

}  // namespace
}  // namespace sealhook::app
