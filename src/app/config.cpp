#include "app/config.hpp"

#include "app/cli_option.hpp"
#include "delivery/address_ranges.hpp"
#include "queue/redis/redis_url.hpp"

namespace sealhook::app {
namespace {

template <class T>
CLI::Option* opt(CLI::App& cmd, const std::string& name, T& var, const std::string& help) {
  return env_option(cmd, "SEALHOOK_", name, var, help);
}

}  // namespace

void add_serve_options(CLI::App& cmd, ServeConfig& c) {
  cmd.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // last flag wins
  opt(cmd, "config", c.config_file, "TOML file with any of these options (keys as flag names)");
  opt(cmd, "listen", c.listen, "address:port of the HTTP API");
  opt(cmd, "queue", c.queue,
      "delivery queue: sqlite (durable, embedded) | memory (volatile, fastest) | redis (durable, "
      "shared by many processes; --redis) | kafka (durable, partitioned by endpoint, a consumer "
      "group of workers; --kafka-brokers)")
      ->check(CLI::IsMember({"sqlite", "memory", "redis", "kafka"}));
  opt(cmd, "queue-path", c.queue_path, "sqlite queue file (default: queue.db beside the store)");
  opt(cmd, "queue-sync", c.queue_sync,
      "sqlite queue durability: normal (survives a crash) | full (also a power loss)")
      ->check(CLI::IsMember({"normal", "full"}));
  opt(cmd, "queue-round-us", c.queue_round_us,
      "sqlite queue: under a steady load, the least time between two group commits (0: back to "
      "back); a longer one writes fewer, bigger commits, less CPU and disk per delivery, and "
      "adds up to it to a publish's answer")
      ->check(CLI::Range(int64_t{0}, int64_t{100'000}));
  opt(cmd, "redis", c.redis, "the redis queue's server: redis://HOST:PORT/DB");
  opt(cmd, "redis-owner", c.redis_owner,
      "names this process in the redis queue, the same across its restarts: a restart gives "
      "back at once what its last run held (default HOST/serve/LISTEN, "
      "HOST/worker/METRICS_LISTEN; with port 0 a pid-based name)");
  opt(cmd, "catalog-check-ms", c.catalog_check_ms,
      "how often the store is checked for catalog changes made by other processes (with "
      "--queue redis a nudge brings them at once)")
      ->check(CLI::Range(int64_t{10}, int64_t{60'000}));
  opt(cmd, "redis-timeout-ms", c.redis_timeout_ms,
      "the redis queue's connect and per-call timeout: a hung Redis fails calls (publish 503) "
      "within it")
      ->check(CLI::Range(10, 60'000));
  opt(cmd, "kafka-brokers", c.kafka_brokers, "the kafka queue's brokers: HOST:PORT[,...]");
  opt(cmd, "kafka-topic-prefix", c.kafka_topic_prefix,
      "the kafka queue's topics: PREFIX.deliveries, .state, .orderings and .dead (made when "
      "missing)");
  opt(cmd, "kafka-group", c.kafka_group,
      "the kafka queue's consumer group, shared by serve and its workers (default "
      "PREFIX.workers)");
  opt(cmd, "kafka-partitions", c.kafka_partitions,
      "partitions of each topic the kafka queue makes (an endpoint's deliveries all go to one)")
      ->check(CLI::Range(1, 10'000));
  opt(cmd, "kafka-timeout-ms", c.kafka_timeout_ms,
      "the kafka queue's bound on a push (publish answers 503 past it), a write and an offset "
      "query")
      ->check(CLI::Range(100, 300'000));
  opt(cmd, "kafka-session-timeout-ms", c.kafka_session_timeout_ms,
      "a process silent this long (killed, hung) leaves the consumer group and its partitions "
      "go to the others (the broker's group.min.session.timeout.ms, 6000 by default, bounds it)")
      ->check(CLI::Range(1'000, 1'800'000));
  opt(cmd, "kafka-batch-ms", c.kafka_batch_ms,
      "how long the kafka queue's client gathers records into one produce request, and a fetch "
      "waits for more records (fewer, larger requests: less CPU, a few ms more latency)")
      ->check(CLI::Range(0, 1'000));
  opt(cmd, "kafka-ack-record-ms", c.kafka_ack_record_ms,
      "a delivery acked while one before it in its partition is not done yet is recorded as "
      "done after this long (a killed process's successor skips it); sooner, the commit point "
      "usually passes it and nothing is written")
      ->check(CLI::Range(0, 600'000));
  opt(cmd, "kafka-held-per-partition", c.kafka_held_per_partition,
      "deliveries consumed and not yet done per partition (waiting behind an ordered head, in "
      "retry, in flight): past it the partition is paused, not dropped")
      ->check(CLI::Range(size_t{1}, size_t{10'000'000}));
  opt(cmd, "store", c.store,
      "sqlite:PATH (a directory or a .db file) | postgres://USER@HOST:PORT/DB (a libpq URI, "
      "shared by every node; ?pool_size=N&pool_wait_ms=MS bound its connections)");
  opt(cmd, "admin-token", c.admin_token, "admin token; generated and printed once if unset");
  env_flag(cmd, "SEALHOOK_", "allow-private-networks", c.allow_private_networks,
           "allow endpoints on loopback/private/link-local addresses (local demos, tests)");
  opt(cmd, "allow-networks", c.allow_networks,
      "comma-separated networks (e.g. 10.1.0.0/16,fd00:1::/64) whose addresses endpoints may "
      "have although loopback, private or otherwise special-purpose; may be repeated (in TOML: "
      "an array)")
      ->delimiter(',')
      ->multi_option_policy(CLI::MultiOptionPolicy::Join);
  opt(cmd, "ca-file", c.ca_file,
      "PEM file of CA certificates that HTTPS endpoints may chain to (a private CA), trusted "
      "in addition to the system store");
  opt(cmd, "registration-lookups", c.registration_lookups,
      "host-name lookups at once for endpoint registration; beyond it, 503 with Retry-After")
      ->check(CLI::Range(size_t{1}, size_t{1'024}));
  opt(cmd, "registration-lookup-timeout-ms", c.registration_lookup_timeout_ms,
      "how long endpoint registration waits for a host-name lookup before 422")
      ->check(CLI::Range(int64_t{1}, int64_t{60'000}));
  opt(cmd, "max-payload-bytes", c.max_payload_bytes, "largest accepted event payload")
      ->check(CLI::Range(size_t{1}, size_t{64} << 20));
  opt(cmd, "max-publish-bytes", c.max_publish_bytes,
      "ciphertext one publish may make, all its tenants together (413 beyond it)")
      ->check(CLI::Range(size_t{1024}, size_t{64} << 30));
  opt(cmd, "queue-capacity", c.queue_capacity, "deliveries the queue holds before 503")
      ->check(CLI::Range(size_t{1}, size_t{100'000'000}));
  opt(cmd, "queue-max-bytes", c.queue_max_bytes,
      "ciphertext the queue holds before 503, each body once (at least --max-publish-bytes)")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 50));
  opt(cmd, "max-inflight", c.max_inflight, "delivery attempts in flight at once")
      ->check(CLI::Range(size_t{1}, size_t{100'000}));
  opt(cmd, "max-inflight-per-endpoint", c.max_inflight_per_endpoint,
      "concurrent attempts per unordered endpoint (at most its equal part of its tenant's)")
      ->check(CLI::Range(1, 1000));
  opt(cmd, "max-inflight-per-tenant", c.max_inflight_per_tenant,
      "attempts in flight at once for one tenant, so that a tenant whose endpoints hang cannot "
      "hold every slot (0: a quarter of --max-inflight; with a shared queue, of its default, "
      "so that every process applies the same cap)")
      ->check(CLI::Range(0, 100'000));
  env_flag(cmd, "SEALHOOK_", "adaptive-concurrency", c.adaptive_concurrency,
           "adapt each unordered endpoint's attempts in flight between 1 and "
           "--max-inflight-per-endpoint: halved on 429, 502, 503, 504 or a timeout (and held "
           "for a Retry-After), one more a round while it answers 2xx within "
           "--concurrency-fast-ms (on; --adaptive-concurrency=false turns it off)");
  opt(cmd, "concurrency-fast-ms", c.concurrency_fast_ms,
      "a 2xx answered within this grows its endpoint's concurrency limit; a slower one leaves it")
      ->check(CLI::Range(int64_t{1}, int64_t{600'000}));
  opt(cmd, "concurrency-max-wait-ms", c.concurrency_max_wait_ms,
      "a due delivery whose endpoint has its concurrency limit in flight goes back to the queue, "
      "its attempts unspent, until a slot is expected to be free (the endpoint's answer time "
      "over its limit, one after another): this long at most")
      ->check(CLI::Range(int64_t{1}, int64_t{60'000}));
  opt(cmd, "attempt-timeout-ms", c.attempt_timeout_ms, "deadline of one delivery attempt")
      ->check(CLI::Range(int64_t{1}, int64_t{600'000}));
  opt(cmd, "retry-base-ms", c.retry_base_ms, "backoff base: attempt n waits base*2^(n-1)")
      ->check(CLI::Range(int64_t{1}, int64_t{86'400'000}));
  opt(cmd, "retry-max-delay-ms", c.retry_max_delay_ms, "longest backoff")
      ->check(CLI::Range(int64_t{1}, int64_t{7 * 86'400'000LL}));
  opt(cmd, "retry-jitter", c.retry_jitter, "fraction of each backoff taken off at random")
      ->check(CLI::Range(0.0, 0.99));
  opt(cmd, "max-attempts", c.max_attempts, "default attempts per delivery before the DLQ")
      ->check(CLI::Range(1, 50));
  opt(cmd, "disabled-recheck-ms", c.disabled_recheck_ms,
      "a due delivery for a disabled endpoint goes back to the queue for this long, its attempts "
      "unspent (how soon an endpoint enabled again gets what waited)")
      ->check(CLI::Range(int64_t{10}, int64_t{3'600'000}));
  opt(cmd, "disable-after", c.disable_after,
      "an endpoint whose every attempt failed this long (and at least --disable-min-attempts "
      "of them) is disabled: a number and its unit, ms, s, m, h or d (\"5d\", \"90m\")");
  opt(cmd, "disable-min-attempts", c.disable_min_attempts,
      "failed attempts in a row, at least, before an endpoint failing for --disable-after is "
      "disabled")
      ->check(CLI::Range(1, 1'000'000));
  opt(cmd, "system-tenant", c.system_tenant,
      "the provider's own tenant: receives a sealhook.endpoint.disabled event (encrypted and "
      "signed like any) each time an endpoint is disabled, to the endpoints it subscribes with "
      "(\"\": none)");
  opt(cmd, "secret-rotation-grace-s", c.secret_rotation_grace_s,
      "after POST /v1/endpoints/{id}/secret/rotate, how long the old signing secret keeps "
      "signing beside the new one (a rotation may ask for 0 up to 7 days)")
      ->check(CLI::Range(int64_t{0}, int64_t{7 * 86'400}));
  opt(cmd, "drain-timeout-ms", c.drain_timeout_ms, "on SIGTERM, how long to keep delivering")
      ->check(CLI::Range(int64_t{0}, int64_t{3'600'000}));
  opt(cmd, "reconcile-after-ms", c.reconcile_after_ms,
      "shared queue (redis): pending store records no queue holds are settled once unchanged "
      "this long, checked this often (another process may be settling a newer one)")
      ->check(CLI::Range(int64_t{1'000}, int64_t{86'400'000}));
  opt(cmd, "journal-linger-ms", c.journal_linger_ms,
      "delivery history (what GET /v1/deliveries lists) is saved in batches: how long a batch "
      "waits for more before it is written. Longer means fewer disk writes; a crash loses at "
      "most this much of the history")
      ->check(CLI::Range(int64_t{0}, int64_t{1'000}));
  opt(cmd, "journal-linger-waited-ms", c.journal_linger_waited_ms,
      "the linger of a batch holding a record something waits for (the kafka queue acks a "
      "delivery only once its record is written; a dead letter): it holds a delivery slot")
      ->check(CLI::Range(int64_t{0}, int64_t{1'000}));
  opt(cmd, "journal-settle-ms", c.journal_settle_ms,
      "how long the history of a new delivery waits for the outcome of its first attempt, so "
      "that a delivery that succeeds at once is written once instead of twice")
      ->check(CLI::Range(int64_t{0}, int64_t{60'000}));
  opt(cmd, "max-endpoints-per-tenant", c.max_endpoints_per_tenant, "bound on endpoints per tenant")
      ->check(CLI::Range(size_t{1}, size_t{100'000}));
  opt(cmd, "max-tenants", c.max_tenants, "bound on tenants")
      ->check(CLI::Range(size_t{1}, size_t{10'000'000}));
  opt(cmd, "max-connections", c.max_connections, "open API connections at once")
      ->check(CLI::Range(size_t{1}, size_t{1'000'000}));
  opt(cmd, "max-connections-per-client", c.max_connections_per_client,
      "open API connections per client IP address; over it a new connection is answered 503 "
      "and closed (raise it behind a proxy that shares one address)")
      ->check(CLI::Range(size_t{1}, size_t{1'000'000}));
  opt(cmd, "max-request-memory-bytes", c.max_request_memory_bytes,
      "request bodies held in memory, all connections together; a body over what is left is "
      "answered 503 with Retry-After")
      ->check(CLI::Range(size_t{1}, size_t{1} << 40));
  opt(cmd, "header-timeout-ms", c.header_timeout_ms,
      "deadline for a request's header, from the connection (or its first byte)")
      ->check(CLI::Range(int64_t{1}, int64_t{600'000}));
  opt(cmd, "body-timeout-ms", c.body_timeout_ms,
      "deadline for a request's body after its header, and for writing each response")
      ->check(CLI::Range(int64_t{1}, int64_t{3'600'000}));
  opt(cmd, "idle-timeout-ms", c.idle_timeout_ms,
      "how long a keep-alive API connection may wait for its next request before it is closed")
      ->check(CLI::Range(int64_t{1}, int64_t{3'600'000}));
  opt(cmd, "max-response-bytes", c.max_response_bytes, "bytes read of an endpoint's answer")
      ->check(CLI::Range(size_t{0}, size_t{16} << 20));
  opt(cmd, "io-threads", c.io_threads, "threads running HTTP (API and deliveries)")
      ->check(CLI::Range(1, 256));
  opt(cmd, "api-threads", c.api_threads,
      "threads running API handlers that may block (store calls, durable pushes)")
      ->check(CLI::Range(1, 1024));
  opt(cmd, "tenant-read-rate", c.tenant_read_rate,
      "a tenant's delivery reads (GET /v1/deliveries, GET /v1/deliveries/{id}) per second; one "
      "over it is answered 429 rate_limited with Retry-After, before any store work. 0: no limit")
      ->check(CLI::Range(0.0, 1e6));
  opt(cmd, "tenant-read-burst", c.tenant_read_burst,
      "how many of a tenant's delivery reads may go at once after a pause (the bucket's size)")
      ->check(CLI::Range(1.0, 1e6));
  opt(cmd, "metrics-refresh-ms", c.metrics_refresh_ms,
      "how often the gauges that cost a store query or a walk of a local queue (sealhook_dlq_size, "
      "sealhook_lost_deliveries, sealhook_queue_scheduled) are counted, in the background; a "
      "scrape reads the last count")
      ->check(CLI::Range(int64_t{100}, int64_t{3'600'000}));
  opt(cmd, "metrics-type-classes", c.metrics_type_classes,
      "event type classes (an event type's first dot-segment) counted under their own label in "
      "sealhook_events_published_total; those seen after the first this many are \"other\"")
      ->check(CLI::Range(size_t{1}, size_t{1'000}));
  opt(cmd, "trace-queue-size", c.trace_queue_size,
      "spans waiting for export at most (traces: OTEL_EXPORTER_OTLP_ENDPOINT); more are dropped "
      "and counted in sealhook_trace_spans_dropped_total")
      ->check(CLI::Range(size_t{1}, size_t{1'000'000}));
  opt(cmd, "trace-batch-size", c.trace_batch_size, "spans per export to the collector at most")
      ->check(CLI::Range(size_t{1}, size_t{100'000}));
  opt(cmd, "trace-batch-delay-ms", c.trace_batch_delay_ms,
      "a batch of spans not yet full is exported this long after its first span")
      ->check(CLI::Range(int64_t{1}, int64_t{600'000}));
  opt(cmd, "trace-export-timeout-ms", c.trace_export_timeout_ms,
      "one export to the collector, connect to answer, at most (then its spans are dropped)")
      ->check(CLI::Range(int64_t{1}, int64_t{600'000}));
  opt(cmd, "log-level", c.log_level,
      "trace|debug|info|warn|error (info: a line per attempt and per delivery state change)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  opt(cmd, "log-format", c.log_format, "text|json (json: one JSON object a line)")
      ->check(CLI::IsMember({"text", "json"}));
  opt(cmd, "log-queue-size", c.log_queue_size,
      "log lines waiting for the writer thread at most; a line that finds them full is dropped "
      "and counted in sealhook_log_lines_dropped_total")
      ->check(CLI::Range(size_t{16}, size_t{1'000'000}));
}

void add_worker_options(CLI::App& cmd, ServeConfig& c) {
  c.queue = "redis";
  c.api_threads = 4;  // the blocking pool: the ops routes and reconcile only
  c.worker = true;
  add_serve_options(cmd, c);
  for (const char* name : kServeOnly) cmd.remove_option(cmd.get_option(std::string("--") + name));
  // Every kind is taken here so that validate_worker() can say why one does not fit.
  cmd.remove_option(cmd.get_option("--queue"));
  opt(cmd, "queue", c.queue,
      "delivery queue shared with serve and other workers: redis (--redis) | kafka "
      "(--kafka-brokers)")
      ->check(CLI::IsMember({"redis", "kafka", "sqlite", "memory"}));
  opt(cmd, "metrics-listen", c.metrics_listen,
      "address:port serving GET /healthz, /readyz and /metrics (nothing else)");
}

Status validate_worker(const ServeConfig& c) {
  auto refuse = [](std::string message) {
    return make_error(ErrorKind::kBadRequest, "invalid_config", std::move(message));
  };
  if (c.queue == "memory" || c.queue == "sqlite")
    return refuse("--queue " + c.queue +
                  " is one process's queue; a worker shares its queue with serve and other "
                  "workers: use --queue redis --redis redis://HOST:PORT/DB or --queue kafka "
                  "--kafka-brokers HOST:PORT");
  if (c.store == "sqlite::memory:")
    return refuse(
        "--store sqlite::memory: is this process's alone; a worker shares the store "
        "with serve (--store sqlite:PATH, or postgres://USER@HOST:PORT/DB for workers on other "
        "machines)");
  return validate(c);
}

std::optional<int64_t> parse_duration_ms(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && digits < 12 && text[digits] >= '0' && text[digits] <= '9')
    digits++;
  if (digits == 0 || digits == text.size()) return std::nullopt;
  const int64_t n = std::stoll(std::string(text.substr(0, digits)));
  const std::string_view unit = text.substr(digits);
  int64_t scale = 0;
  if (unit == "ms") scale = 1;
  if (unit == "s") scale = 1000;
  if (unit == "m") scale = 60'000;
  if (unit == "h") scale = 3'600'000;
  if (unit == "d") scale = 86'400'000;
  if (scale == 0 || n > 365LL * 86'400'000 / scale) return std::nullopt;
  const int64_t ms = n * scale;
  if (ms < 1000) return std::nullopt;
  return ms;
}

Status validate(const ServeConfig& c) {
  if (c.store.rfind("sqlite:", 0) != 0 && c.store.rfind("postgres://", 0) != 0 &&
      c.store.rfind("postgresql://", 0) != 0)
    return make_error(ErrorKind::kBadRequest, "invalid_config",
                      "--store must be sqlite:PATH or postgres://USER@HOST:PORT/DB");
  if (c.queue == "sqlite" && c.queue_path.empty() &&
      (c.store.rfind("sqlite:", 0) != 0 || c.store == "sqlite::memory:"))
    return make_error(ErrorKind::kBadRequest, "invalid_config",
                      "--queue sqlite needs --queue-path when the store is not a SQLite file");
  if (c.queue == "redis" && c.redis.empty())
    return make_error(ErrorKind::kBadRequest, "invalid_config",
                      "--queue redis needs --redis redis://HOST:PORT/DB");
  if (c.queue == "redis")
    if (auto a = parse_redis_url(c.redis); !a)
      return make_error(ErrorKind::kBadRequest, "invalid_config", a.error().message);
  if (c.queue == "kafka" && c.kafka_brokers.empty())
    return make_error(ErrorKind::kBadRequest, "invalid_config",
                      "--queue kafka needs --kafka-brokers HOST:PORT[,...]");
  if (c.max_request_memory_bytes < c.max_payload_bytes + kEnvelopeBytes)
    return make_error(ErrorKind::kBadRequest, "invalid_config",
                      "--max-request-memory-bytes must hold at least one largest request "
                      "(--max-payload-bytes + 64 KiB)");
  if (c.queue_max_bytes < c.max_publish_bytes)
    return make_error(ErrorKind::kBadRequest, "invalid_config",
                      "--queue-max-bytes must hold at least one largest publish "
                      "(--max-publish-bytes)");
  if (auto nets = delivery::parse_cidr_list(c.allow_networks); !nets)
    return make_error(ErrorKind::kBadRequest, "invalid_config",
                      "--allow-networks: " + nets.error().message);
  if (!parse_duration_ms(c.disable_after))
    return make_error(ErrorKind::kBadRequest, "invalid_config",
                      "--disable-after must be a whole number and its unit, ms, s, m, h or d, "
                      "from 1 s to 365 d (\"5d\", \"90m\")");
  if (!c.admin_token.empty() && c.admin_token.size() < 16)
    return make_error(ErrorKind::kBadRequest, "invalid_config",
                      "--admin-token must be at least 16 characters (128 bits of randomness)");
  return {};
}

}  // namespace sealhook::app
