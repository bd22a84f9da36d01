// The signing-secret half of CatalogService: rotation with an overlap, and its early end.
#include "catalog/catalog.hpp"

namespace sealhook {

Result<EndpointView> make_endpoint_view(const Endpoint& endpoint) {
  auto secret = crypto::SigningSecret::parse(endpoint.secret);
  if (!secret) return secret.error();
  EndpointView view{endpoint, std::move(secret.value()), std::nullopt};
  if (!endpoint.previous_secret.empty()) {
    auto previous = crypto::SigningSecret::parse(endpoint.previous_secret);
    if (!previous) return previous.error();
    view.previous = std::move(previous.value());
  }
  return view;
}

Result<EndpointPtr> CatalogService::own_endpoint(const Snapshot& s, const std::string& tenant_id,
                                                 const std::string& endpoint_id) const {
  auto t = tenant(s, tenant_id);
  const EndpointPtr* found = t ? (*t)->endpoints.find(endpoint_id) : nullptr;
  if (!found) return make_error(ErrorKind::kNotFound, "not_found", "endpoint not found");
  return *found;
}

Result<Endpoint> CatalogService::rotate_endpoint_secret(const std::string& tenant_id,
                                                        const std::string& endpoint_id,
                                                        std::optional<int64_t> grace_ms) {
  int64_t grace = grace_ms.value_or(limits_.secret_rotation_grace_ms);
  if (grace < 0 || grace > limits_.max_secret_rotation_grace_ms)
    return make_error(ErrorKind::kUnprocessable, "invalid_grace_period",
                      "grace_period_s must be between 0 and " +
                          std::to_string(limits_.max_secret_rotation_grace_ms / 1000));
  return write([&](Snapshot& s) -> Result<Endpoint> {
    auto old = own_endpoint(s, tenant_id, endpoint_id);
    if (!old) return old.error();
    EndpointView next = **old;
    next.previous = next.secret;
    next.secret = crypto::SigningSecret::generate();
    next.endpoint.previous_secret = next.endpoint.secret;
    next.endpoint.previous_secret_expires_at_ms = clock_.now_ms() + grace;
    next.endpoint.secret = next.secret.to_string();
    return replace_endpoint(s, *tenant(s, tenant_id), **old, std::move(next));
  });
}

Result<Endpoint> CatalogService::expire_previous_secret(const std::string& tenant_id,
                                                        const std::string& endpoint_id) {
  return write([&](Snapshot& s) -> Result<Endpoint> {
    auto old = own_endpoint(s, tenant_id, endpoint_id);
    if (!old) return old.error();
    if (!(*old)->previous_at(clock_.now_ms()))
      return make_error(ErrorKind::kNotFound, "not_found",
                        "this endpoint has no previous secret that still signs");
    EndpointView next = **old;
    next.previous.reset();
    next.endpoint.previous_secret.clear();
    next.endpoint.previous_secret_expires_at_ms = 0;
    return replace_endpoint(s, *tenant(s, tenant_id), **old, std::move(next));
  });
}

}  // namespace sealhook
