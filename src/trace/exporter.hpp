#pragma once
// The batching span exporter: a bounded queue that never blocks the caller (a span over the
// bound is dropped and counted), and a thread of its own that POSTs batches as OTLP/HTTP JSON
// to the collector, when a batch is full or its delay has passed, each export bounded by a
// timeout. A dead or slow collector costs dropped spans, never a caller's time.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "trace/span.hpp"

namespace sealhook::trace {

struct ExporterOptions {
  std::string url;  // http://HOST:PORT/PATH of the collector's traces route
  std::vector<std::pair<std::string, std::string>> headers = {};  // OTEL_EXPORTER_OTLP_HEADERS
  Attributes resource = {};
  size_t max_queue = 2048;                 // spans waiting at most
  size_t max_batch = 512;                  // spans per export at most
  std::chrono::milliseconds delay{5'000};  // a batch not full goes this long after its first span
  std::chrono::milliseconds timeout{10'000};  // one export, connect to answer
};

struct ExporterCounters {
  std::atomic<uint64_t> exported{0};        // spans the collector took (2xx)
  std::atomic<uint64_t> dropped_full{0};    // spans refused because the queue was full
  std::atomic<uint64_t> dropped_failed{0};  // spans of exports that failed or timed out
  std::atomic<uint64_t> failed_exports{0};
};

class Exporter {
 public:
  // Fails when the URL is not an http:// URL.
  static Result<std::unique_ptr<Exporter>> start(ExporterOptions options);
  ~Exporter();  // stop()
  // Never blocks on the network: queued, or dropped and counted when the queue is full.
  void add(Span&& span);
  // Exports what is queued (each export bounded by the timeout), then stops the thread.
  void stop();
  const ExporterCounters& counters() const { return counters_; }

 private:
  struct Connection;
  explicit Exporter(ExporterOptions options);
  void run();
  bool post(std::string body);

  ExporterOptions options_;
  std::string host_, port_, target_;
  ExporterCounters counters_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Span> queue_;  // oldest first
  bool stopping_ = false;
  std::unique_ptr<Connection> conn_;  // the exporter thread's
  std::thread thread_;
};

}  // namespace sealhook::trace
