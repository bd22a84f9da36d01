#pragma once
// One option of a subcommand as every sealhook command spells it: a flag `--NAME`, an
// environment variable PREFIX + NAME (upper case, '-' as '_'), the TOML key NAME (see
// config_file.hpp) and its default shown in --help.
#include <CLI/CLI.hpp>
#include <cctype>
#include <string>
#include <string_view>

namespace sealhook::app {

// "SEALHOOK_" + "max-attempts" -> "SEALHOOK_MAX_ATTEMPTS".
inline std::string env_name(std::string_view prefix, std::string_view name) {
  std::string env(prefix);
  for (char c : name) env.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(c)));
  return env;
}

template <class T>
CLI::Option* env_option(CLI::App& cmd, std::string_view env_prefix, const std::string& name, T& var,
                        const std::string& help) {
  return cmd.add_option("--" + name, var, help)
      ->envname(env_name(env_prefix, name))
      ->capture_default_str();
}

inline CLI::Option* env_flag(CLI::App& cmd, std::string_view env_prefix, const std::string& name,
                             bool& var, const std::string& help) {
  return cmd.add_flag("--" + name, var, help)->envname(env_name(env_prefix, name));
}

}  // namespace sealhook::app
