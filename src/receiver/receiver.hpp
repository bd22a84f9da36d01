#pragma once
// The customer side, as `sealhook receive` runs it: verify the Standard Webhooks signature
// first, then decrypt the JWE with the private key its `kid` names, dedupe on webhook-id.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/clock.hpp"
#include "crypto/jwk.hpp"
#include "crypto/signature.hpp"
#include "net/http_server.hpp"

namespace sealhook::receiver {

struct ReceiverOptions {
  std::vector<crypto::PrivateKey> keys;
  std::vector<std::string> secrets;  // whsec_...
  std::string secret_file;           // re-read when it changes (may appear after start)
  double fail_rate = 0.0;            // answer 500 to this fraction of requests, at random
  int delay_ms = 0;                  // wait before answering
  int64_t tolerance_s = 300;         // webhook-timestamp must be this close to now
  uint64_t seed = 0;                 // 0: random
};

class Receiver {
 public:
  // `emit` gets one JSON line per new event (not for duplicates).
  Receiver(ReceiverOptions options, const Clock& clock,
           std::function<void(const std::string&)> emit);
  net::Response handle(net::Request& req);
  uint64_t received() const;
  uint64_t duplicates() const;

 private:
  std::vector<crypto::SigningSecret> current_secrets();
  bool should_fail();

  ReceiverOptions options_;
  const Clock& clock_;
  std::function<void(const std::string&)> emit_;
  std::map<std::string, const crypto::PrivateKey*> by_kid_;
  mutable std::mutex mu_;
  std::mt19937_64 rng_;
  std::unordered_set<std::string> seen_;
  std::string secret_file_text_;
  uint64_t received_ = 0, duplicates_ = 0;
};

}  // namespace sealhook::receiver
