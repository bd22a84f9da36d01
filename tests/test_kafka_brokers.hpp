#pragma once
// The test Kafka broker, for every test that needs a real one: SEALHOOK_TEST_KAFKA (a bootstrap
// list, HOST:PORT[,...]), else the KAFKA_BROKERS line of SEALHOOK_TEST_KAFKA_ENV (the file
// scripts/start-kafka.sh --env-file wrote, set by the ctest fixture `kafka`); "" when neither is
// set.
#include <cstdlib>
#include <fstream>
#include <string>

namespace sealhook::testing {

// The value of `export NAME=` in the fixture's env file; "" without one.
inline std::string test_kafka_env(const std::string& name) {
  const char* file = std::getenv("SEALHOOK_TEST_KAFKA_ENV");
  if (file == nullptr) return "";
  std::ifstream in(file);
  const std::string key = "export " + name + "=";
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key, 0) == 0) return line.substr(key.size());
  return "";
}

inline std::string test_kafka_brokers() {
  if (const char* brokers = std::getenv("SEALHOOK_TEST_KAFKA")) return brokers;
  return test_kafka_env("KAFKA_BROKERS");
}

}  // namespace sealhook::testing
