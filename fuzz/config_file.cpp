// The TOML config file: toml++ parses it, each key is matched to a `serve` option and its
// value goes through CLI11's conversion and checks, then the cross-field validation.
// Input: the file's text.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "app/config.hpp"

namespace {

// apply_config_file reads a path: one scratch file per process, rewritten for each input.
const std::string& scratch_path();

void remove_scratch() { ::unlink(scratch_path().c_str()); }

const std::string& scratch_path() {
  static const std::string path = "/tmp/sealhook-fuzz-config-" + std::to_string(getpid()) + ".toml";
  static const bool cleanup = std::atexit(remove_scratch) == 0;  // after `path`: runs first
  (void)cleanup;
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = scratch_path();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  CLI::App app;
  sealhook::app::ServeConfig cfg;
  sealhook::app::add_serve_options(app, cfg);
  if (sealhook::app::apply_config_file(app, path)) (void)sealhook::app::validate(cfg);
  return 0;
}
