#pragma once
// A Lua script of the redis queue, called by its SHA1 (EVALSHA); the connection sends the
// source (EVAL) when Redis answers NOSCRIPT, which is how a restarted or flushed Redis gets it.
#include <string>
#include <vector>

namespace sealhook {

struct RedisScript {
  std::string name;
  std::string source;
  std::string sha;  // lowercase hex SHA1 of the source, as Redis names it

  RedisScript(std::string script_name, std::string script_source);
};

// The queue's scripts: each is common.lua followed by its own file (src/queue/redis/lua/).
struct RedisQueueScripts {
  RedisScript push, lease, settle, reclaim, holding, ordering, gen, stats, rate;
  std::vector<const RedisScript*> all() const;
  static const RedisQueueScripts& get();
};

}  // namespace sealhook
