#include "delivery/delivery_log.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <string>

#include "trace/span_context.hpp"

namespace sealhook::delivery {

namespace {

// JSON text of a string (quoted and escaped).
std::string quoted(std::string_view s) {
  return boost::json::serialize(boost::json::string_view(s));
}

// The members every line has: what happened, the ids, and the trace id when there is one. Ids
// are minted token characters; the trace id is hex: none needs escaping.
std::string head(std::string_view what, const QueuedDelivery& d, int attempt) {
  std::string out = "\"msg\":\"" + std::string(what) + "\",\"delivery_id\":\"" + d.id +
                    "\",\"event_id\":\"" + d.event_id + "\",\"endpoint_id\":\"" + d.endpoint_id +
                    "\",\"tenant_id\":\"" + d.tenant_id + "\"";
  if (attempt > 0) out += ",\"attempt\":" + std::to_string(attempt);
  if (auto ctx = trace::parse_traceparent(d.traceparent))
    out += ",\"trace_id\":\"" + trace::hex(ctx->trace_id) + "\"";
  return out;
}

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kDelivered:
      return "delivered";
    case Verdict::kRetry:
      return "retry";
    case Verdict::kDead:
      return "dead";
  }
  return "";
}

}  // namespace

void log_attempt(const QueuedDelivery& d, int attempt, const SendResult& r, const Outcome& o) {
  if (!spdlog::should_log(spdlog::level::info)) return;
  std::string line = head("attempt", d, attempt);
  if (r.status != 0) line += ",\"status\":" + std::to_string(r.status);
  if (!o.error.empty()) line += ",\"error\":" + quoted(o.error);
  line += ",\"duration_ms\":" + std::to_string(r.duration.count());
  line += ",\"outcome\":\"" + std::string(verdict_name(o.verdict)) + "\"";
  spdlog::info("{}", line);
}

void log_delivered(const QueuedDelivery& d, int attempt) {
  if (!spdlog::should_log(spdlog::level::info)) return;
  spdlog::info("{}", head("delivered", d, attempt));
}

void log_retry_scheduled(const QueuedDelivery& d, int attempt, int64_t at_ms) {
  if (!spdlog::should_log(spdlog::level::info)) return;
  spdlog::info("{},\"next_attempt_at_ms\":{}", head("retry_scheduled", d, attempt), at_ms);
}

void log_dead_lettered(const QueuedDelivery& d, int attempt, const std::string& error) {
  spdlog::warn("{},\"error\":{}", head("dead_lettered", d, attempt), quoted(error));
}

void log_lease_lost(const QueuedDelivery& d) { spdlog::warn("{}", head("lease_lost", d, 0)); }

}  // namespace sealhook::delivery
