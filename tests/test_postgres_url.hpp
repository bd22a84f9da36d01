#pragma once
// The test PostgreSQL server's URL, for every test that needs a real one: SEALHOOK_TEST_POSTGRES
// (a URL), else the POSTGRES_URL line of SEALHOOK_TEST_POSTGRES_ENV (the file
// scripts/start-postgres.sh --env-file wrote, set by the ctest fixture `postgres`); "" when
// neither is set.
#include "test_service_url.hpp"

namespace sealhook::testing {

inline std::string test_postgres_url() {
  return test_service_url("SEALHOOK_TEST_POSTGRES", "SEALHOOK_TEST_POSTGRES_ENV", "POSTGRES_URL");
}

}  // namespace sealhook::testing
