// Every serve option in its TOML form. The table is walked against the options serve
// registers: an option without a case here fails EveryOptionHasATomlCase.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>

#include "app/config.hpp"
#include "config_test_util.hpp"

namespace sealhook::app {
namespace {

using testing::parse;
using testing::ScratchDir;
using testing::settable_options;

using ServeCase = testing::TomlCase<ServeConfig>;

// Keys spelled with '-' and with '_' (both are taken), values of every TOML type serve uses.
const std::map<std::string, ServeCase>& serve_cases() {
  static const std::map<std::string, ServeCase> cases{
      {"listen", {"listen = 18110", [](auto& c) { return c.listen == "18110"; }}},
      {"queue", {R"(queue = "memory")", [](auto& c) { return c.queue == "memory"; }}},
      {"queue-path", {R"(queue_path = "/q.db")", [](auto& c) { return c.queue_path == "/q.db"; }}},
      {"queue-sync", {R"(queue-sync = "full")", [](auto& c) { return c.queue_sync == "full"; }}},
      {"queue-round-us", {"queue-round-us = 0", [](auto& c) { return c.queue_round_us == 0; }}},
      {"redis",
       {R"(redis = "redis://127.0.0.1:6390/2")",
        [](auto& c) { return c.redis == "redis://127.0.0.1:6390/2"; }}},
      {"redis-owner",
       {R"(redis_owner = "node-a")", [](auto& c) { return c.redis_owner == "node-a"; }}},
      {"catalog-check-ms",
       {"catalog_check_ms = 250", [](auto& c) { return c.catalog_check_ms == 250; }}},
      {"redis-timeout-ms",
       {R"(redis_timeout_ms = 250)", [](auto& c) { return c.redis_timeout_ms == 250; }}},
      {"kafka-brokers",
       {R"(kafka_brokers = "127.0.0.1:9092,127.0.0.1:9093")",
        [](auto& c) { return c.kafka_brokers == "127.0.0.1:9092,127.0.0.1:9093"; }}},
      {"kafka-topic-prefix",
       {R"(kafka-topic-prefix = "hooks")",
        [](auto& c) { return c.kafka_topic_prefix == "hooks"; }}},
      {"kafka-group",
       {R"(kafka_group = "fleet")", [](auto& c) { return c.kafka_group == "fleet"; }}},
      {"kafka-partitions",
       {"kafka_partitions = 24", [](auto& c) { return c.kafka_partitions == 24; }}},
      {"kafka-timeout-ms",
       {"kafka-timeout-ms = 2500", [](auto& c) { return c.kafka_timeout_ms == 2500; }}},
      {"kafka-session-timeout-ms",
       {"kafka_session_timeout_ms = 7000",
        [](auto& c) { return c.kafka_session_timeout_ms == 7000; }}},
      {"kafka-batch-ms", {"kafka_batch_ms = 12", [](auto& c) { return c.kafka_batch_ms == 12; }}},
      {"kafka-ack-record-ms",
       {"kafka_ack_record_ms = 250", [](auto& c) { return c.kafka_ack_record_ms == 250; }}},
      {"kafka-held-per-partition",
       {"kafka_held_per_partition = 500",
        [](auto& c) { return c.kafka_held_per_partition == 500u; }}},
      {"queue-max-bytes",
       {"queue-max-bytes = 4_294_967_296",
        [](auto& c) { return c.queue_max_bytes == 4'294'967'296u; }}},
      {"store", {R"(store = "sqlite:/s")", [](auto& c) { return c.store == "sqlite:/s"; }}},
      {"admin-token",
       {R"(admin_token = "0123456789abcdef0")",
        [](auto& c) { return c.admin_token == "0123456789abcdef0"; }}},
      {"allow-private-networks",
       {"allow-private-networks = true", [](auto& c) { return c.allow_private_networks; }}},
      {"allow-networks",
       {R"(allow_networks = ["10.1.0.0/16", "fd00:1::/64"])",
        [](auto& c) { return c.allow_networks == "10.1.0.0/16,fd00:1::/64"; }}},
      {"ca-file", {R"(ca_file = "/ca.pem")", [](auto& c) { return c.ca_file == "/ca.pem"; }}},
      {"secret-rotation-grace-s",
       {"secret-rotation-grace-s = 600", [](auto& c) { return c.secret_rotation_grace_s == 600; }}},
      {"registration-lookups",
       {"registration-lookups = 3", [](auto& c) { return c.registration_lookups == 3; }}},
      {"registration-lookup-timeout-ms",
       {"registration_lookup_timeout_ms = 250",
        [](auto& c) { return c.registration_lookup_timeout_ms == 250; }}},
      {"max-payload-bytes",
       {"max-payload-bytes = 2048", [](auto& c) { return c.max_payload_bytes == 2048; }}},
      {"max-publish-bytes",
       {"max_publish_bytes = 1_048_576", [](auto& c) { return c.max_publish_bytes == 1'048'576; }}},
      {"queue-capacity", {"queue-capacity = 77", [](auto& c) { return c.queue_capacity == 77; }}},
      {"max-inflight", {"max_inflight = 12", [](auto& c) { return c.max_inflight == 12; }}},
      {"max-inflight-per-endpoint",
       {"max-inflight-per-endpoint = 5", [](auto& c) { return c.max_inflight_per_endpoint == 5; }}},
      {"max-inflight-per-tenant",
       {"max_inflight_per_tenant = 9", [](auto& c) { return c.max_inflight_per_tenant == 9; }}},
      {"attempt-timeout-ms",
       {"attempt-timeout-ms = 1500", [](auto& c) { return c.attempt_timeout_ms == 1500; }}},
      {"retry-base-ms", {"retry_base_ms = 50", [](auto& c) { return c.retry_base_ms == 50; }}},
      {"retry-max-delay-ms",
       {"retry-max-delay-ms = 400", [](auto& c) { return c.retry_max_delay_ms == 400; }}},
      {"retry-jitter", {"retry_jitter = 0.05", [](auto& c) { return c.retry_jitter == 0.05; }}},
      {"max-attempts", {"max-attempts = 3", [](auto& c) { return c.max_attempts == 3; }}},
      {"disable-after",
       {"disable-after = \"90m\"", [](auto& c) { return c.disable_after == "90m"; }}},
      {"disable-min-attempts",
       {"disable-min-attempts = 3", [](auto& c) { return c.disable_min_attempts == 3; }}},
      {"system-tenant",
       {"system-tenant = \"tn_sys\"", [](auto& c) { return c.system_tenant == "tn_sys"; }}},
      {"adaptive-concurrency",
       {"adaptive-concurrency = false", [](auto& c) { return !c.adaptive_concurrency; }}},
      {"concurrency-fast-ms",
       {"concurrency-fast-ms = 250", [](auto& c) { return c.concurrency_fast_ms == 250; }}},
      {"concurrency-max-wait-ms",
       {"concurrency-max-wait-ms = 400", [](auto& c) { return c.concurrency_max_wait_ms == 400; }}},
      {"disabled-recheck-ms",
       {"disabled-recheck-ms = 500", [](auto& c) { return c.disabled_recheck_ms == 500; }}},
      {"drain-timeout-ms",
       {"drain_timeout_ms = 0", [](auto& c) { return c.drain_timeout_ms == 0; }}},
      {"reconcile-after-ms",
       {"reconcile_after_ms = 5000", [](auto& c) { return c.reconcile_after_ms == 5'000; }}},
      {"journal-linger-waited-ms",
       {"journal-linger-waited-ms = 3", [](auto& c) { return c.journal_linger_waited_ms == 3; }}},
      {"journal-linger-ms",
       {"journal-linger-ms = 7", [](auto& c) { return c.journal_linger_ms == 7; }}},
      {"journal-settle-ms",
       {"journal_settle_ms = 60000", [](auto& c) { return c.journal_settle_ms == 60'000; }}},
      {"max-endpoints-per-tenant",
       {"max-endpoints-per-tenant = 4", [](auto& c) { return c.max_endpoints_per_tenant == 4; }}},
      {"max-tenants", {"max_tenants = 10", [](auto& c) { return c.max_tenants == 10; }}},
      {"max-connections",
       {"max-connections = 99", [](auto& c) { return c.max_connections == 99; }}},
      {"max-connections-per-client",
       {"max_connections_per_client = 2",
        [](auto& c) { return c.max_connections_per_client == 2; }}},
      {"max-request-memory-bytes",
       {"max-request-memory-bytes = 0x4000000",
        [](auto& c) { return c.max_request_memory_bytes == 0x4000000; }}},
      {"header-timeout-ms",
       {"header_timeout_ms = 111", [](auto& c) { return c.header_timeout_ms == 111; }}},
      {"body-timeout-ms",
       {"body-timeout-ms = 222", [](auto& c) { return c.body_timeout_ms == 222; }}},
      {"idle-timeout-ms",
       {"idle_timeout_ms = 333", [](auto& c) { return c.idle_timeout_ms == 333; }}},
      {"max-response-bytes",
       {"max-response-bytes = 0", [](auto& c) { return c.max_response_bytes == 0; }}},
      {"io-threads", {"io_threads = 3", [](auto& c) { return c.io_threads == 3; }}},
      {"api-threads", {"api-threads = 7", [](auto& c) { return c.api_threads == 7; }}},
      {"tenant-read-rate",
       {"tenant-read-rate = 2.5", [](auto& c) { return c.tenant_read_rate == 2.5; }}},
      {"tenant-read-burst",
       {"tenant-read-burst = 9", [](auto& c) { return c.tenant_read_burst == 9; }}},
      {"trace-queue-size",
       {"trace-queue-size = 9", [](auto& c) { return c.trace_queue_size == 9; }}},
      {"trace-batch-size",
       {"trace_batch_size = 8", [](auto& c) { return c.trace_batch_size == 8; }}},
      {"trace-batch-delay-ms",
       {"trace-batch-delay-ms = 7", [](auto& c) { return c.trace_batch_delay_ms == 7; }}},
      {"trace-export-timeout-ms",
       {"trace-export-timeout-ms = 6", [](auto& c) { return c.trace_export_timeout_ms == 6; }}},
      {"log-level", {R"(log_level = "debug")", [](auto& c) { return c.log_level == "debug"; }}},
      {"log-format", {R"(log-format = "json")", [](auto& c) { return c.log_format == "json"; }}},
      {"log-queue-size", {"log_queue_size = 64", [](auto& c) { return c.log_queue_size == 64; }}},
      {"metrics-refresh-ms",
       {"metrics_refresh_ms = 250", [](auto& c) { return c.metrics_refresh_ms == 250; }}},
      {"metrics-type-classes",
       {"metrics-type-classes = 3", [](auto& c) { return c.metrics_type_classes == 3; }}},
  };
  return cases;
}

TEST(ServeToml, EveryOptionHasATomlCase) {
  CLI::App cmd;
  ServeConfig cfg;
  add_serve_options(cmd, cfg);
  const auto names = settable_options(cmd);
  for (const auto& name : names)
    EXPECT_TRUE(serve_cases().contains(name)) << "--" << name << " has no TOML case";
  EXPECT_EQ(names.size(), serve_cases().size()) << "a case names no option";
}

TEST(ServeToml, EveryOptionTakesItsTomlForm) {
  ScratchDir dir;
  for (const auto& [name, c] : serve_cases()) {
    CLI::App cmd;
    ServeConfig cfg;
    add_serve_options(cmd, cfg);
    parse(cmd);
    const ServeConfig defaults = cfg;
    ASSERT_FALSE(c.took(defaults)) << name << ": the case must differ from the default";
    auto st = apply_config_file(cmd, dir.write(name + ".toml", c.toml + "\n"));
    ASSERT_TRUE(st.ok()) << c.toml << ": " << st.error().message;
    EXPECT_TRUE(c.took(cfg)) << c.toml;
  }
}

TEST(ServeToml, AllCasesInOneFileLoadTogether) {
  ScratchDir dir;
  std::string all;
  for (const auto& [name, c] : serve_cases()) all += c.toml + "\n";
  CLI::App cmd;
  ServeConfig cfg;
  add_serve_options(cmd, cfg);
  parse(cmd);
  auto st = apply_config_file(cmd, dir.write("all.toml", all));
  ASSERT_TRUE(st.ok()) << st.error().message;
  for (const auto& [name, c] : serve_cases()) EXPECT_TRUE(c.took(cfg)) << c.toml;
}

TEST(DurationOption, TakesAWholeNumberAndOneUnitWithinItsBounds) {
  EXPECT_EQ(parse_duration_ms("5d"), 5LL * 86'400'000);
  EXPECT_EQ(parse_duration_ms("90m"), 90LL * 60'000);
  EXPECT_EQ(parse_duration_ms("2h"), 2LL * 3'600'000);
  EXPECT_EQ(parse_duration_ms("30s"), 30'000);
  EXPECT_EQ(parse_duration_ms("1500ms"), 1500);
  EXPECT_EQ(parse_duration_ms("365d"), 365LL * 86'400'000);
  for (const char* bad :
       {"", "5", "d", "5 d", "5days", "-5d", "1.5h", "999ms", "366d", "99999999999999d", "5D"})
    EXPECT_FALSE(parse_duration_ms(bad).has_value()) << bad;
}

}  // namespace
}  // namespace sealhook::app
