#include "queue/redis/redis_reply.hpp"

#include <hiredis/hiredis.h>

#include <charconv>

namespace sealhook {

RedisReply RedisReply::from(const redisReply& r) {
  RedisReply out;
  switch (r.type) {
    case REDIS_REPLY_INTEGER:
      out.type = Type::kInteger;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      out.type = r.type == REDIS_REPLY_STRING   ? Type::kString
                 : r.type == REDIS_REPLY_STATUS ? Type::kStatus
                                                : Type::kError;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Type::kArray;
      out.elements.reserve(r.elements);
      for (size_t i = 0; i < r.elements; ++i) out.elements.push_back(from(*r.element[i]));
      break;
    default:
      break;
  }
  return out;
}

int64_t RedisReply::as_int() const {
  if (type == Type::kInteger) return integer;
  int64_t v = 0;
  std::from_chars(str.data(), str.data() + str.size(), v);
  return v;
}

Error queue_unavailable(const std::string& why) {
  return make_error(ErrorKind::kUnavailable, "queue_unavailable",
                    "the delivery queue (redis) is unavailable: " + why);
}

}  // namespace sealhook
