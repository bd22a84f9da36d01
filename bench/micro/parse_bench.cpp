// What POST /v1/events costs before encryption, piece by piece:
//   BM_ParseObject        api::parse_object on the body (Boost.JSON parse into an object)
//   BM_ParsePublishFields parse_object + the field extraction of handlers/events.cpp
//                         (only_fields, type, payload size check, tenant, id)
//   BM_BuildPlaintext     the per-tenant plaintext the publisher seals: the envelope
//                         {"id","type","tenant","timestamp","data"} spliced around the
//                         payload serialized once (as publisher.cpp does)
#include <benchmark/benchmark.h>

#include <boost/json/serialize.hpp>
#include <string>

#include "api/http_util.hpp"
#include "catalog/event_types.hpp"
#include "common.hpp"
#include "publish_body.hpp"

namespace sealhook::bench {
namespace {

net::Request publish_request() {
  net::Request req;
  req.body() = publish_body(1024, "order-42-created");
  req.prepare_payload();
  return req;
}

void BM_ParseObject(benchmark::State& state) {
  net::Request req = publish_request();
  for (auto _ : state) {
    auto o = api::parse_object(req);
    if (!o) {
      state.SkipWithError(o.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(o->size());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(req.body().size()));
}
BENCHMARK(BM_ParseObject);

// Mirrors publish_event() in src/api/handlers/events.cpp up to the call into the publisher.
bool extract_fields(const boost::json::object& body, size_t max_payload) {
  if (!api::only_fields(body, {"type", "payload", "tenant", "id"})) return false;
  auto type = api::optional_string(body, "type", kMaxEventTypeLength);
  if (!type || !type->has_value() || !is_valid_event_type(**type)) return false;
  auto payload = body.find("payload");
  if (payload == body.end()) return false;
  if (boost::json::serialize(payload->value()).size() > max_payload) return false;
  auto tenant = api::optional_string(body, "tenant", 64);
  auto key = api::optional_string(body, "id", 256);
  return tenant && key;
}

void BM_ParsePublishFields(benchmark::State& state) {
  net::Request req = publish_request();
  for (auto _ : state) {
    auto o = api::parse_object(req);
    if (!o || !extract_fields(*o, 1024 * 1024)) {
      state.SkipWithError("parse or field extraction failed");
      break;
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(req.body().size()));
}
BENCHMARK(BM_ParsePublishFields);

void BM_BuildPlaintext(benchmark::State& state) {
  net::Request req = publish_request();
  auto body = api::parse_object(req);
  check(body.ok(), "parse_object");
  // As publisher.cpp assembles it: the payload is serialized once (by the handler), the
  // envelope is spliced around it and only the tenant id changes per tenant.
  const std::string payload_json = boost::json::serialize(body->at("payload"));
  const std::string event_id = "evt_01HZY3K4V5W6X7Y8Z9A0B1C2D3";
  const std::string tenant_id = "tn_01HZY3K4V5W6X7Y8Z9A0B1C2D3";
  size_t plain_bytes = 0;
  for (auto _ : state) {
    std::string plain = "{\"id\":\"" + event_id + "\",\"type\":\"order.created\",\"tenant\":\"";
    std::string suffix =
        "\",\"timestamp\":" + std::to_string(int64_t{1'700'000'000'000}) + ",\"data\":";
    suffix.append(payload_json).push_back('}');
    plain.append(tenant_id).append(suffix);
    plain_bytes = plain.size();
    benchmark::DoNotOptimize(plain.data());
  }
  state.counters["plaintext_bytes"] = static_cast<double>(plain_bytes);
}
BENCHMARK(BM_BuildPlaintext);

}  // namespace
}  // namespace sealhook::bench
