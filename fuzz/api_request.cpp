// The API's request parsing: the target (path ids, query: limit, cursor, status) and the JSON
// bodies of every route that takes one, through the same functions the handlers call.
// Input: the request target, a newline, the body.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/handlers/handlers.hpp"
#include "catalog/event_types.hpp"
#include "core/ids.hpp"
#include "core/model.hpp"
#include "crypto/signature.hpp"
#include "delivery/ssrf_guard.hpp"

namespace {

using namespace sealhook;

void query(std::string_view target) {
  auto t = api::parse_target(target);
  if (!t) return;
  for (std::string_view prefix : {"ep_", "msg_", "tn_"}) (void)api::page_params(*t, prefix);
  if (auto it = t->query.find("status"); it != t->query.end())
    (void)parse_delivery_status(it->second);
  for (const auto& s : t->segments) {
    (void)is_id(s, "ep_");
    (void)is_id(s, "msg_");
    (void)is_id(s, "tn_");
  }
}

void patterns(const std::vector<std::string>& list) {
  auto normal = normalize_patterns(list);
  if (!normal) return;
  for (const auto& p : *normal) (void)pattern_matches(p, "order.created");
}

void bodies(const net::Request& req) {
  (void)api::parse_tenant_body(req);
  (void)api::parse_key_body(req);  // the key itself: fuzz/key_import.cpp
  (void)api::parse_rotate_body(req);
  if (auto types = api::parse_subscriptions_body(req)) patterns(*types);
  if (auto spec = api::parse_endpoint_spec(req)) {
    if (spec->event_types) patterns(*spec->event_types);
    if (spec->secret) (void)crypto::SigningSecret::parse(*spec->secret);
    if (spec->url) (void)delivery::parse_url(*spec->url);  // never resolved here
  }
  for (bool legacy : {false, true}) {
    for (const api::Principal& p : {api::Principal{true, ""}, api::Principal{false, "tn_1"}}) {
      auto pr = api::parse_publish_body(p, req, legacy, 1024 * 1024);
      if (pr) (void)is_valid_event_type(pr->type);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  query(in.substr(0, nl));
  net::Request req{boost::beast::http::verb::post, "/", 11};
  if (nl != std::string_view::npos) req.body() = std::string(in.substr(nl + 1));
  bodies(req);
  return 0;
}
