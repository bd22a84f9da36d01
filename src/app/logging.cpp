#include "app/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>

namespace sealhook::app {

namespace {

// The message as JSON members: a structured line's own (it starts with "msg":), else the text
// as "msg":"...".
class JsonMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string_view text(msg.payload.data(), msg.payload.size());
    if (text.starts_with("\"msg\":")) {
      dest.append(text.data(), text.data() + text.size());
      return;
    }
    const std::string quoted = boost::json::serialize(boost::json::string_view(text));
    constexpr std::string_view kKey = "\"msg\":";
    dest.append(kKey.data(), kKey.data() + kKey.size());
    dest.append(quoted.data(), quoted.data() + quoted.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessage>();
  }
};

// Standard output in batches, off the caller's thread. A line is formatted into the waiting
// batch (memory only: no system call and no thread woken per line); the writer thread writes
// the batch with one fwrite and fflush when kWakeLines lines wait, at each flush (every second,
// at each warning) and at exit. At most `max_lines` lines wait: a line that finds the batch
// full is dropped and counted. The same FILE as std::cout.
class BatchedStdout final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit BatchedStdout(size_t max_lines)
      : max_lines_(std::max<size_t>(max_lines, 1)),
        wake_lines_(std::clamp<size_t>(max_lines_ / 2, 1, kWakeLines)),
        writer_([this] { run(); }) {}
  ~BatchedStdout() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_one();
    writer_.join();
  }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (lines_ >= max_lines_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    formatter_->format(msg, waiting_);
    if (++lines_ == wake_lines_) cv_.notify_one();
  }
  // Asks the writer: the caller (an io thread at a warning) never waits for the terminal.
  void flush_() override {
    flush_wanted_ = true;
    cv_.notify_one();
  }

 private:
  static constexpr size_t kWakeLines = 256;

  void run() {
    spdlog::memory_buf_t batch;
    std::unique_lock lock(mutex_);
    while (true) {
      cv_.wait(lock, [&] { return stopping_ || flush_wanted_ || lines_ >= wake_lines_; });
      const bool stop = stopping_;
      batch.append(waiting_.data(), waiting_.data() + waiting_.size());  // both keep capacity
      waiting_.clear();
      lines_ = 0;
      flush_wanted_ = false;
      lock.unlock();
      if (batch.size() > 0) std::fwrite(batch.data(), 1, batch.size(), stdout);
      std::fflush(stdout);
      batch.clear();
      lock.lock();
      if (stop && lines_ == 0) return;
    }
  }

  const size_t max_lines_;
  const size_t wake_lines_;
  // Under mutex_ (base_sink's, held around sink_it_ and flush_).
  spdlog::memory_buf_t waiting_;
  size_t lines_ = 0;
  bool flush_wanted_ = false;
  bool stopping_ = false;
  std::condition_variable cv_;
  std::atomic<uint64_t> dropped_{0};
  std::thread writer_;  // last: it starts once the rest is made
};

std::atomic<BatchedStdout*> g_sink{nullptr};

}  // namespace

Status setup_logging(const LogOptions& o) {
  if (o.format != "text" && o.format != "json")
    return make_error(ErrorKind::kBadRequest, "invalid_config",
                      "--log-format must be text or json, not '" + o.format + "'");
  auto sink = std::make_shared<BatchedStdout>(o.queue_size);
  g_sink = sink.get();
  auto logger = std::make_shared<spdlog::logger>("sealhook", std::move(sink));
  if (o.format == "json") {
    logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%*})", spdlog::pattern_time_type::utc,
        spdlog::details::os::default_eol, [] {
          spdlog::pattern_formatter::custom_flags flags;
          flags['*'] = std::make_unique<JsonMessage>();
          return flags;
        }()));
  }
  logger->set_level(spdlog::level::from_str(o.level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
  spdlog::flush_every(std::chrono::seconds(1));
  return {};
}

uint64_t log_lines_dropped() {
  const BatchedStdout* sink = g_sink.load();
  return sink ? sink->dropped() : 0;
}

}  // namespace sealhook::app
