// Standard Webhooks signature, once per delivery attempt: SigningSecret::sign over
// "{msg_id}.{timestamp}.{body}" and verify of the resulting header (the receiver's side).
// BM_Sign/<body bytes>, BM_Verify/<body bytes>.
#include <benchmark/benchmark.h>

#include <string>

#include "common.hpp"
#include "crypto/signature.hpp"

namespace sealhook::bench {
namespace {

constexpr char kMsgId[] = "msg_01HZY3K4V5W6X7Y8Z9A0B1C2D3";
constexpr int64_t kTimestamp = 1'700'000'000;

void BM_Sign(benchmark::State& state) {
  auto secret = crypto::SigningSecret::generate();
  const std::string body = json_payload(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    std::string header = secret.sign(kMsgId, kTimestamp, body);
    benchmark::DoNotOptimize(header.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Sign)->Arg(1024)->Arg(64 * 1024);

void BM_Verify(benchmark::State& state) {
  auto secret = crypto::SigningSecret::generate();
  const std::string body = json_payload(static_cast<size_t>(state.range(0)));
  const std::string header = secret.sign(kMsgId, kTimestamp, body);
  for (auto _ : state) {
    bool ok = secret.verify(kMsgId, kTimestamp, body, header);
    if (!ok) {
      state.SkipWithError("verify returned false");
      break;
    }
    benchmark::DoNotOptimize(ok);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Verify)->Arg(1024)->Arg(64 * 1024);

}  // namespace
}  // namespace sealhook::bench
