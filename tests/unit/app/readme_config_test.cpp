// The README's configuration section holds a complete TOML example; it is read here from
// README.md itself, so the two cannot drift apart.
#include <gtest/gtest.h>

#include <toml++/toml.h>
#include <fstream>
#include <set>
#include <sstream>

#include "app/config.hpp"
#include "config_test_util.hpp"

namespace sealhook::app {
namespace {

using testing::parse;
using testing::ScratchDir;

// The first ```toml block under `heading` ("## Configuration": serve's).
std::string readme_example(const std::string& heading = "## Configuration") {
  std::ifstream in(SEALHOOK_README);
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  const size_t section = readme.find("\n" + heading + "\n");
  if (section == std::string::npos) return "";
  const size_t end_of_section = readme.find("\n## ", section + 1);
  const size_t open = readme.find("\n```toml\n", section);
  if (open == std::string::npos || open > end_of_section) return "";
  const size_t body = open + 9;
  const size_t close = readme.find("\n```\n", body);
  return close == std::string::npos ? "" : readme.substr(body, close - body + 1);
}

TEST(ReadmeConfig, TheExampleLoadsAndPassesValidation) {
  const std::string example = readme_example();
  ASSERT_FALSE(example.empty()) << "no ```toml block in README's Configuration section";
  ScratchDir dir;
  CLI::App cmd;
  ServeConfig cfg;
  add_serve_options(cmd, cfg);
  parse(cmd);
  auto st = apply_config_file(cmd, dir.write("sealhook.toml", example));
  ASSERT_TRUE(st.ok()) << st.error().message;
  auto valid = validate(cfg);
  EXPECT_TRUE(valid.ok()) << valid.error().message;
}

TEST(ReadmeConfig, TheExampleSetsEveryServeOption) {
  auto table = toml::parse(readme_example());
  std::set<std::string> keys;
  for (auto&& [key, value] : table) {
    std::string k(key.str());
    for (char& c : k)
      if (c == '_') c = '-';
    keys.insert(k);
  }
  CLI::App cmd;
  ServeConfig cfg;
  add_serve_options(cmd, cfg);
  for (const auto& name : testing::settable_options(cmd))
    EXPECT_TRUE(keys.contains(name)) << "README's TOML example lacks " << name;
  EXPECT_EQ(keys.size(), testing::settable_options(cmd).size());
}

TEST(ReadmeConfig, TheWorkerExampleLoadsAndPassesTheWorkersValidation) {
  const std::string example = readme_example("## Running several nodes");
  ASSERT_FALSE(example.empty()) << "no ```toml block in README's Running several nodes section";
  ScratchDir dir;
  CLI::App cmd;
  ServeConfig cfg;
  add_worker_options(cmd, cfg);
  parse(cmd);
  auto st = apply_config_file(cmd, dir.write("worker.toml", example));
  ASSERT_TRUE(st.ok()) << st.error().message;
  auto valid = validate_worker(cfg);
  EXPECT_TRUE(valid.ok()) << valid.error().message;
  auto table = toml::parse(example);
  for (const char* key : {"metrics-listen", "reconcile-after-ms", "queue", "redis", "store"})
    EXPECT_TRUE(table.contains(key)) << "README's worker example lacks " << key;
}

}  // namespace
}  // namespace sealhook::app
