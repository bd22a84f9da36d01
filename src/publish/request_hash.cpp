#include "publish/request_hash.hpp"

#include "core/ids.hpp"

namespace sealhook {

// One field per line, the tenant id length-prefixed and the payload last, so no two requests
// share a text: the type is token characters only, and the payload runs to the end.
std::string publish_request_hash(const PublishRequest& request) {
  std::string text = "sealhook.publish.v1\n";
  if (request.tenant_id)
    text.append("tenant ")
        .append(std::to_string(request.tenant_id->size()))
        .append(":")
        .append(*request.tenant_id);
  else
    text.append("all tenants");
  text.append("\ntype ").append(request.type).append("\npayload ").append(request.payload_json);
  return sha256_hex(text);
}

}  // namespace sealhook
