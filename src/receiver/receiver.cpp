#include "receiver/receiver.hpp"

#include "core/json_text.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "crypto/jwe.hpp"

namespace sealhook::receiver {
namespace {

net::Response answer(unsigned status, std::string_view code, std::string message) {
  return net::error_response(make_error(status == 401   ? ErrorKind::kUnauthorized
                                        : status == 503 ? ErrorKind::kUnavailable
                                        : status == 500 ? ErrorKind::kInternal
                                                        : ErrorKind::kBadRequest,
                                        std::string(code), std::move(message)));
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// |now_s - ts| <= tolerance_s for every ts the header can hold (INT64_MIN too: the
// difference is taken in uint64_t, where it always fits).
bool is_fresh(int64_t now_s, int64_t ts, int64_t tolerance_s) {
  const auto now = static_cast<uint64_t>(now_s), t = static_cast<uint64_t>(ts);
  const uint64_t skew = ts < now_s ? now - t : t - now;
  return tolerance_s >= 0 && skew <= static_cast<uint64_t>(tolerance_s);
}

}  // namespace

Receiver::Receiver(ReceiverOptions options, const Clock& clock,
                   std::function<void(const std::string&)> emit)
    : options_(std::move(options)),
      clock_(clock),
      emit_(std::move(emit)),
      rng_(options_.seed ? options_.seed : std::random_device{}()) {
  for (const auto& k : options_.keys) by_kid_[k.kid()] = &k;
}

std::vector<crypto::SigningSecret> Receiver::current_secrets() {
  std::vector<std::string> texts = options_.secrets;
  if (!options_.secret_file.empty()) {
    std::ifstream in(options_.secret_file);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      std::string text = ss.str();
      std::istringstream lines(text);
      for (std::string line; std::getline(lines, line);)
        if (!trim(line).empty()) texts.push_back(trim(line));
    }
  }
  std::vector<crypto::SigningSecret> out;
  for (const auto& t : texts)
    if (auto s = crypto::SigningSecret::parse(t)) out.push_back(s.value());
  return out;
}

bool Receiver::should_fail() {
  if (options_.fail_rate <= 0) return false;
  std::lock_guard lock(mu_);
  return std::uniform_real_distribution<double>(0, 1)(rng_) < options_.fail_rate;
}

net::Response Receiver::handle(net::Request& req) {
  if (options_.delay_ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.delay_ms));
  if (req.method() != boost::beast::http::verb::post)
    return answer(400, "method", "webhooks are POSTed");
  if (should_fail()) return answer(500, "simulated_failure", "--fail-rate said no");
  std::string id(req["webhook-id"]);
  std::string ts_text(req["webhook-timestamp"]);
  std::string sig(req["webhook-signature"]);
  int64_t ts = 0;
  auto [p, ec] = std::from_chars(ts_text.data(), ts_text.data() + ts_text.size(), ts);
  if (id.empty() || sig.empty() || ec != std::errc() || p != ts_text.data() + ts_text.size())
    return answer(400, "missing_headers",
                  "webhook-id, webhook-timestamp and webhook-signature are required");
  if (!is_fresh(clock_.now_ms() / 1000, ts, options_.tolerance_s))
    return answer(401, "stale_timestamp", "webhook-timestamp is too far from now");
  auto secrets = current_secrets();
  if (secrets.empty()) return answer(503, "no_secret", "no signing secret configured yet");
  bool valid = false;
  for (const auto& s : secrets) valid = valid || s.verify(id, ts, req.body(), sig);
  if (!valid) return answer(401, "bad_signature", "signature verification failed");
  // Only a verified body is decrypted: anyone holding the public key can encrypt.
  auto header = crypto::jwe_peek_header(req.body());
  if (!header) return answer(400, "bad_jwe", header.error().message);
  auto key = by_kid_.find(header->kid);
  if (key == by_kid_.end())
    return answer(400, "unknown_kid", "no private key for kid " + header->kid);
  auto plain = crypto::jwe_open(*key->second, req.body());
  if (!plain) return answer(400, "decrypt_failed", plain.error().message);
  boost::system::error_code jec;
  auto event = boost::json::parse(*plain, jec);
  if (jec) return answer(400, "bad_plaintext", "decrypted payload is not JSON");
  {
    std::lock_guard lock(mu_);
    if (!seen_.insert(id).second) {
      ++duplicates_;
      return net::json_response(200, "{}");
    }
    ++received_;
    boost::json::object line{{"webhook_id", id},
                             {"kid", header->kid},
                             {"alg", header->alg},
                             {"timestamp", ts},
                             {"event", std::move(event)}};
    // The payload exactly as it arrived (`event.data` above is re-encoded by the parser).
    if (auto data = member_text(*plain, "data"); data && data->has_value())
      line["data_text"] = **data;
    emit_(boost::json::serialize(line));
  }
  return net::json_response(200, "{}");
}

uint64_t Receiver::received() const {
  std::lock_guard lock(mu_);
  return received_;
}

uint64_t Receiver::duplicates() const {
  std::lock_guard lock(mu_);
  return duplicates_;
}

}  // namespace sealhook::receiver
