#include "app/logging.hpp"

#include <spdlog/async.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string_view>

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

// stdout without a flush per line (spdlog's stdout sinks flush each one: a write(2) per
// attempt at info): flushed every second, at each warning and at exit. The same FILE as
// std::cout, so the two keep their order.
class BufferedStdout final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  void flush_() override { std::fflush(stdout); }
};

}  // namespace

Status setup_logging(const LogOptions& o) {
  if (o.format != "text" && o.format != "json")
    return make_error(ErrorKind::kBadRequest, "invalid_config",
                      "--log-format must be text or json, not '" + o.format + "'");
  spdlog::init_thread_pool(o.queue_size, 1);
  spdlog::sink_ptr sink = std::make_shared<BufferedStdout>();
  auto logger =
      std::make_shared<spdlog::async_logger>("sealhook", std::move(sink), spdlog::thread_pool(),
                                             spdlog::async_overflow_policy::overrun_oldest);
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
  auto pool = spdlog::thread_pool();
  return pool ? pool->overrun_counter() : 0;
}

}  // namespace sealhook::app
