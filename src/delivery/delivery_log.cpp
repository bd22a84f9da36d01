#include "delivery/delivery_log.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <iterator>
#include <string>

#include "trace/span_context.hpp"

namespace sealhook::delivery {

namespace {

using Line = fmt::memory_buffer;

// The JSON text of a string (quoted and escaped), appended.
void append_quoted(Line& line, std::string_view s) {
  const std::string quoted = boost::json::serialize(boost::json::string_view(s));
  line.append(quoted.data(), quoted.data() + quoted.size());
}

// The members every line has: what happened, the ids, and the trace id when there is one. Ids
// are minted token characters; the trace id is hex: none needs escaping. A traceparent that
// parses carries the trace id as its own 32 lowercase hex digits (after "00-").
void head(Line& line, std::string_view what, const QueuedDelivery& d, int attempt) {
  fmt::format_to(std::back_inserter(line),
                 R"("msg":"{}","delivery_id":"{}","event_id":"{}","endpoint_id":"{}",)"
                 R"("tenant_id":"{}")",
                 what, d.id, d.event_id, d.endpoint_id, d.tenant_id);
  if (attempt > 0) fmt::format_to(std::back_inserter(line), R"(,"attempt":{})", attempt);
  if (trace::parse_traceparent(d.traceparent))
    fmt::format_to(std::back_inserter(line), R"(,"trace_id":"{}")",
                   std::string_view(d.traceparent).substr(3, 32));
}

// The line as it is: the logger formats nothing more than its pattern around it.
void emit(spdlog::level::level_enum level, const Line& line) {
  spdlog::default_logger_raw()->log(level, spdlog::string_view_t(line.data(), line.size()));
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
  Line line;
  head(line, "attempt", d, attempt);
  if (r.status != 0) fmt::format_to(std::back_inserter(line), R"(,"status":{})", r.status);
  if (!o.error.empty()) {
    constexpr std::string_view kKey = R"(,"error":)";
    line.append(kKey.data(), kKey.data() + kKey.size());
    append_quoted(line, o.error);
  }
  fmt::format_to(std::back_inserter(line), R"(,"duration_ms":{},"outcome":"{}")",
                 r.duration.count(), verdict_name(o.verdict));
  emit(spdlog::level::info, line);
}

void log_delivered(const QueuedDelivery& d, int attempt) {
  if (!spdlog::should_log(spdlog::level::info)) return;
  Line line;
  head(line, "delivered", d, attempt);
  emit(spdlog::level::info, line);
}

void log_retry_scheduled(const QueuedDelivery& d, int attempt, int64_t at_ms) {
  if (!spdlog::should_log(spdlog::level::info)) return;
  Line line;
  head(line, "retry_scheduled", d, attempt);
  fmt::format_to(std::back_inserter(line), R"(,"next_attempt_at_ms":{})", at_ms);
  emit(spdlog::level::info, line);
}

void log_dead_lettered(const QueuedDelivery& d, int attempt, const std::string& error) {
  if (!spdlog::should_log(spdlog::level::warn)) return;
  Line line;
  head(line, "dead_lettered", d, attempt);
  constexpr std::string_view kKey = R"(,"error":)";
  line.append(kKey.data(), kKey.data() + kKey.size());
  append_quoted(line, error);
  emit(spdlog::level::warn, line);
}

void log_lease_lost(const QueuedDelivery& d) {
  if (!spdlog::should_log(spdlog::level::warn)) return;
  Line line;
  head(line, "lease_lost", d, 0);
  emit(spdlog::level::warn, line);
}

}  // namespace sealhook::delivery
