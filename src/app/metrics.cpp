#include "app/metrics.hpp"

#include <sstream>

namespace sealhook::app {
namespace {

void metric(std::ostringstream& out, const char* name, const char* type, const char* help,
            double value, const char* labels = "") {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
      << name << labels << ' ' << value << '\n';
}

}  // namespace

std::string render_metrics(const PublishCounters& p, const delivery::Dispatcher& d, const Queue& q,
                           Store& store, const Journal& journal, const CatalogFeedCounters* feed,
                           std::optional<uint64_t> reads_limited) {
  std::ostringstream out;
  const auto& c = d.counters();
  auto qs = q.stats();
  metric(out, "sealhook_events_published_total", "counter", "Events accepted by publish.",
         p.events);
  metric(out, "sealhook_deliveries_enqueued_total", "counter", "Deliveries enqueued.",
         p.deliveries);
  metric(out, "sealhook_deliveries_skipped_total", "counter",
         "Deliveries not made because the tenant has no public key.", p.skipped_no_key);
  metric(out, "sealhook_publish_rejected_total", "counter",
         "Publishes refused with 503 (queue full).", p.rejected_full);
  metric(out, "sealhook_attempts_total", "counter", "Delivery attempts made.", c.attempts);
  out << "# HELP sealhook_deliveries_total Attempt outcomes.\n# TYPE sealhook_deliveries_total "
         "counter\n"
      << "sealhook_deliveries_total{outcome=\"delivered\"} " << c.delivered << '\n'
      << "sealhook_deliveries_total{outcome=\"retried\"} " << c.retried << '\n'
      << "sealhook_deliveries_total{outcome=\"dead\"} " << c.dead << '\n';
  metric(out, "sealhook_attempts_inflight", "gauge",
         "Delivery attempts this process has in flight.", static_cast<double>(d.inflight()));
  metric(out, "sealhook_attempt_duration_seconds_sum", "counter", "Total time spent in attempts.",
         static_cast<double>(c.attempt_ms_total.load()) / 1000.0);
  metric(out, "sealhook_queue_depth", "gauge", "Deliveries held by the queue.",
         static_cast<double>(qs.depth));
  metric(out, "sealhook_queue_leased", "gauge", "Deliveries being attempted.",
         static_cast<double>(qs.leased));
  metric(out, "sealhook_queue_capacity", "gauge", "Queue bound in deliveries.",
         static_cast<double>(qs.capacity));
  metric(out, "sealhook_queue_bytes", "gauge", "Ciphertext held by the queue.",
         static_cast<double>(qs.bytes));
  metric(out, "sealhook_queue_max_bytes", "gauge", "Queue bound in bytes.",
         static_cast<double>(qs.max_bytes));
  metric(out, "sealhook_queue_scheduled", "gauge",
         "Deliveries waiting for a retry or a later time (a shared queue's timers).",
         static_cast<double>(qs.scheduled));
  metric(out, "sealhook_queue_up", "gauge", "1 when the queue's backend answers, else 0.",
         qs.up ? 1.0 : 0.0);
  metric(out, "sealhook_queue_resets_total", "counter",
         "Times the queue's backend was found to have lost its data (then started afresh).",
         static_cast<double>(qs.resets));
  metric(out, "sealhook_leases_lost_total", "counter",
         "Outcomes dropped because their lease had expired.", c.leases_lost);
  metric(out, "sealhook_deliveries_held_unknown_endpoint_total", "counter",
         "Times a delivery waited for the catalog feed to load its endpoint.", c.held_unknown);
  metric(out, "sealhook_journal_write_errors_total", "counter",
         "Failed writes of delivery records (each batch is retried).",
         static_cast<double>(journal.write_errors()));
  if (feed != nullptr) {
    metric(out, "sealhook_catalog_checks_total", "counter",
           "Checks of the store's catalog version (periodic or nudged).",
           static_cast<double>(feed->checks.load()));
    metric(out, "sealhook_catalog_reloads_total", "counter",
           "Checks that found changes made by another process and loaded them.",
           static_cast<double>(feed->reloads.load()));
    metric(out, "sealhook_catalog_check_errors_total", "counter",
           "Catalog checks that failed (the store unreadable); the next one tries again.",
           static_cast<double>(feed->errors.load()));
    metric(out, "sealhook_catalog_nudges_total", "counter",
           "Catalog change nudges over Redis pub/sub, sent after this process's writes and heard "
           "from others.",
           static_cast<double>(feed->nudges_sent.load()), "{direction=\"sent\"}");
    out << "sealhook_catalog_nudges_total{direction=\"heard\"} " << feed->nudges_heard.load()
        << '\n';
    metric(out, "sealhook_catalog_store_pushes_total", "counter",
           "Catalog change pushes from the store (PostgreSQL LISTEN/NOTIFY, and its reconnects).",
           static_cast<double>(feed->store_pushes.load()));
  }
  if (reads_limited)
    metric(out, "sealhook_api_reads_limited_total", "counter",
           "Tenants' delivery reads answered 429 (over --tenant-read-rate).",
           static_cast<double>(*reads_limited));
  auto dead = store.count_deliveries(DeliveryStatus::kDead);
  if (dead)
    metric(out, "sealhook_dlq_size", "gauge", "Dead-lettered deliveries.",
           static_cast<double>(*dead));
  auto lost = store.count_deliveries(DeliveryStatus::kLost);
  if (lost)
    metric(out, "sealhook_lost_deliveries", "gauge",
           "Deliveries marked lost (a volatile queue stopped, or the queue lost its data).",
           static_cast<double>(*lost));
  return out.str();
}

}  // namespace sealhook::app
