#pragma once
// The TOML config file of a subcommand (`--config`). Each top-level key names one of the
// command's options (the flag name, with '_' or '-'); its value goes through the same
// conversion and checks as the flag. Strings, integers and floats are taken by any option
// that converts them, booleans by on/off flags only, arrays by options that take a list (an
// empty array leaves the option at its default).
// Values fill in only the options that neither a flag nor an environment variable set.
#include <CLI/CLI.hpp>
#include <string>

#include "core/result.hpp"

namespace sealhook::app {

// Refuses a path that is missing, a directory or unreadable, invalid TOML, an unknown key and
// a value of the wrong type before any option is touched; then a value the option's own
// checks refuse. Every message names the file and the key.
Status apply_config_file(CLI::App& cmd, const std::string& path);

// apply_config_file() with the path of the command's --config option when it was given (as a
// flag or through its environment variable); an empty path is refused.
Status apply_config_option(CLI::App& cmd);

}  // namespace sealhook::app
