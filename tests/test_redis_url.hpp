#pragma once
// The test redis-server's URL, for every test that needs a real one: SEALHOOK_TEST_REDIS (a URL),
// else the REDIS_URL line of SEALHOOK_TEST_REDIS_ENV (the file scripts/start-redis.sh --env-file
// wrote, set by the ctest fixture `redis`); "" when neither is set.
#include "test_service_url.hpp"

namespace sealhook::testing {

inline std::string test_redis_url() {
  return test_service_url("SEALHOOK_TEST_REDIS", "SEALHOOK_TEST_REDIS_ENV", "REDIS_URL");
}

}  // namespace sealhook::testing
