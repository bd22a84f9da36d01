#include "app/metrics.hpp"

#include "app/exposition.hpp"
#include "app/logging.hpp"

namespace sealhook::app {
namespace {

void publish_metrics(Exposition& out, const PublishCounters& p) {
  out.family("sealhook_events_published_total", "counter",
             "Events accepted by publish, by type class (the type's first dot-segment; the first "
             "--metrics-type-classes classes seen, the rest as \"other\").");
  for (const auto& [name, n] : p.events_by_class.snapshot())
    out.sample("sealhook_events_published_total", label("type_class", name), n);
  out.counter("sealhook_deliveries_enqueued_total", "Deliveries enqueued.", p.deliveries);
  out.counter("sealhook_deliveries_skipped_total",
              "Deliveries not made because the tenant has no public key.", p.skipped_no_key);
  out.counter("sealhook_deliveries_skipped_disabled_total",
              "Deliveries recorded as skipped because their endpoint was disabled.",
              p.skipped_disabled);
  out.counter("sealhook_publish_rejected_total", "Publishes refused with 503 (queue full).",
              p.rejected_full);
}

void delivery_metrics(Exposition& out, const delivery::Dispatcher& d) {
  const auto& c = d.counters();
  out.counter("sealhook_attempts_started_total", "Delivery attempts started.", c.attempts);
  out.family("sealhook_attempts_total", "counter",
             "Delivery attempts finished, by class of answer (an HTTP status class, timeout, or "
             "network_error when no answer came).");
  for (size_t i = 0; i < delivery::kStatusClasses; ++i) {
    auto cls = static_cast<delivery::StatusClass>(i);
    out.sample("sealhook_attempts_total", label("class", delivery::status_class_label(cls)),
               c.attempts_by.by_class[i].load());
  }
  out.family("sealhook_deliveries_total", "counter", "Attempt outcomes.");
  out.sample("sealhook_deliveries_total", label("outcome", "delivered"), c.delivered.load());
  out.sample("sealhook_deliveries_total", label("outcome", "retried"), c.retried.load());
  out.sample("sealhook_deliveries_total", label("outcome", "dead"), c.dead.load());
  out.histogram("sealhook_attempt_duration_seconds",
                "Time of one delivery attempt, connect to last byte (or to its timeout or error).",
                "", c.attempts_by.duration.snapshot());
  out.histogram("sealhook_publish_to_delivery_seconds",
                "From the publish that accepted an event to the attempt that delivered it, "
                "retries included.",
                "", c.attempts_by.publish_to_delivery.snapshot());
  out.gauge("sealhook_attempts_inflight", "Delivery attempts this process has in flight.",
            static_cast<double>(d.inflight()));
  out.counter("sealhook_leases_lost_total", "Outcomes dropped because their lease had expired.",
              c.leases_lost);
  out.counter("sealhook_deliveries_held_unknown_endpoint_total",
              "Times a delivery waited for the catalog feed to load its endpoint.", c.held_unknown);
  out.family("sealhook_deliveries_delayed_total", "counter",
             "Times a due delivery was put back without an attempt, its attempts unspent, by "
             "reason (endpoint_disabled: looked at again after --disabled-recheck-ms; rate_limit: "
             "until its turn under its endpoint's rate limit; concurrency: its endpoint's "
             "concurrency limit in flight, back after --concurrency-recheck-ms; retry_after: its "
             "endpoint asked for a pause).");
  out.sample("sealhook_deliveries_delayed_total", label("reason", "endpoint_disabled"),
             c.deferred_disabled.load());
  out.sample("sealhook_deliveries_delayed_total", label("reason", "rate_limit"),
             c.deferred_rate.load());
  out.sample("sealhook_deliveries_delayed_total", label("reason", "concurrency"),
             c.deferred_concurrency.load());
  out.sample("sealhook_deliveries_delayed_total", label("reason", "retry_after"),
             c.deferred_retry_after.load());
  out.histogram("sealhook_endpoint_concurrency_limit",
                "The adaptive concurrency limit of the endpoint each attempt went to, at the "
                "attempt's start (unordered endpoints; between 1 and --max-inflight-per-endpoint).",
                "", c.concurrency_limit.snapshot());
  out.gauge("sealhook_endpoints_concurrency_reduced",
            "Endpoints whose adaptive concurrency limit in this process is below "
            "--max-inflight-per-endpoint now.",
            static_cast<double>(d.concurrency().reduced()));
  out.counter("sealhook_concurrency_cuts_total",
              "Times an endpoint's concurrency limit was halved (an answer 429, 502, 503, 504 or "
              "a timeout, once a round).",
              d.concurrency().cuts());
}

void catalog_metrics(Exposition& out, const CatalogService& catalog) {
  out.family("sealhook_endpoint_disables_total", "counter",
             "Endpoints this process disabled, by reason (gone: it answered 410 Gone; failing: "
             "every attempt failed for --disable-after; manual: a PATCH).");
  for (StateReason r : {StateReason::kGone, StateReason::kFailing, StateReason::kManual})
    out.sample("sealhook_endpoint_disables_total", label("reason", to_string(r)),
               catalog.disables(r));
  const auto snapshot = catalog.snapshot();
  const Snapshot& snap = *snapshot;
  size_t disabled = 0;
  for (const auto& [id, ep] : snap.endpoints) disabled += ep->endpoint.state.disabled ? 1 : 0;
  out.family("sealhook_endpoints", "gauge", "Endpoints in the catalog, by state.");
  out.sample("sealhook_endpoints", label("state", "enabled"),
             static_cast<double>(snap.endpoints.size() - disabled));
  out.sample("sealhook_endpoints", label("state", "disabled"), static_cast<double>(disabled));
}

void queue_metrics(Exposition& out, const QueueStats& qs, std::optional<uint64_t> scheduled,
                   const std::string& q) {
  auto gauge = [&](const char* name, const char* help, double v) { out.gauge(name, help, v, q); };
  gauge("sealhook_queue_depth", "Deliveries held by the queue (waiting, scheduled and leased).",
        static_cast<double>(qs.depth));
  gauge("sealhook_queue_scheduled",
        "Deliveries waiting for a retry or a later time (a local queue's: --metrics-refresh-ms).",
        static_cast<double>(scheduled.value_or(qs.scheduled)));
  gauge("sealhook_queue_leased", "Deliveries being attempted (leased, not yet settled).",
        static_cast<double>(qs.leased));
  gauge("sealhook_queue_capacity", "Queue bound in deliveries.", static_cast<double>(qs.capacity));
  gauge("sealhook_queue_bytes", "Ciphertext held by the queue.", static_cast<double>(qs.bytes));
  gauge("sealhook_queue_max_bytes", "Queue bound in bytes.", static_cast<double>(qs.max_bytes));
  gauge("sealhook_queue_up", "1 when the queue's backend answers, else 0.", qs.up ? 1.0 : 0.0);
  out.family("sealhook_queue_resets_total", "counter",
             "Times the queue's backend was found to have lost its data (then started afresh).");
  out.sample("sealhook_queue_resets_total", q, qs.resets);
}

void store_metrics(Exposition& out, const SlowGauges::Values& v, const std::string& q) {
  if (v.dead)
    out.gauge("sealhook_dlq_size", "Dead-lettered deliveries in the store (--metrics-refresh-ms).",
              static_cast<double>(*v.dead), q);
  if (v.lost)
    out.gauge("sealhook_lost_deliveries",
              "Deliveries marked lost (a volatile queue stopped, or the queue lost its data).",
              static_cast<double>(*v.lost), q);
  if (v.refreshed_at_ms > 0)
    out.gauge("sealhook_store_gauges_refresh_timestamp_seconds",
              "When sealhook_dlq_size and sealhook_lost_deliveries were last counted (Unix time).",
              static_cast<double>(v.refreshed_at_ms) / 1000.0);
}

void journal_metrics(Exposition& out, const Journal& j) {
  out.counter("sealhook_journal_write_errors_total",
              "Failed writes of delivery records (each batch is retried).", j.write_errors());
  out.gauge("sealhook_journal_backlog",
            "Delivery record updates not yet written (waiting, or in the batch being written).",
            static_cast<double>(j.backlog()));
  out.gauge("sealhook_journal_held",
            "Publish-time records held for their delivery's outcome (--journal-settle-ms).",
            static_cast<double>(j.held()));
}

void feed_metrics(Exposition& out, const CatalogFeedCounters& f) {
  out.counter("sealhook_catalog_checks_total",
              "Checks of the store's catalog version (periodic or nudged).", f.checks.load());
  out.counter("sealhook_catalog_reloads_total",
              "Checks that found changes made by another process and loaded them.",
              f.reloads.load());
  out.counter("sealhook_catalog_check_errors_total",
              "Catalog checks that failed (the store unreadable); the next one tries again.",
              f.errors.load());
  out.family("sealhook_catalog_nudges_total", "counter",
             "Catalog change nudges over Redis pub/sub, sent after this process's writes and "
             "heard from others.");
  out.sample("sealhook_catalog_nudges_total", label("direction", "sent"), f.nudges_sent.load());
  out.sample("sealhook_catalog_nudges_total", label("direction", "heard"), f.nudges_heard.load());
  out.counter(
      "sealhook_catalog_store_pushes_total",
      "Catalog change pushes from the store (PostgreSQL LISTEN/NOTIFY, and its reconnects).",
      f.store_pushes.load());
}

void trace_metrics(Exposition& out, const trace::ExporterCounters& t) {
  out.counter("sealhook_trace_spans_exported_total", "Spans the OTLP collector accepted.",
              t.exported.load());
  out.family("sealhook_trace_spans_dropped_total", "counter",
             "Spans not exported: the export queue was full (--trace-queue-size), or their "
             "export failed or timed out.");
  out.sample("sealhook_trace_spans_dropped_total", label("reason", "queue_full"),
             t.dropped_full.load());
  out.sample("sealhook_trace_spans_dropped_total", label("reason", "export_failed"),
             t.dropped_failed.load());
  out.counter("sealhook_trace_export_failures_total",
              "Exports to the OTLP collector that failed or timed out.", t.failed_exports.load());
}

}  // namespace

std::string render_metrics(const MetricsSources& s) {
  Exposition out;
  const std::string q = label("queue", s.queue_kind);
  publish_metrics(out, s.publish);
  delivery_metrics(out, s.dispatcher);
  const SlowGauges::Values slow = s.slow_gauges.values();
  queue_metrics(out, s.queue.stats(), slow.scheduled, q);
  store_metrics(out, slow, q);
  journal_metrics(out, s.journal);
  if (s.feed != nullptr) feed_metrics(out, *s.feed);
  if (s.reads_limited)
    out.counter("sealhook_api_reads_limited_total",
                "Tenants' delivery reads answered 429 (over --tenant-read-rate).",
                *s.reads_limited);
  if (s.traces != nullptr) trace_metrics(out, *s.traces);
  if (s.catalog != nullptr) catalog_metrics(out, *s.catalog);
  out.counter("sealhook_log_lines_dropped_total",
              "Log lines dropped because the log's queue was full (--log-queue-size).",
              log_lines_dropped());
  return out.text();
}

}  // namespace sealhook::app
