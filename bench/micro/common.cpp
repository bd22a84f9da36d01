#include "common.hpp"

#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>

#include "crypto/keygen.hpp"

namespace sealhook::bench {

const char* alg_name(Alg alg) {
  switch (alg) {
    case Alg::kRsa2048:
      return "rsa2048";
    case Alg::kRsa4096:
      return "rsa4096";
    case Alg::kX25519:
      return "x25519";
    case Alg::kP256:
      return "p256";
  }
  return "?";
}

void check(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "sealhook-micro: setup failed: %s\n", what.c_str());
  std::abort();
}

namespace {

struct KeyPair {
  crypto::PrivateKey priv;
  crypto::PublicKey pub;
};

const KeyPair& key_pair(Alg alg) {
  static std::mutex mu;
  static std::map<Alg, KeyPair> cache;
  std::lock_guard lock(mu);
  auto it = cache.find(alg);
  if (it != cache.end()) return it->second;
  auto priv = [&] {
    switch (alg) {
      case Alg::kRsa2048:
        return crypto::generate_key(crypto::KeyType::kRsa, 2048);
      case Alg::kRsa4096:
        return crypto::generate_key(crypto::KeyType::kRsa, 4096);
      case Alg::kX25519:
        return crypto::generate_key(crypto::KeyType::kX25519, 0);
      case Alg::kP256:
        return crypto::generate_key(crypto::KeyType::kEc, 256);
    }
    return crypto::generate_key(crypto::KeyType::kX25519, 0);
  }();
  check(priv.ok(), std::string("generate_key ") + alg_name(alg));
  auto pub = crypto::PublicKey::from_jwk(boost::json::value(priv->public_key().to_jwk()));
  check(pub.ok(), std::string("PublicKey::from_jwk ") + alg_name(alg));
  return cache.emplace(alg, KeyPair{std::move(priv.value()), std::move(pub.value())}).first->second;
}

}  // namespace

const crypto::PrivateKey& private_key(Alg alg) { return key_pair(alg).priv; }
const crypto::PublicKey& tenant_key(Alg alg) { return key_pair(alg).pub; }

std::string json_payload(size_t n) {
  static constexpr char kHead[] = "{\"data\":\"";
  static constexpr char kTail[] = "\"}";
  std::string s = kHead;
  size_t fill = n > sizeof kHead + sizeof kTail ? n - (sizeof kHead - 1) - (sizeof kTail - 1) : 0;
  for (size_t i = 0; i < fill; ++i) s += static_cast<char>('a' + (i * 7) % 26);
  s += kTail;
  return s;
}

size_t rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return 0;
}

size_t heap_in_use_bytes() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

}  // namespace sealhook::bench
