// Export half of jwk_codec.hpp: EVP_PKEY -> JWK members, and the RFC 7638 hash input.
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <vector>

#include "crypto/jwk_codec.hpp"
#include "crypto/ossl.hpp"
#include "crypto/primitives.hpp"

namespace sealhook::crypto::detail {
namespace {

namespace json = boost::json;

std::optional<std::string> bn_b64(EVP_PKEY* pkey, const char* param, int pad = 0) {
  BIGNUM* raw_bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, param, &raw_bn) != 1) return std::nullopt;
  SecretBn bn(raw_bn);
  int len = pad != 0 ? pad : BN_num_bytes(bn.get());
  std::string raw(static_cast<size_t>(len), '\0');
  Wipe wipe(raw);
  if (BN_bn2binpad(bn.get(), bytes(raw), len) != len) return std::nullopt;
  std::string out;
  b64url_append(out, raw);
  return out;
}

std::optional<std::string> octet_b64(EVP_PKEY* pkey, const char* param) {
  unsigned char buf[64];
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(pkey, param, buf, sizeof buf, &len) != 1) return std::nullopt;
  std::string out;
  b64url_append(out, std::string_view(reinterpret_cast<const char*>(buf), len));
  OPENSSL_cleanse(buf, sizeof buf);
  return out;
}

}  // namespace

Result<json::object> pkey_to_jwk(EVP_PKEY* pkey, const KeyInfo& info, bool with_private) {
  json::object o;
  std::vector<std::pair<const char*, std::optional<std::string>>> members;
  if (info.type == KeyType::kRsa) {
    o["kty"] = "RSA";
    members = {{"n", bn_b64(pkey, OSSL_PKEY_PARAM_RSA_N)},
               {"e", bn_b64(pkey, OSSL_PKEY_PARAM_RSA_E)}};
    if (with_private) {
      members.emplace_back("d", bn_b64(pkey, OSSL_PKEY_PARAM_RSA_D));
      auto p = bn_b64(pkey, OSSL_PKEY_PARAM_RSA_FACTOR1);
      if (p) {  // CRT members, when the key has them
        members.emplace_back("p", std::move(p));
        members.emplace_back("q", bn_b64(pkey, OSSL_PKEY_PARAM_RSA_FACTOR2));
        members.emplace_back("dp", bn_b64(pkey, OSSL_PKEY_PARAM_RSA_EXPONENT1));
        members.emplace_back("dq", bn_b64(pkey, OSSL_PKEY_PARAM_RSA_EXPONENT2));
        members.emplace_back("qi", bn_b64(pkey, OSSL_PKEY_PARAM_RSA_COEFFICIENT1));
      }
    }
  } else if (info.type == KeyType::kX25519) {
    o["kty"] = "OKP";
    o["crv"] = "X25519";
    members = {{"x", octet_b64(pkey, OSSL_PKEY_PARAM_PUB_KEY)}};
    if (with_private) members.emplace_back("d", octet_b64(pkey, OSSL_PKEY_PARAM_PRIV_KEY));
  } else {
    const Curve* curve = curve_named(info.curve, true);
    if (curve == nullptr) return unsupported("this EC curve is not supported");
    int field = static_cast<int>(curve->field_bytes);
    o["kty"] = "EC";
    o["crv"] = curve->jose;
    members = {{"x", bn_b64(pkey, OSSL_PKEY_PARAM_EC_PUB_X, field)},
               {"y", bn_b64(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, field)}};
    if (with_private) members.emplace_back("d", bn_b64(pkey, OSSL_PKEY_PARAM_PRIV_KEY, field));
  }
  for (auto& [name, value] : members) {
    if (!value) return invalid_key(std::string("the key has no valid \"") + name + "\"");
    o[name] = *value;
  }
  return o;
}

Result<std::string> thumbprint_input(const json::object& jwk) {
  const json::string* kty = string_member(jwk, "kty");
  if (kty == nullptr) return invalid_key("the JWK has no string \"kty\"");
  std::vector<const char*> names;
  if (*kty == "RSA")
    names = {"e", "kty", "n"};
  else if (*kty == "EC")
    names = {"crv", "kty", "x", "y"};
  else if (*kty == "OKP")
    names = {"crv", "kty", "x"};
  else if (*kty == "oct")
    names = {"k", "kty"};
  else
    return unsupported("no JWK thumbprint is defined for this key type");
  std::string out = "{";
  for (const char* name : names) {
    const json::string* v = string_member(jwk, name);
    if (v == nullptr) return invalid_key(std::string("the JWK has no string \"") + name + "\"");
    for (char c : *v) {  // RFC 7638 §3.3: members must not need escaping
      if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
        return invalid_key("a JWK member holds a character that needs escaping");
      }
    }
    if (out.size() > 1) out += ',';
    out.append("\"").append(name).append("\":\"").append(v->data(), v->size()).append("\"");
  }
  out += '}';
  return out;
}

}  // namespace sealhook::crypto::detail
