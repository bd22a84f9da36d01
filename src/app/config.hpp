#pragma once
// `serve` options. Precedence: flags, then SEALHOOK_* environment variables, then the TOML
// file given by --config (or SEALHOOK_CONFIG; see config_file.hpp), then these defaults.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "app/config_file.hpp"  // apply_config_file(), apply_config_option()
#include "core/result.hpp"

namespace sealhook::app {

// What a request may carry around its payload (the JSON envelope of a publish).
inline constexpr size_t kEnvelopeBytes = 64 * 1024;

struct ServeConfig {
  std::string listen = "0.0.0.0:4242";
  std::string queue = "sqlite";
  std::string queue_path;             // sqlite queue file; "" = queue.db beside the store
  std::string queue_sync = "normal";  // normal: survives a crash; full: also power loss
  int64_t queue_round_us = 500;       // sqlite queue: least time between group commits under load
  std::string redis;                  // the redis queue: redis://HOST:PORT/DB
  std::string redis_owner;            // this process in the redis queue; "" = see redis_owner()
  int64_t catalog_check_ms = 500;     // how often the store's catalog version is checked
  int redis_timeout_ms = 500;         // the redis queue's connect and per-call timeout
  std::string kafka_brokers;          // the kafka queue: HOST:PORT[,...]
  std::string kafka_topic_prefix = "sealhook";  // <prefix>.deliveries, .state, .orderings, .dead
  std::string kafka_group;                      // the consumer group; "" = <prefix>.workers
  int kafka_partitions = 12;                    // of each topic the queue makes
  int kafka_timeout_ms = 5'000;                 // a push, a write, topic creation, an offset query
  int kafka_session_timeout_ms = 10'000;        // a silent member leaves the group after it
  size_t kafka_held_per_partition = 2'000;      // consumed and not done, per partition
  int kafka_batch_ms = 3;           // produce linger and fetch wait: records gathered per request
  int kafka_ack_record_ms = 1'000;  // an ack still past its partition's commit point: recorded
  std::string store = "sqlite:./sealhook-data";
  std::string admin_token;  // generated and printed once when empty
  bool allow_private_networks = false;
  std::string allow_networks;  // "CIDR,CIDR": allowed even if special-purpose
  std::string ca_file;         // PEM CA certificates for HTTPS endpoints, beside the system's
  size_t registration_lookups = 8;
  int64_t registration_lookup_timeout_ms = 5'000;
  size_t max_payload_bytes = 1024 * 1024;
  size_t max_publish_bytes = size_t{256} << 20;
  size_t queue_capacity = 100'000;
  size_t queue_max_bytes = size_t{2} << 30;
  size_t max_inflight = 1024;
  int max_inflight_per_endpoint = 64;
  int max_inflight_per_tenant = 0;  // 0: a quarter of max_inflight
  // Adaptive concurrency per unordered endpoint, between 1 and max_inflight_per_endpoint.
  bool adaptive_concurrency = true;
  int64_t concurrency_fast_ms = 1'000;  // a 2xx within this grows an endpoint's limit
  int64_t concurrency_max_wait_ms =
      1'000;  // a delivery over its endpoint's limit waits at most this
  int64_t attempt_timeout_ms = 30'000;
  int64_t retry_base_ms = 1'000;
  int64_t retry_max_delay_ms = 3'600'000;
  double retry_jitter = 0.2;
  int max_attempts = 6;
  int64_t disabled_recheck_ms = 30'000;  // a disabled endpoint's due deliveries: back this long
  // An endpoint whose every attempt failed this long ("5d": ms, s, m, h or d), with at least
  // disable_min_attempts failed attempts, is disabled (the endpoint may override both).
  std::string disable_after = "5d";
  int disable_min_attempts = 10;
  std::string system_tenant;  // receives sealhook.endpoint.disabled events; "" for none
  int64_t secret_rotation_grace_s = 24 * 3600;
  int64_t drain_timeout_ms = 10'000;
  int64_t reconcile_after_ms = 60'000;  // shared queue: pending records unchanged this long
  int64_t journal_linger_ms = 20;
  int64_t journal_linger_waited_ms = 2;  // a batch something waits for (kafka acks, dead letters)
  int64_t journal_settle_ms = 5'000;
  size_t max_endpoints_per_tenant = 100;
  size_t max_tenants = 100'000;
  size_t max_connections = 10'000;
  size_t max_connections_per_client = 256;
  size_t max_request_memory_bytes = size_t{256} << 20;
  int64_t header_timeout_ms = 10'000;
  int64_t body_timeout_ms = 30'000;
  int64_t idle_timeout_ms = 75'000;
  size_t max_response_bytes = 64 * 1024;
  int io_threads = 2;
  int api_threads = 32;  // API handlers that may block (store, durable push), off the io threads
  double tenant_read_rate = 100;   // GET /v1/deliveries[/{id}] per tenant per second; 0: no limit
  double tenant_read_burst = 200;  // of them at once after a pause
  // Traces (OTLP/HTTP JSON, on when OTEL_EXPORTER_OTLP_ENDPOINT is set): the exporter's bounds.
  size_t trace_queue_size = 2048;
  size_t trace_batch_size = 512;
  int64_t trace_batch_delay_ms = 5'000;
  int64_t trace_export_timeout_ms = 10'000;
  std::string log_level = "info";
  std::string log_format = "text";      // text | json
  size_t log_queue_size = 8192;         // lines waiting for the log's writer thread
  int64_t metrics_refresh_ms = 15'000;  // how often /metrics's store gauges are counted
  size_t metrics_type_classes = 20;     // event type classes with their own label value
  std::string config_file;
  // `worker` only.
  std::string metrics_listen = "127.0.0.1:4243";  // /healthz, /readyz, /metrics
  bool worker = false;                            // set by the command, not an option
};

// The serve options a worker does not take: they are the API's (its listener, its
// connections, its requests, the catalog's registration rules, publishing).
inline constexpr const char* kServeOnly[] = {
    "listen",
    "admin-token",
    "max-connections",
    "max-connections-per-client",
    "max-request-memory-bytes",
    "header-timeout-ms",
    "body-timeout-ms",
    "idle-timeout-ms",
    "max-payload-bytes",
    "max-publish-bytes",
    "registration-lookups",
    "registration-lookup-timeout-ms",
    "max-tenants",
    "max-endpoints-per-tenant",
    "secret-rotation-grace-s",
    "api-threads",
    "tenant-read-rate",
    "tenant-read-burst",
    "queue-path",
    "queue-sync",
    "queue-round-us",
};

// Registers every serve option on `cmd` (flag names as in PRODUCT.md §2, each with an
// environment variable SEALHOOK_<NAME>).
void add_serve_options(CLI::App& cmd, ServeConfig& cfg);
// The worker's: serve's minus kServeOnly, plus --metrics-listen; --queue defaults to redis.
void add_worker_options(CLI::App& cmd, ServeConfig& cfg);
// Cross-field checks after parsing.
Status validate(const ServeConfig& cfg);
// "5d", "90m", "30s", "1500ms" in milliseconds: a whole number and one unit, 1 s to 365 d.
std::optional<int64_t> parse_duration_ms(std::string_view text);
// validate(), and what a worker cannot run with: a queue other processes cannot share
// (memory, sqlite), a store in this process's memory.
Status validate_worker(const ServeConfig& cfg);

}  // namespace sealhook::app
