#pragma once
// A command line parsed like main() parses it, and TOML files in a scratch directory.
#include <gtest/gtest.h>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "app/config_file.hpp"

namespace sealhook::app::testing {

// One option's case in a command's TOML table: a line setting it (to a value other than the
// default) and whether a parsed config took it.
template <class Config>
struct TomlCase {
  std::string toml;
  std::function<bool(const Config&)> took;
};

// Parses `args` (without the program name) as the command's flags.
inline void parse(CLI::App& cmd, std::vector<std::string> args = {}) {
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  cmd.parse(args);
}

// The long names of the options a config file may set (all but --help and --config),
// including those of option groups.
inline std::vector<std::string> settable_options(CLI::App& cmd) {
  std::vector<std::string> names;
  for (const CLI::Option* o : cmd.get_options()) {
    const std::string& name = o->get_lnames().front();
    if (name != "help" && name != "config") names.push_back(name);
  }
  for (CLI::App* group : cmd.get_subcommands([](CLI::App* s) { return s->get_name().empty(); }))
    for (auto& name : settable_options(*group)) names.push_back(name);
  return names;
}

class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("sealhook-" + std::string(info->test_suite_name()) + "-" + info->name() + "-" +
            std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~ScratchDir() { std::filesystem::remove_all(dir_); }
  const std::filesystem::path& path() const { return dir_; }

  std::string write(const std::string& name, const std::string& text) const {
    auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

 private:
  std::filesystem::path dir_;
};

}  // namespace sealhook::app::testing
