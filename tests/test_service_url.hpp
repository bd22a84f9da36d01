#pragma once
// Where a test service is (tests/test_redis_url.hpp, tests/test_postgres_url.hpp): the URL in
// environment variable `url_var`, else the `key` line (export KEY=...) of the file named by
// `env_file_var` (what a scripts/start-*.sh --env-file wrote, set by its ctest fixture); ""
// when neither is set.
#include <cstdlib>
#include <fstream>
#include <string>

namespace sealhook::testing {

inline std::string test_service_url(const char* url_var, const char* env_file_var,
                                    const std::string& key) {
  if (const char* url = std::getenv(url_var)) return url;
  if (const char* file = std::getenv(env_file_var)) {
    std::ifstream in(file);
    const std::string prefix = "export " + key + "=";
    for (std::string line; std::getline(in, line);)
      if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
  }
  return "";
}

}  // namespace sealhook::testing
