#pragma once
// The work nudge across processes: a connection of its own, subscribed to one channel, on a
// thread that blocks in a read (no polling). Each message, and each (re)subscription (work may
// have come while it was away), calls the listener. It reconnects with a growing backoff.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "queue/redis/redis_connection.hpp"

namespace sealhook {

class RedisSubscriber {
 public:
  RedisSubscriber(RedisConnectionOptions options, std::string channel,
                  std::function<void()> on_message);
  ~RedisSubscriber();
  RedisSubscriber(const RedisSubscriber&) = delete;
  RedisSubscriber& operator=(const RedisSubscriber&) = delete;

 private:
  void run();
  // Subscribes on `c` and reads until the connection breaks or the subscriber stops.
  void listen(redisContext* c);

  RedisConnectionOptions options_;
  std::string channel_;
  std::function<void()> on_message_;
  std::mutex mu_;
  std::condition_variable cv_;
  redisContext* ctx_ = nullptr;  // the one being read, shut down to stop the thread
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sealhook
