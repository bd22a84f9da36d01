#include "queue/redis/redis_script.hpp"

#include <openssl/evp.h>

#include "queue/redis/redis_lua.hpp"

namespace sealhook {
namespace {

std::string sha1_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xf]);
  }
  return out;
}

RedisScript with_common(const char* name, const char* body) {
  return RedisScript(name, std::string(redis_lua::kCommon) + "\n" + body);
}

}  // namespace

RedisScript::RedisScript(std::string script_name, std::string script_source)
    : name(std::move(script_name)), source(std::move(script_source)), sha(sha1_hex(source)) {}

const RedisQueueScripts& RedisQueueScripts::get() {
  static const RedisQueueScripts scripts{
      with_common("push", redis_lua::kPush),       with_common("lease", redis_lua::kLease),
      with_common("settle", redis_lua::kSettle),   with_common("reclaim", redis_lua::kReclaim),
      with_common("holding", redis_lua::kHolding), with_common("ordering", redis_lua::kOrdering),
      with_common("gen", redis_lua::kGen),         with_common("stats", redis_lua::kStats),
      with_common("rate", redis_lua::kRate),
  };
  return scripts;
}

std::vector<const RedisScript*> RedisQueueScripts::all() const {
  return {&push, &lease, &settle, &reclaim, &holding, &ordering, &gen, &stats, &rate};
}

}  // namespace sealhook
