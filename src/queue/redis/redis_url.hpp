#pragma once
// Where the redis queue's server is: redis://HOST:PORT/DB (PORT default 6379, DB default 0).
#include <string>

#include "core/result.hpp"

namespace sealhook {

struct RedisAddress {
  std::string host;
  int port = 6379;
  int db = 0;
  std::string url() const;  // redis://HOST:PORT/DB
};

Result<RedisAddress> parse_redis_url(const std::string& url);

}  // namespace sealhook
