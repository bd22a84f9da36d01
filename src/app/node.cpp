#include "app/node.hpp"

#include "app/endpoint_control.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>

#include <filesystem>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "core/id_set.hpp"
#include "core/ids.hpp"

namespace sealhook::app {

namespace {

// The admin token: given, or kept (hashed) from the first start of this store, or new.
Status settle_admin_token(Node& n) {
  if (!n.config.admin_token.empty()) {
    n.admin_token_hash = sha256_hex(n.config.admin_token);
    return {};
  }
  auto kept = n.store->get_meta("admin_token_sha256");
  if (!kept) return kept.error();
  if (kept->has_value()) {
    n.admin_token_hash = **kept;
    return {};
  }
  n.generated_admin_token = random_token("sht_", 32);
  n.admin_token_hash = sha256_hex(n.generated_admin_token);
  return n.store->put_meta("admin_token_sha256", n.admin_token_hash);
}

// The queue's endpoint orderings against the catalog's, which is the truth: a process that
// stopped between switching the queue and storing the endpoint left them apart.
Status align_orderings(Queue& queue, const Snapshot& catalog) {
  // A shared queue that is down now has nothing to align; it keeps its modes meanwhile.
  if (!queue.stats().up) return {};
  for (EndpointOrdering o : queue.orderings()) {
    const EndpointPtr* ep = catalog.endpoints.find(o.endpoint_id);
    if (!ep) continue;  // deleted: its deliveries are dead-lettered as they come up
    const bool ordered = (*ep)->endpoint.ordering == Ordering::kOrdered;
    if (ordered == o.ordered) continue;
    o.ordered = ordered;
    if (Status st = queue.set_ordering(o); !st) return st;
  }
  return {};
}

// Tracing as the OTEL_* environment says (off without an endpoint).
Status start_tracer(Node& n) {
  const ServeConfig& c = n.config;
  auto settings = trace::settings_from_env(
      [](const char* name) { return std::getenv(name); },
      trace::TraceLimits{c.trace_queue_size, c.trace_batch_size, c.trace_batch_delay_ms,
                         c.trace_export_timeout_ms},
      c.worker ? "worker" : "serve");
  if (!settings) return settings.error();
  if (!settings->has_value()) return {};
  const std::string sampler = (*settings)->sampler.description();
  auto tracer = trace::Tracer::start(std::move(**settings));
  if (!tracer) return tracer.error();
  n.tracer = std::move(tracer.value());
  spdlog::info("traces: OTLP/HTTP JSON to {}, sampler {}", n.tracer->url(), sampler);
  return {};
}

}  // namespace

std::string queue_path(const ServeConfig& c) {
  if (!c.queue_path.empty()) return c.queue_path;
  std::string path = c.store.substr(7);  // validated: sqlite:PATH
  namespace fs = std::filesystem;
  fs::path p(path);
  if (p.extension() == ".db") return (p.parent_path() / (p.stem().string() + "-queue.db")).string();
  return (p / "queue.db").string();
}

std::string redis_owner(const ServeConfig& c) {
  if (!c.redis_owner.empty()) return c.redis_owner;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "localhost");
  const std::string& address = c.worker ? c.metrics_listen : c.listen;
  const size_t colon = address.rfind(':');
  const std::string port = colon == std::string::npos ? address : address.substr(colon + 1);
  const std::string name = port == "0" ? "pid-" + std::to_string(::getpid()) : address;
  return std::string(host) + (c.worker ? "/worker/" : "/serve/") + name;
}

bool shared_queue(const std::string& kind) { return kind == "redis" || kind == "kafka"; }

namespace {

constexpr const char* kRedisLostMessage =
    "lost: the redis queue lost its data (Redis restarted without persistence)";

// Of the store's pending records, those the queue does not hold.
Result<std::vector<std::pair<std::string, std::string>>> not_held(
    Queue& queue, std::vector<std::pair<std::string, std::string>>&& pending) {
  if (pending.empty()) return std::move(pending);
  std::vector<std::string> ids;
  ids.reserve(pending.size());
  for (const auto& [tenant, id] : pending) ids.push_back(id);
  auto h = queue.holding(ids);
  if (!h) return h.error();
  std::unordered_set<std::string> held(h->begin(), h->end());
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& p : pending)
    if (!held.contains(p.second)) out.push_back(std::move(p));
  return out;
}

// When the generation was made (its "MS-" prefix), or 0.
int64_t generation_made_ms(const std::string& generation) {
  int64_t ms = 0;
  std::from_chars(generation.data(), generation.data() + generation.size(), ms);
  return ms;
}

// The queue's data may have gone while no process of ours was connected to see it (serve
// stopped, Redis restarted without persistence, serve started again): the generation differs
// from the one the store recorded last. The pending records from before the new generation was
// made that the queue does not hold went with the old data: lost. Without this they would look
// acknowledged (a durable queue no longer holding a record means that) and be recorded as
// delivered. Then the store records the new generation. Several processes may do this at once:
// settling is pending -> lost only, so the second finds nothing left to do.
Result<size_t> settle_lost_generation(Store& store, Queue& queue, const std::string& generation,
                                      int64_t now_ms) {
  auto recorded = store.get_meta("queue_generation");
  if (!recorded) return recorded.error();
  size_t lost = 0;
  if (recorded->has_value() && **recorded != generation) {
    auto pending = store.pending_deliveries(generation_made_ms(generation));
    if (!pending) return pending.error();
    auto gone = not_held(queue, std::move(*pending));
    if (!gone) return gone.error();
    if (!gone->empty()) {
      if (Status st = store.settle_pending(*gone, DeliveryStatus::kLost, kRedisLostMessage, now_ms);
          !st)
        return st.error();
      spdlog::warn(
          "recovery: the redis queue's data was lost while this process was not connected; {} "
          "pending deliveries from before marked lost",
          gone->size());
    }
    lost = gone->size();
  }
  if (!recorded->has_value() || **recorded != generation)
    if (Status st = store.put_meta("queue_generation", generation); !st) return st.error();
  return lost;
}

}  // namespace

namespace {

// Recovery reads, checks and settles pending records this many at a time.
constexpr size_t kReconcilePage = 10'000;

// The store's pending records as (tenant, id), compactly: after a long outage of one endpoint
// there are a million of them, which as pairs of strings (and the sets that checked them
// against the queue) once took ~250 MiB at the start, beside the queue's own state.
class PendingIds {
 public:
  void add(const std::string& tenant, std::string_view id) {
    auto [it, fresh] = tenant_at_.try_emplace(tenant, static_cast<uint32_t>(tenants_.size()));
    if (fresh) tenants_.push_back(tenant);
    Entry e{0, 0, it->second, 0};
    if (auto bits = id_bits(id, IdSet::kPrefix)) {
      e.hi = bits->first;
      e.lo = bits->second;
    } else {
      others_.emplace_back(id);
      e.other = static_cast<uint32_t>(others_.size());
    }
    entries_.push_back(e);
  }
  size_t size() const { return entries_.size(); }
  std::string id(size_t i) const {
    const Entry& e = entries_[i];
    return e.other != 0 ? others_[e.other - 1] : id_from_bits(IdSet::kPrefix, {e.hi, e.lo});
  }
  const std::string& tenant(size_t i) const { return tenants_[entries_[i].tenant]; }
  bool held_by(size_t i, const IdSet& held) const {
    const Entry& e = entries_[i];
    return e.other != 0 ? held.contains(others_[e.other - 1]) : held.contains({e.hi, e.lo});
  }
  // Keeps the entries for which `keep(i)` is true, in order.
  template <class Keep>
  void keep_if(Keep keep) {
    size_t out = 0;
    for (size_t i = 0; i < entries_.size(); ++i)
      if (keep(i)) entries_[out++] = entries_[i];
    entries_.resize(out);
    entries_.shrink_to_fit();
  }
  // Entries [from, to) as (tenant, id).
  std::vector<std::pair<std::string, std::string>> pairs(size_t from, size_t to) const {
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(to - from);
    for (size_t i = from; i < to; ++i) out.emplace_back(tenant(i), id(i));
    return out;
  }

 private:
  struct Entry {
    uint64_t hi, lo;  // id_bits() of the id, unless `other`
    uint32_t tenant;  // index into tenants_
    uint32_t other;   // 1 + index into others_ for an id of another shape, else 0
  };
  std::deque<Entry> entries_;  // grows without copying a million entries over
  std::vector<std::string> tenants_;
  std::unordered_map<std::string, uint32_t> tenant_at_;
  std::vector<std::string> others_;
};

// Drops from `pending` what the queue holds: against a snapshot of its ids when it has one,
// else by holding(), a page of ids at a time.
Status drop_held(Queue& queue, PendingIds& pending) {
  if (pending.size() == 0) return {};
  auto snapshot = queue.held_ids();
  if (!snapshot) return snapshot.error();
  if (const std::shared_ptr<const IdSet>& held = *snapshot) {
    pending.keep_if([&](size_t i) { return !pending.held_by(i, *held); });
    return {};
  }
  IdSet held;
  for (size_t from = 0; from < pending.size(); from += kReconcilePage) {
    const size_t to = std::min(pending.size(), from + kReconcilePage);
    std::vector<std::string> ids;
    ids.reserve(to - from);
    for (size_t i = from; i < to; ++i) ids.push_back(pending.id(i));
    auto h = queue.holding(ids);
    if (!h) return h.error();
    for (const auto& id : *h) held.add(id);
  }
  held.seal();
  pending.keep_if([&](size_t i) { return !pending.held_by(i, held); });
  return {};
}

}  // namespace

Result<size_t> reconcile(Store& store, Queue* queue, const std::string& queue_kind, int64_t now_ms,
                         int64_t unchanged_for_ms) {
  size_t lost_generation = 0;
  if (auto generation = queue != nullptr ? queue->generation() : std::nullopt) {
    // Not reached yet: nothing can be told apart (the timer, or the next start, tries again).
    if (generation->empty())
      return make_error(ErrorKind::kUnavailable, "queue_unavailable",
                        "the queue has not been reached yet");
    auto r = settle_lost_generation(store, *queue, *generation, now_ms);
    if (!r) return r.error();
    lost_generation = *r;
  }
  // The store first, then the queue: a record is written only after its push committed, so
  // one the queue does not hold when asked after the read was acknowledged (or lost).
  const int64_t updated_before = unchanged_for_ms > 0 ? now_ms - unchanged_for_ms : INT64_MAX;
  PendingIds orphans;
  std::optional<std::pair<std::string, std::string>> after;
  for (;;) {
    auto page = store.pending_deliveries(updated_before, after, kReconcilePage);
    if (!page) return page.error();
    if (page->empty()) break;
    for (const auto& [tenant, id] : *page) orphans.add(tenant, id);
    after = std::move(page->back());
  }
  auto previous = store.get_meta("queue");
  if (!previous) return previous.error();
  if (queue != nullptr)
    if (Status st = drop_held(*queue, orphans); !st) return st.error();
  if (orphans.size() > 0) {
    const bool acked =
        queue != nullptr && queue->durable() && previous->has_value() && **previous == queue_kind;
    for (size_t from = 0; from < orphans.size(); from += kReconcilePage) {
      auto ids = orphans.pairs(from, std::min(orphans.size(), from + kReconcilePage));
      Status st = acked ? store.settle_pending(ids, DeliveryStatus::kDelivered, "", now_ms)
                        : store.settle_pending(ids, DeliveryStatus::kLost,
                                               "lost: it was in a volatile (memory) queue when "
                                               "its process stopped",
                                               now_ms);
      if (!st) return st.error();
    }
    if (acked)
      spdlog::info("recovery: {} deliveries were acknowledged before the last stop; recorded",
                   orphans.size());
    else
      spdlog::warn("recovery: {} pending deliveries were lost with a volatile queue; marked lost",
                   orphans.size());
  }
  if (Status st = store.put_meta("queue", queue_kind); !st) return st.error();
  return orphans.size() + lost_generation;
}

Result<size_t> mark_lost_after_reset(Store& store, Queue& queue, int64_t now_ms) {
  auto pending = store.pending_deliveries(INT64_MAX);
  if (!pending) return pending.error();
  if (pending->empty()) return size_t{0};
  // The reset was found by a handshake that has just ended: the queue may need a moment more.
  auto lost = not_held(queue, std::vector(*pending));
  for (int i = 0; !lost && i < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    lost = not_held(queue, std::vector(*pending));
  }
  if (!lost) return lost.error();
  if (lost->empty()) return size_t{0};
  if (Status st = store.settle_pending(*lost, DeliveryStatus::kLost, kRedisLostMessage, now_ms);
      !st)
    return st.error();
  spdlog::warn("recovery: {} pending deliveries went with the redis queue's data; marked lost",
               lost->size());
  return lost->size();
}

void watch_queue_resets(Node& n) {
  n.queue->set_reset_listener([&n] {
    boost::asio::post(*n.blocking, [&n] {
      n.journal->flush();  // the publish-time records it holds back are checked too
      if (auto r = mark_lost_after_reset(*n.store, *n.queue, n.clock.now_ms()); !r)
        spdlog::error("recovery: marking what the queue lost failed: {}", r.error().message);
    });
  });
}

Result<std::unique_ptr<Node>> assemble(const ServeConfig& c) {
  auto node = std::make_unique<Node>();
  Node& n = *node;
  n.config = c;
  auto allowed = delivery::parse_cidr_list(c.allow_networks);
  if (!allowed) return allowed.error();
  const delivery::AddressPolicy addresses{c.allow_private_networks, std::move(allowed.value())};
  // Keep as many idle connections per origin as attempts may run at once against it (all of
  // them, when many endpoints share one host), so busy endpoints never churn connections:
  // with 64 per origin, 100 endpoints on one host opened a new connection for 6 % of their
  // deliveries and cost 12 % of the throughput. Idle ones expire. First of all the parts, so
  // that a bad --ca-file stops the start before a store is made.
  auto sender = delivery::make_http_sender(
      n.io, delivery::SenderOptions{addresses, c.max_response_bytes, c.max_inflight, "sealhook/0.1",
                                    8, c.ca_file});
  if (!sender) return sender.error();
  n.sender = std::move(sender.value());
  if (Status st = start_tracer(n); !st) return st.error();
  auto store = make_store(c.store);
  if (!store) return store.error();
  n.store = std::move(store.value());
  if (!c.worker)  // a worker has no API: it never makes an admin token
    if (Status st = settle_admin_token(n); !st) return st.error();
  CatalogLimits limits;
  limits.max_tenants = c.max_tenants;
  limits.max_endpoints_per_tenant = c.max_endpoints_per_tenant;
  limits.default_max_attempts = c.max_attempts;
  limits.secret_rotation_grace_ms = c.secret_rotation_grace_s * 1000;
  n.url_guard = std::make_unique<delivery::UrlGuard>(
      addresses,
      delivery::LookupOptions{c.registration_lookups,
                              std::chrono::milliseconds(c.registration_lookup_timeout_ms)});
  n.catalog = std::make_unique<CatalogService>(*n.store, n.registry, n.clock, limits, *n.url_guard);
  if (auto st = n.catalog->load(); !st) return st.error();
  QueueConfig qc;
  qc.kind = c.queue;
  // A shared queue's caps are its state, applied by whichever process runs a step (lease,
  // settle): the processes must agree, so there the default does not follow this process's
  // --max-inflight (a serve kept to few attempts would otherwise park every busy tenant's lanes
  // for all of them).
  const size_t tenant_cap_base =
      shared_queue(c.queue) ? ServeConfig{}.max_inflight : c.max_inflight;
  qc.options = QueueOptions{
      .capacity = c.queue_capacity,
      .max_bytes = c.queue_max_bytes,
      .max_inflight_per_endpoint = c.max_inflight_per_endpoint,
      .max_inflight_per_tenant = c.max_inflight_per_tenant > 0
                                     ? c.max_inflight_per_tenant
                                     : std::max(1, static_cast<int>(tenant_cap_base / 4))};
  qc.path = c.queue == "sqlite" ? queue_path(c) : "";
  qc.sync_full = c.queue_sync == "full";
  qc.round_gap = std::chrono::microseconds(c.queue_round_us);
  qc.redis_url = c.redis;
  qc.redis_owner = redis_owner(c);
  qc.redis_timeout_ms = c.redis_timeout_ms;
  qc.kafka_brokers = c.kafka_brokers;
  qc.kafka_prefix = c.kafka_topic_prefix;
  qc.kafka_group = c.kafka_group;
  qc.kafka_partitions = c.kafka_partitions;
  qc.kafka_timeout_ms = c.kafka_timeout_ms;
  qc.kafka_session_timeout_ms = c.kafka_session_timeout_ms;
  qc.kafka_held_per_partition = c.kafka_held_per_partition;
  qc.kafka_batch_ms = c.kafka_batch_ms;
  qc.kafka_ack_record_ms = c.kafka_ack_record_ms;
  auto queue = make_queue(qc, n.clock);
  if (!queue) return queue.error();
  n.queue = std::move(queue.value());
  if (Status st = align_orderings(*n.queue, *n.registry.snapshot()); !st) return st.error();
  n.catalog->set_ordering_hook([q = n.queue.get()](const Endpoint& e) {
    return q->set_ordering({e.tenant_id, e.id, e.ordering == Ordering::kOrdered});
  });
  if (!shared_queue(c.queue))  // a queue of this process's own (redis and kafka are shared)
    n.catalog->set_remote_ordering_hook([q = n.queue.get()](const Endpoint& e) {
      return q->set_ordering({e.tenant_id, e.id, e.ordering == Ordering::kOrdered});
    });
  n.journal = std::make_unique<Journal>(
      *n.store, n.clock,
      JournalOptions{.linger = std::chrono::milliseconds(c.journal_linger_ms),
                     .linger_waited = std::chrono::milliseconds(c.journal_linger_waited_ms),
                     .settle = std::chrono::milliseconds(c.journal_settle_ms)});
  n.publisher = std::make_unique<Publisher>(*n.catalog, *n.queue, *n.journal, *n.store, n.clock,
                                            c.max_publish_bytes, c.metrics_type_classes);
  n.publisher->set_tracer(n.tracer.get());
  n.blocking = std::make_unique<boost::asio::thread_pool>(static_cast<size_t>(c.api_threads));
  n.reads = std::make_unique<ReadPool>([&n] { n.journal->flush(); });
  n.policy = std::make_unique<delivery::RetryPolicy>(
      delivery::RetryOptions{c.retry_base_ms, c.retry_max_delay_ms, c.retry_jitter},
      delivery::system_uniform01());
  watch_endpoint_states(n);
  n.health = make_health_tracker(n);
  n.dispatcher = std::make_unique<delivery::Dispatcher>(
      *n.queue, *n.sender, n.registry, *n.journal, *n.policy, n.clock, n.io,
      delivery::DispatcherOptions{
          .max_inflight = c.max_inflight,
          .attempt_timeout = std::chrono::milliseconds(c.attempt_timeout_ms),
          .default_max_attempts = c.max_attempts,
          .tracer = n.tracer.get(),
          .disabled_recheck_ms = c.disabled_recheck_ms,
          .disable_endpoint = endpoint_disabler(n),
          .health = n.health.get(),
          .concurrency = {.enabled = c.adaptive_concurrency,
                          .max = c.max_inflight_per_endpoint,
                          .fast_ms = c.concurrency_fast_ms,
                          .max_wait_ms = c.concurrency_max_wait_ms,
                          .max_hold_ms = c.retry_max_delay_ms}});
  n.feed = std::make_unique<CatalogFeed>(
      *n.catalog, n.registry, n.clock,
      CatalogFeedOptions{std::chrono::milliseconds(c.catalog_check_ms),
                         c.queue == "redis" ? c.redis : ""});
  n.feed->start();
  return node;
}

Node::~Node() {
  if (feed) feed->stop();
  if (dispatcher) dispatcher->stop();
  if (journal) journal->stop();  // runs the last callbacks, which reach the queue
  if (blocking) blocking->join();
  if (reads) reads->join();
  // The queue's thread calls into the dispatcher and the publisher: it goes before them.
  queue.reset();
}

}  // namespace sealhook::app
