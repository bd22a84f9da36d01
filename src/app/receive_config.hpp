#pragma once
// `receive` options. Precedence as for serve: flags, then SEALHOOK_RECEIVE_* environment
// variables, then the TOML file given by --config, then these defaults.
#include <CLI/CLI.hpp>
#include <cstddef>
#include <string>
#include <vector>

#include "app/config.hpp"
#include "core/result.hpp"
#include "receiver/receiver.hpp"

namespace sealhook::app {

struct ReceiveConfig {
  std::string listen = "127.0.0.1:9000";
  std::vector<std::string> key_files;
  int threads = 4;
  // The largest payload to take: the server's default, so that a default receiver takes all
  // that a default server sends.
  size_t max_payload_bytes = ServeConfig{}.max_payload_bytes;
  std::string config_file;
  receiver::ReceiverOptions receiver;  // the flags fill it in place (keys apart)
};

void add_receive_options(CLI::App& cmd, ReceiveConfig& cfg);
// After parsing and the config file: refuses what could only fail every request (no key, no
// secret, a secret that is not one, a secret file that cannot be one).
Status validate(const ReceiveConfig& cfg);
// The request body bound for payloads up to `max_payload_bytes`: the JWE of the largest
// delivery plaintext around such a payload.
size_t receive_body_limit(size_t max_payload_bytes);

}  // namespace sealhook::app
