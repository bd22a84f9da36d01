#include "app/receive_config.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/cli_option.hpp"
#include "crypto/jwe.hpp"
#include "crypto/signature.hpp"
#include "publish/event_plaintext.hpp"

namespace sealhook::app {
namespace {

constexpr std::string_view kEnv = "SEALHOOK_RECEIVE_";
constexpr size_t kLargestPayload = size_t{64} << 20;  // serve's --max-payload-bytes bound

template <class T>
CLI::Option* opt(CLI::App& cmd, const std::string& name, T& var, const std::string& help) {
  return env_option(cmd, kEnv, name, var, help);
}

Error invalid(std::string message) {
  return make_error(ErrorKind::kBadRequest, "invalid_config", std::move(message));
}

const char* const kSecretShape =
    "a signing secret is whsec_ followed by the base64 of 24 to 64 bytes: the \"secret\" that "
    "POST /v1/endpoints answered";

// A secret file may appear after the start (it is re-read), but one that is there must hold
// secrets only.
Status check_secret_file(const std::string& path) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) return {};
  if (std::filesystem::is_directory(status))
    return invalid("--secret-file " + path + " is a directory, not a file of secrets");
  std::ifstream in(path);
  if (!in) return invalid("--secret-file " + path + " cannot be read");
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    std::istringstream words(line);
    std::string secret, extra;
    if (!(words >> secret)) continue;  // blank lines are allowed
    if ((words >> extra) || !crypto::SigningSecret::parse(secret))
      return invalid("--secret-file " + path + " line " + std::to_string(number) +
                     " is not a signing secret; " + kSecretShape);
  }
  return {};
}

}  // namespace

void add_receive_options(CLI::App& cmd, ReceiveConfig& c) {
  receiver::ReceiverOptions& r = c.receiver;
  opt(cmd, "config", c.config_file, "TOML file with any of these options (keys as flag names)");
  opt(cmd, "listen", c.listen, "address:port to listen on");
  opt(cmd, "key", c.key_files,
      "private key file (PEM or JWK); repeat for rotation. Required (flag, environment or "
      "config file)");
  // The endpoint's signing secret (the "secret" of POST /v1/endpoints): without one nothing
  // can be verified, so one of the two is required (checked after the config file).
  auto* secrets = cmd.add_option_group("signing secret",
                                       "the endpoint's whsec_ secret: one of these is required");
  opt(*secrets, "secret", r.secrets, "endpoint signing secret whsec_...; repeat during a rotation")
      ->delimiter(',');
  opt(*secrets, "secret-file", r.secret_file,
      "file with one whsec_ secret per line, re-read when it changes (may appear later)");
  opt(cmd, "fail-rate", r.fail_rate, "answer 500 to this fraction of requests")
      ->check(CLI::Range(0.0, 1.0));
  opt(cmd, "delay-ms", r.delay_ms, "wait this long before answering")
      ->check(CLI::Range(0, 600'000));
  opt(cmd, "tolerance-s", r.tolerance_s,
      "largest accepted difference between webhook-timestamp and this clock, in seconds")
      ->check(CLI::Range(int64_t{1}, int64_t{86'400}));
  opt(cmd, "seed", r.seed, "seed for --fail-rate (0: random)");
  opt(cmd, "threads", c.threads, "worker threads")->check(CLI::Range(1, 256));
  opt(cmd, "max-payload-bytes", c.max_payload_bytes,
      "largest event payload taken: the server's --max-payload-bytes (the request body may be "
      "its JWE, about 4/3 of it, plus the envelope)")
      ->check(CLI::Range(size_t{1}, kLargestPayload));
}

Status validate(const ReceiveConfig& c) {
  if (c.key_files.empty())
    return invalid(
        "receive needs --key: the private key file (PEM or JWK) of the public key "
        "the tenant uploaded");
  if (c.receiver.secrets.empty() && c.receiver.secret_file.empty())
    return invalid(
        "receive needs the endpoint's signing secret: --secret whsec_... or "
        "--secret-file FILE");
  for (size_t i = 0; i < c.receiver.secrets.size(); ++i)
    if (!crypto::SigningSecret::parse(c.receiver.secrets[i]))
      return invalid("--secret number " + std::to_string(i + 1) + " is not a signing secret; " +
                     kSecretShape);
  if (!c.receiver.secret_file.empty()) return check_secret_file(c.receiver.secret_file);
  return {};
}

size_t receive_body_limit(size_t max_payload_bytes) {
  return crypto::jwe_compact_bound(event_plaintext_bound(max_payload_bytes));
}

}  // namespace sealhook::app
