#pragma once
// The process's log: asynchronous (lines wait in a bounded batch that one writer thread writes
// out, so no io thread waits on stdout), dropping a line that finds the batch full (counted), as
// text or as one JSON object a line. Structured lines (delivery/delivery_log.hpp) carry their own
// fields.
#include <cstdint>
#include <string>

#include "core/result.hpp"

namespace sealhook::app {

struct LogOptions {
  std::string level = "info";   // trace | debug | info | warn | error
  std::string format = "text";  // text | json
  size_t queue_size = 8192;     // lines waiting for the writer at most
};

// Makes the default logger so. Once per process, before anything logs.
Status setup_logging(const LogOptions& options);
// Lines dropped because the queue was full.
uint64_t log_lines_dropped();

}  // namespace sealhook::app
