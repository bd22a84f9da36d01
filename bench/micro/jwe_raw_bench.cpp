// The raw key-management primitive of each JWE algorithm, straight on OpenSSL EVP, so that
// seal/raw can be read off:
//   BM_RawRsaOaep256/<alg>        RSA-OAEP-256 (SHA-256, MGF1-SHA-256) of a 32-byte CEK,
//                                 a fresh EVP_PKEY_CTX per operation (as jwe_seal does)
//   BM_RawRsaOaep256Reused/<alg>  the same on one initialised context (the floor)
//   BM_RawEcdhEphemeral/<alg>     a fresh ephemeral key on the curve + derive Z (as seal does)
//   BM_RawEcdhDerive/<alg>        derive Z alone, fixed ephemeral key (what `openssl speed
//                                 ecdhx25519/ecdhp256` times)
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <memory>
#include <string>

#include "common.hpp"

namespace sealhook::bench {
namespace {

struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Ctx = std::unique_ptr<EVP_PKEY_CTX, CtxFree>;
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Ctx oaep_ctx(EVP_PKEY* key) {
  Ctx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx.get(), "SHA256", nullptr) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx.get(), "SHA256", nullptr) != 1)
    return nullptr;
  return ctx;
}

bool oaep_encrypt(EVP_PKEY_CTX* ctx, const unsigned char* cek, unsigned char* out, size_t cap) {
  size_t len = cap;
  return EVP_PKEY_encrypt(ctx, out, &len, cek, 32) == 1;
}

void BM_RawRsaOaep256(benchmark::State& state, Alg alg) {
  EVP_PKEY* key = tenant_key(alg).get();
  unsigned char cek[32] = {1, 2, 3};
  unsigned char out[1024];
  for (auto _ : state) {
    Ctx ctx = oaep_ctx(key);
    if (!ctx || !oaep_encrypt(ctx.get(), cek, out, sizeof out)) {
      state.SkipWithError("RSA-OAEP-256 failed");
      break;
    }
    benchmark::DoNotOptimize(out);
  }
}

void BM_RawRsaOaep256Reused(benchmark::State& state, Alg alg) {
  Ctx ctx = oaep_ctx(tenant_key(alg).get());
  check(ctx != nullptr, "RSA-OAEP context");
  unsigned char cek[32] = {1, 2, 3};
  unsigned char out[1024];
  for (auto _ : state) {
    if (!oaep_encrypt(ctx.get(), cek, out, sizeof out)) {
      state.SkipWithError("RSA-OAEP-256 failed");
      break;
    }
    benchmark::DoNotOptimize(out);
  }
}

Pkey ephemeral(Alg alg) {
  if (alg == Alg::kX25519) return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", const_cast<char*>("P-256")));
}

bool derive(EVP_PKEY* own, EVP_PKEY* peer, unsigned char* z, size_t cap) {
  Ctx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own, nullptr));
  size_t len = cap;
  return ctx && EVP_PKEY_derive_init(ctx.get()) == 1 &&
         EVP_PKEY_derive_set_peer_ex(ctx.get(), peer, 0) == 1 &&
         EVP_PKEY_derive(ctx.get(), z, &len) == 1;
}

void BM_RawEcdhEphemeral(benchmark::State& state, Alg alg) {
  EVP_PKEY* peer = tenant_key(alg).get();
  unsigned char z[66];
  for (auto _ : state) {
    Pkey eph = ephemeral(alg);
    if (!eph || !derive(eph.get(), peer, z, sizeof z)) {
      state.SkipWithError("ECDH failed");
      break;
    }
    benchmark::DoNotOptimize(z);
  }
}

void BM_RawEcdhDerive(benchmark::State& state, Alg alg) {
  EVP_PKEY* peer = tenant_key(alg).get();
  Pkey eph = ephemeral(alg);
  check(eph != nullptr, "ephemeral key");
  unsigned char z[66];
  for (auto _ : state) {
    if (!derive(eph.get(), peer, z, sizeof z)) {
      state.SkipWithError("ECDH failed");
      break;
    }
    benchmark::DoNotOptimize(z);
  }
}

[[maybe_unused]] const bool jwe_raw_registered = [] {
  for (Alg alg : kAllAlgs) {
    std::string a = alg_name(alg);
    bool rsa = alg == Alg::kRsa2048 || alg == Alg::kRsa4096;
    if (rsa) {
      benchmark::RegisterBenchmark(("BM_RawRsaOaep256/" + a).c_str(), BM_RawRsaOaep256, alg)
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("BM_RawRsaOaep256Reused/" + a).c_str(), BM_RawRsaOaep256Reused,
                                   alg)
          ->Unit(benchmark::kMicrosecond);
    } else {
      benchmark::RegisterBenchmark(("BM_RawEcdhEphemeral/" + a).c_str(), BM_RawEcdhEphemeral, alg)
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("BM_RawEcdhDerive/" + a).c_str(), BM_RawEcdhDerive, alg)
          ->Unit(benchmark::kMicrosecond);
    }
  }
  return true;
}();

}  // namespace
}  // namespace sealhook::bench
