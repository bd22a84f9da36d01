// The one place that knows every queue backend.
#include "queue/memory/memory_queue.hpp"
#include "queue/queue.hpp"

namespace sealhook {

Result<std::unique_ptr<Queue>> make_queue(const std::string& kind, const QueueOptions& options,
                                          const Clock& clock) {
  if (kind == "memory")
    return std::unique_ptr<Queue>(std::make_unique<MemoryQueue>(options, clock));
  if (kind == "redis" || kind == "kafka")
    return make_error(
        ErrorKind::kBadRequest, "unsupported_queue",
        "queue '" + kind + "' is not available in this build yet; use --queue memory");
  return make_error(ErrorKind::kBadRequest, "invalid_queue",
                    "unknown queue '" + kind + "' (expected memory, redis or kafka)");
}

}  // namespace sealhook
