#include "queue/redis/redis_connection.hpp"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <memory>
#include <mutex>
#include <optional>

namespace sealhook {
namespace {

constexpr size_t kMaxPipeline = 1024;  // requests sent per round trip, at most

timeval to_timeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000),
                 static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

}  // namespace

Result<redisContext*> redis_connect(const RedisConnectionOptions& o, bool with_timeout) {
  // hiredis writes with write(2): on a connection Redis has closed (a restart, a timeout) that
  // raises SIGPIPE, whose default ends the process. It must be an error (EPIPE) to reconnect on.
  static std::once_flag no_sigpipe;
  std::call_once(no_sigpipe, [] { std::signal(SIGPIPE, SIG_IGN); });
  const std::string where = o.address.url();
  redisContext* c =
      redisConnectWithTimeout(o.address.host.c_str(), o.address.port, to_timeval(o.timeout));
  if (c == nullptr) return queue_unavailable("cannot connect to " + where);
  if (c->err) {
    std::string why = c->errstr;
    redisFree(c);
    return queue_unavailable(where + ": " + why);
  }
  redisEnableKeepAlive(c);
  // A blocking subscriber waits for messages without a read timeout; commands keep theirs.
  redisSetTimeout(c, with_timeout ? to_timeval(o.timeout) : timeval{0, 0});
  if (o.address.db != 0) {
    auto* r = static_cast<redisReply*>(redisCommand(c, "SELECT %d", o.address.db));
    bool ok = r != nullptr && r->type != REDIS_REPLY_ERROR;
    std::string why = r == nullptr ? c->errstr : std::string(r->str, r->len);
    if (r != nullptr) freeReplyObject(r);
    if (!ok) {
      redisFree(c);
      return queue_unavailable(where + ": SELECT: " + why);
    }
  }
  return c;
}

Result<RedisReply> redis_command(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(args.size()), args.data(), lens.data()));
  if (r == nullptr) return queue_unavailable(argv[0] + ": " + c->errstr);
  RedisReply reply = RedisReply::from(*r);
  freeReplyObject(r);
  return reply;
}

RedisConnection::RedisConnection(RedisConnectionOptions options) : options_(std::move(options)) {}

RedisConnection::~RedisConnection() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  fail_pending("shutting down");
  if (ctx_ != nullptr) redisFree(ctx_);
}

void RedisConnection::start() {
  thread_ = std::thread([this] { run(); });
}

bool RedisConnection::await_up(std::chrono::milliseconds ms) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, ms, [&] { return up_.load() || stopping_; }) && up_;
}

bool RedisConnection::connect_once(std::string& why) {
  auto c = redis_connect(options_, true);
  if (!c) {
    why = c.error().message;
    return false;
  }
  Status st;
  for (const RedisScript* s : options_.scripts) {
    auto r = redis_command(c.value(), {"SCRIPT", "LOAD", s->source});
    if (!r)
      st = r.error();
    else if (r->is_error())
      st = queue_unavailable("SCRIPT LOAD " + s->name + ": " + r->str);
    if (!st) break;
  }
  if (st && options_.on_connect) st = options_.on_connect(c.value());
  if (!st) {
    redisFree(c.value());
    why = st.error().message;
    return false;
  }
  std::lock_guard lock(mu_);
  ctx_ = c.value();
  up_ = true;
  cv_.notify_all();
  return true;
}

void RedisConnection::submit(Request r) {
  {
    std::lock_guard lock(mu_);
    if (up_ && !stopping_) {
      pending_.push_back(std::move(r));
      cv_.notify_all();  // the thread, and not only an await_up() waiter
      return;
    }
  }
  r.done(queue_unavailable("not connected to " + options_.address.url()));
}

void RedisConnection::send(std::vector<std::string> argv, Done done) {
  submit(Request{std::move(argv), nullptr, std::move(done)});
}

void RedisConnection::eval(const RedisScript& script, std::vector<std::string> args, Done done) {
  args.insert(args.begin(), {"EVALSHA", script.sha, "0"});
  submit(Request{std::move(args), &script, std::move(done)});
}

Result<RedisReply> RedisConnection::wait(Request r) {
  struct Slot {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<Result<RedisReply>> reply;
  };
  auto slot = std::make_shared<Slot>();
  r.done = [slot](Result<RedisReply> reply) {
    std::lock_guard lock(slot->mu);
    slot->reply.emplace(std::move(reply));
    slot->cv.notify_all();
  };
  submit(std::move(r));
  std::unique_lock lock(slot->mu);
  // The thread's own timeouts answer first; this only guards against a thread that is stuck.
  if (!slot->cv.wait_for(lock, options_.timeout * 2 + std::chrono::milliseconds(100),
                         [&] { return slot->reply.has_value(); }))
    return queue_unavailable("no answer from " + options_.address.url() + " in time");
  return std::move(*slot->reply);
}

Result<RedisReply> RedisConnection::call(std::vector<std::string> argv) {
  return wait(Request{std::move(argv), nullptr, nullptr});
}

Result<RedisReply> RedisConnection::call(const RedisScript& script, std::vector<std::string> args) {
  args.insert(args.begin(), {"EVALSHA", script.sha, "0"});
  return wait(Request{std::move(args), &script, nullptr});
}

void RedisConnection::run() {
  auto backoff = options_.backoff_min;
  std::vector<Request> batch;
  bool ever = false;
  std::string last_why;
  for (;;) {
    if (ctx_ == nullptr) {
      std::string why;
      bool ok = connect_once(why);
      std::unique_lock lock(mu_);
      if (stopping_) return;
      if (!ok) {
        if (why != last_why) spdlog::warn("redis queue: {}; trying again", why);
        last_why = why;
        cv_.wait_for(lock, backoff, [&] { return stopping_; });
        backoff = std::min(backoff * 2, options_.backoff_max);
        continue;
      }
      backoff = options_.backoff_min;
      last_why.clear();
      spdlog::info("redis queue: connected {}to {}", ever ? "again " : "", options_.address.url());
      ever = true;
      if (options_.on_up) options_.on_up();
    }
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (stopping_) return;
      while (!pending_.empty() && batch.size() < kMaxPipeline) {
        batch.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
    }
    exchange(batch);
    batch.clear();
  }
}

bool RedisConnection::exchange(std::vector<Request>& batch) {
  for (const Request& r : batch) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : r.argv) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data());
  }
  std::vector<Request> again;
  for (size_t i = 0; i < batch.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
      std::string why = options_.address.url() + ": " + ctx_->errstr;
      drop(why);
      for (size_t j = i; j < batch.size(); ++j) batch[j].done(queue_unavailable(why));
      for (auto& r : again) r.done(queue_unavailable(why));
      return false;
    }
    RedisReply reply = RedisReply::from(*static_cast<redisReply*>(raw));
    freeReplyObject(raw);
    Request& r = batch[i];
    if (r.script != nullptr && reply.is_error() && reply.str.rfind("NOSCRIPT", 0) == 0) {
      r.argv[0] = "EVAL";
      r.argv[1] = r.script->source;
      again.push_back(std::move(r));
      continue;
    }
    r.done(std::move(reply));
  }
  return again.empty() || exchange(again);
}

void RedisConnection::drop(const std::string& why) {
  spdlog::warn("redis queue: lost the connection ({}); reconnecting", why);
  {
    std::lock_guard lock(mu_);
    up_ = false;
  }
  redisFree(ctx_);
  ctx_ = nullptr;
  fail_pending(why);  // queued behind the broken exchange: they must not wait for a reconnect
}

void RedisConnection::fail_pending(const std::string& why) {
  std::deque<Request> failed;
  {
    std::lock_guard lock(mu_);
    failed.swap(pending_);
  }
  for (auto& r : failed) r.done(queue_unavailable(why));
}

}  // namespace sealhook
