#pragma once
// One connection to Redis with a thread of its own (hiredis 0.14's synchronous API). Callers
// on any thread queue commands; the thread sends everything queued as one pipeline, reads the
// replies in order and hands each to its caller. So many io threads' calls share one round
// trip, and nothing but this thread ever waits on the socket.
//
// Failures: every read and write has a timeout; a broken connection fails what was in flight
// (and everything queued) with `queue_unavailable`, and while it is down every call fails at
// once (never hangs) and the thread reconnects with a growing backoff. The connection counts as
// up only once its handshake has passed: SELECT, SCRIPT LOAD of every script, then the owner's
// `on_connect` (the queue's generation check). A script Redis does not know anyway (NOSCRIPT:
// SCRIPT FLUSH) is sent again in full.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/result.hpp"
#include "queue/redis/redis_reply.hpp"
#include "queue/redis/redis_script.hpp"
#include "queue/redis/redis_url.hpp"

struct redisContext;

namespace sealhook {

struct RedisConnectionOptions {
  RedisAddress address;
  std::chrono::milliseconds timeout{1000};  // connect, and each read or write
  std::chrono::milliseconds backoff_min{50};
  std::chrono::milliseconds backoff_max{1000};
  std::vector<const RedisScript*> scripts;  // loaded by each handshake
  // The handshake's last step, on the connection thread, with the new context: an error
  // (Redis LOADING, say) drops it and tries again later.
  std::function<Status(redisContext*)> on_connect;
  // Then, once the connection is up (still on its thread, before any queued call is sent).
  std::function<void()> on_up;
};

// One command on `c`, waiting for its reply (handshakes only: the connection thread's own).
Result<RedisReply> redis_command(redisContext* c, const std::vector<std::string>& argv);

// Connects to `o.address` (and selects its DB): a context, or why not.
Result<redisContext*> redis_connect(const RedisConnectionOptions& o, bool with_timeout);

class RedisConnection {
 public:
  using Done = std::function<void(Result<RedisReply>)>;

  explicit RedisConnection(RedisConnectionOptions options);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Starts the thread, which connects (and reconnects) by itself: Redis may be down at start.
  void start();
  // Waits up to `ms` for the connection to be up; whether it is.
  bool await_up(std::chrono::milliseconds ms);
  // `done` runs on the connection thread, or at once on the caller's when Redis is down; it
  // must not wait for another call on this connection (it would wait for its own thread).
  void send(std::vector<std::string> argv, Done done);
  void eval(const RedisScript& script, std::vector<std::string> args, Done done);
  // The same, waiting for the reply (at most about twice the timeout).
  Result<RedisReply> call(std::vector<std::string> argv);
  Result<RedisReply> call(const RedisScript& script, std::vector<std::string> args);
  bool up() const { return up_; }

 private:
  struct Request {
    std::vector<std::string> argv;
    const RedisScript* script = nullptr;  // set for EVALSHA: resent as EVAL on NOSCRIPT
    Done done;
  };
  void submit(Request r);
  Result<RedisReply> wait(Request r);
  void run();
  // Sends the batch as one pipeline and answers each request; false when the connection broke.
  bool exchange(std::vector<Request>& batch);
  void drop(const std::string& why);
  bool connect_once(std::string& why);  // connect and handshake: ctx_ and up_ set when true
  void fail_pending(const std::string& why);

  RedisConnectionOptions options_;
  redisContext* ctx_ = nullptr;  // the thread's, once started
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Request> pending_;
  bool stopping_ = false;
  std::atomic<bool> up_{false};
  std::thread thread_;
};

}  // namespace sealhook
