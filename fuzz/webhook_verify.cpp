// Standard Webhooks: the receiver's handling of a delivery (webhook-id, webhook-timestamp and
// webhook-signature headers, the signature check, then the JWE), plus the secret and
// signature parsers on their own. The receiver must answer every request, never crash.
// Input: four lines, "id\ntimestamp\nsignature\n" then the body. A signature line "sign"
// is replaced by the body's real signature, so that the fuzzer gets past the check.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "crypto/signature.hpp"
#include "fixed_keys.hpp"
#include "receiver/receiver.hpp"

namespace {

using namespace sealhook;

constexpr std::string_view kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr int64_t kNowMs = 1'700'000'000'000;

receiver::ReceiverOptions options() {
  receiver::ReceiverOptions o;
  auto key = crypto::PrivateKey::from_pem(fuzz::kX25519Pem);
  if (!key) std::abort();
  o.keys.push_back(std::move(*key));
  o.secrets.emplace_back(kSecret);
  o.seed = 1;
  return o;
}

std::string_view line(std::string_view& in) {
  size_t nl = in.find('\n');
  std::string_view out = in.substr(0, nl);
  in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const receiver::ReceiverOptions opts = options();
  static const crypto::SigningSecret secret = crypto::SigningSecret::parse(kSecret).value();
  static const ManualClock clock(kNowMs);
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view id = line(in), ts = line(in), sig = line(in);
  int64_t t = 0;
  (void)std::from_chars(ts.data(), ts.data() + ts.size(), t);
  (void)crypto::SigningSecret::parse(id);
  net::Request req{boost::beast::http::verb::post, "/webhooks", 11};
  req.set("webhook-id", id);
  req.set("webhook-timestamp", ts);
  if (sig == "sign")
    req.set("webhook-signature", secret.sign(id, t, in));
  else
    req.set("webhook-signature", sig);
  req.body() = std::string(in);
  (void)secret.verify(id, t, in, sig);
  receiver::Receiver r(opts, clock, [](const std::string&) {});
  net::Response res = r.handle(req);
  if (res.result_int() >= 500 && res.result_int() != 503) std::abort();
  return 0;
}
