#pragma once
// The test redis-server's URL, for every test that needs a real one: SEALHOOK_TEST_REDIS (a URL),
// else the REDIS_URL line of SEALHOOK_TEST_REDIS_ENV (the file scripts/start-redis.sh --env-file
// wrote, set by the ctest fixture `redis`); "" when neither is set.
#include <cstdlib>
#include <fstream>
#include <string>

namespace sealhook::testing {

inline std::string test_redis_url() {
  if (const char* url = std::getenv("SEALHOOK_TEST_REDIS")) return url;
  if (const char* file = std::getenv("SEALHOOK_TEST_REDIS_ENV")) {
    std::ifstream in(file);
    const std::string key = "export REDIS_URL=";
    for (std::string line; std::getline(in, line);)
      if (line.rfind(key, 0) == 0) return line.substr(key.size());
  }
  return "";
}

}  // namespace sealhook::testing
