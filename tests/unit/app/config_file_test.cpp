// The TOML -> option mapping on a small command of its own: types, precedence, refusals.
#include "app/config_file.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

#include "app/cli_option.hpp"
#include "config_test_util.hpp"

namespace sealhook::app {
namespace {

using testing::parse;
using testing::ScratchDir;

struct Options {
  std::string config, name = "default";
  int count = 6;
  size_t bytes = 1024;
  double ratio = 0.2;
  bool on = false;
  std::string list;
  std::vector<std::string> items;
};

class ConfigFile : public ::testing::Test {
 protected:
  ConfigFile() {
    env_option(cmd_, kPrefix, "config", o_.config, "");
    env_option(cmd_, kPrefix, "name", o_.name, "");
    env_option(cmd_, kPrefix, "count", o_.count, "")->check(CLI::Range(1, 50));
    env_option(cmd_, kPrefix, "bytes", o_.bytes, "");
    env_option(cmd_, kPrefix, "ratio", o_.ratio, "")->check(CLI::Range(0.0, 0.99));
    env_flag(cmd_, kPrefix, "on", o_.on, "");
    env_option(cmd_, kPrefix, "list", o_.list, "")
        ->delimiter(',')
        ->multi_option_policy(CLI::MultiOptionPolicy::Join);
    env_option(cmd_, kPrefix, "items", o_.items, "");
  }

  // The error message of applying `toml`, "" when it applied.
  std::string apply(const std::string& toml, std::vector<std::string> args = {}) {
    parse(cmd_, std::move(args));
    auto st = apply_config_file(cmd_, dir_.write("c.toml", toml));
    return st ? "" : st.error().message;
  }

  static constexpr const char* kPrefix = "SEALHOOK_CONFIG_TEST_";
  ScratchDir dir_;
  CLI::App cmd_;
  Options o_;
};

TEST_F(ConfigFile, TakesEachTomlType) {
  EXPECT_EQ(apply("count = 3\nbytes = 2048\nratio = 0.5\non = true\nname = 'x'\n"
                  "list = ['10.0.0.0/8', 'fd00::/8']\nitems = ['a', 'b']\n"),
            "");
  EXPECT_EQ(o_.count, 3);
  EXPECT_EQ(o_.bytes, 2048u);
  EXPECT_EQ(o_.ratio, 0.5);
  EXPECT_TRUE(o_.on);
  EXPECT_EQ(o_.name, "x");
  EXPECT_EQ(o_.list, "10.0.0.0/8,fd00::/8");
  EXPECT_EQ(o_.items, (std::vector<std::string>{"a", "b"}));
}

TEST_F(ConfigFile, TakesNumbersAsTextAndAListAsOneString) {
  EXPECT_EQ(apply("count = '7'\nname = 42\nratio = 1e-3\nlist = '10.0.0.0/8,fd00::/8'\n"), "");
  EXPECT_EQ(o_.count, 7);
  EXPECT_EQ(o_.name, "42");
  EXPECT_EQ(o_.ratio, 0.001);
  EXPECT_EQ(o_.list, "10.0.0.0/8,fd00::/8");
}

TEST_F(ConfigFile, FalseTurnsAFlagOff) {
  EXPECT_EQ(apply("on = false\n"), "");
  EXPECT_FALSE(o_.on);
}

TEST_F(ConfigFile, RefusesValuesOfTheWrongTypeNamingTheKey) {
  const std::pair<const char*, const char*> cases[] = {{"count = true", "count"},
                                                       {"count = 3.0", "count"},
                                                       {"count = 3.5", "count"},
                                                       {"on = 1", "on"},
                                                       {"on = 'yes'", "on"},
                                                       {"name = ['a', 'b']", "name"},
                                                       {"items = [['a']]", "items"},
                                                       {"items = [true]", "items"},
                                                       {"count = 1979-05-27", "count"},
                                                       {"name = { a = 1 }", "name"},
                                                       {"[count]\nx = 1", "count"},
                                                       {"bytes = -1", "bytes"}};
  for (const auto& [bad, key] : cases) {
    CLI::App cmd;
    Options o;
    env_option(cmd, kPrefix, "count", o.count, "");
    env_option(cmd, kPrefix, "bytes", o.bytes, "")->check(CLI::Range(size_t{1}, size_t{1} << 30));
    env_flag(cmd, kPrefix, "on", o.on, "");
    env_option(cmd, kPrefix, "name", o.name, "");
    env_option(cmd, kPrefix, "items", o.items, "");
    parse(cmd);
    auto st = apply_config_file(cmd, dir_.write("bad.toml", std::string(bad) + "\n"));
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.error().message.find(std::string("'") + key + "'"), std::string::npos)
        << bad << ": " << st.error().message;
    EXPECT_NE(st.error().message.find("bad.toml"), std::string::npos) << st.error().message;
  }
}

TEST_F(ConfigFile, AFileWithOneBadKeyAppliesNone) {
  EXPECT_NE(apply("name = 'changed'\ncount = true\n").find("'count'"), std::string::npos);
  EXPECT_EQ(o_.name, "default");
}

TEST_F(ConfigFile, RefusesWhatTheOptionsChecksRefuse) {
  EXPECT_NE(apply("count = 0\n").find("count"), std::string::npos);
  EXPECT_NE(apply("ratio = 1.5\n").find("ratio"), std::string::npos);
}

TEST_F(ConfigFile, RefusesUnknownKeysTheConfigKeyAndAnOptionNamedTwice) {
  EXPECT_NE(apply("no_such = 1\n").find("unknown option 'no_such'"), std::string::npos);
  EXPECT_NE(apply("config = 'other.toml'\n").find("unknown option 'config'"), std::string::npos);
  EXPECT_NE(apply("help = true\n").find("unknown option 'help'"), std::string::npos);
  EXPECT_NE(apply("COUNT = 3\n").find("unknown option 'COUNT'"), std::string::npos);
}

TEST_F(ConfigFile, RefusesOneOptionUnderBothSpellings) {
  CLI::App cmd;
  int n = 0;
  env_option(cmd, kPrefix, "max-count", n, "");
  parse(cmd);
  auto st = apply_config_file(cmd, dir_.write("two.toml", "max-count = 1\nmax_count = 2\n"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("given twice"), std::string::npos) << st.error().message;
}

TEST_F(ConfigFile, AFlagAndAnEnvironmentVariableBeatTheFile) {
  ::setenv("SEALHOOK_CONFIG_TEST_BYTES", "4096", 1);
  EXPECT_EQ(apply("count = 3\nbytes = 2048\nname = 'file'\n", {"--count", "9"}), "");
  ::unsetenv("SEALHOOK_CONFIG_TEST_BYTES");
  EXPECT_EQ(o_.count, 9);
  EXPECT_EQ(o_.bytes, 4096u);
  EXPECT_EQ(o_.name, "file");
}

TEST_F(ConfigFile, AMissingFileADirectoryAndBadTomlAreErrors) {
  parse(cmd_);
  auto missing = apply_config_file(cmd_, (dir_.path() / "nope.toml").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("does not exist"), std::string::npos);
  auto directory = apply_config_file(cmd_, dir_.path().string());
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.error().message.find("is a directory"), std::string::npos);
  auto bad = apply_config_file(cmd_, dir_.write("bad.toml", "count = = 3\n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("line 1"), std::string::npos) << bad.error().message;
}

TEST_F(ConfigFile, TheConfigOptionIsAppliedOnlyWhenGivenAndNeverEmpty) {
  parse(cmd_);
  EXPECT_TRUE(apply_config_option(cmd_).ok());  // not given: nothing to read
  CLI::App cmd;
  std::string config;
  env_option(cmd, kPrefix, "config", config, "");
  parse(cmd, {"--config", ""});
  auto st = apply_config_option(cmd);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("--config needs"), std::string::npos);
}

}  // namespace
}  // namespace sealhook::app
