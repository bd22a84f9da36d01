#pragma once
// A Redis reply as a value, copied out of hiredis's reply object on the connection thread.
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hpp"

struct redisReply;

namespace sealhook {

struct RedisReply {
  enum class Type { kNil, kInteger, kString, kStatus, kError, kArray };
  Type type = Type::kNil;
  int64_t integer = 0;
  std::string str;  // kString, kStatus, kError
  std::vector<RedisReply> elements;

  static RedisReply from(const redisReply& r);
  bool is_error() const { return type == Type::kError; }
  // The element as a number: integers as they are, strings parsed (0 when neither).
  int64_t as_int() const;
};

// The queue could not reach Redis, or Redis did not answer in time: HTTP 503 `queue_unavailable`.
Error queue_unavailable(const std::string& why);

}  // namespace sealhook
