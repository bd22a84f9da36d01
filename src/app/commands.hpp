#pragma once
// The subcommands, each registered on the top-level CLI by main.cpp.
#include <CLI/CLI.hpp>
#include <functional>

namespace sealhook::app {

// Each adds its subcommand and returns the function to run when it was chosen.
std::function<int()> add_serve_command(CLI::App& app);
std::function<int()> add_worker_command(CLI::App& app);
std::function<int()> add_keygen_command(CLI::App& app);
std::function<int()> add_receive_command(CLI::App& app);

}  // namespace sealhook::app
