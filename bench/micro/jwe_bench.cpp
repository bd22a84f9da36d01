// JWE seal, what publish does once per tenant per event: crypto::jwe_seal with the tenant's
// key as the server holds it (imported from its public JWK), one algorithm and payload size
// per benchmark. Names: BM_JweSeal/<alg>/<payload bytes>.
#include <benchmark/benchmark.h>

#include <string>

#include "common.hpp"
#include "crypto/jwe.hpp"

namespace sealhook::bench {
namespace {

void BM_JweSeal(benchmark::State& state, Alg alg, size_t bytes) {
  const crypto::PublicKey& key = tenant_key(alg);
  const std::string plaintext = json_payload(bytes);
  size_t out_bytes = 0;
  for (auto _ : state) {
    auto sealed = crypto::jwe_seal(key, plaintext);
    if (!sealed) {
      state.SkipWithError(sealed.error().message.c_str());
      break;
    }
    out_bytes = sealed->size();
    benchmark::DoNotOptimize(sealed->data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["jwe_bytes"] = static_cast<double>(out_bytes);
}

[[maybe_unused]] const bool jwe_registered = [] {
  for (Alg alg : kAllAlgs) {
    for (size_t bytes : {size_t{256}, size_t{1024}, size_t{64 * 1024}}) {
      std::string name = std::string("BM_JweSeal/") + alg_name(alg) + "/" + std::to_string(bytes);
      benchmark::RegisterBenchmark(name.c_str(), BM_JweSeal, alg, bytes)
          ->Unit(benchmark::kMicrosecond);
    }
  }
  return true;
}();

}  // namespace
}  // namespace sealhook::bench
