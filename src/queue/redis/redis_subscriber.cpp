#include "queue/redis/redis_subscriber.hpp"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

namespace sealhook {

RedisSubscriber::RedisSubscriber(RedisConnectionOptions options, std::string channel,
                                 std::function<void()> on_message)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      on_message_(std::move(on_message)),
      thread_([this] { run(); }) {}

RedisSubscriber::~RedisSubscriber() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    // Ends the blocking read: the thread sees the error, then `stopping_`.
    if (ctx_ != nullptr) ::shutdown(ctx_->fd, SHUT_RDWR);
  }
  cv_.notify_all();
  thread_.join();
}

void RedisSubscriber::run() {
  auto backoff = options_.backoff_min;
  for (;;) {
    auto c = redis_connect(options_, false);
    {
      std::unique_lock lock(mu_);
      if (stopping_) {
        if (c) redisFree(c.value());
        return;
      }
      if (!c) {
        cv_.wait_for(lock, backoff, [&] { return stopping_; });
        backoff = std::min(backoff * 2, options_.backoff_max);
        continue;
      }
      ctx_ = c.value();
    }
    backoff = options_.backoff_min;
    listen(c.value());
    std::lock_guard lock(mu_);
    redisFree(ctx_);
    ctx_ = nullptr;
    if (stopping_) return;
  }
}

void RedisSubscriber::listen(redisContext* c) {
  const char* argv[] = {"SUBSCRIBE", channel_.c_str()};
  size_t lens[] = {9, channel_.size()};
  auto* r = static_cast<redisReply*>(redisCommandArgv(c, 2, argv, lens));
  if (r == nullptr) return;
  freeReplyObject(r);
  on_message_();  // whatever was pushed while this connection was not listening
  for (;;) {
    void* raw = nullptr;
    if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) {
      std::lock_guard lock(mu_);
      if (!stopping_)
        spdlog::warn("redis: the connection subscribed to {} broke ({}); reconnecting", channel_,
                     c->errstr);
      return;
    }
    freeReplyObject(raw);
    on_message_();
  }
}

}  // namespace sealhook
