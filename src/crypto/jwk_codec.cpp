#include "crypto/jwk_codec.hpp"

#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <vector>

#include "crypto/ossl.hpp"
#include "crypto/primitives.hpp"

namespace sealhook::crypto::detail {
namespace {

namespace json = boost::json;

Result<std::string> b64_member(const json::object& o, const char* name, size_t want = 0) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return invalid_key(std::string("the JWK has no \"") + name + "\" member");
  const json::string* s = v->if_string();
  if (s == nullptr) return invalid_key(std::string("JWK member \"") + name + "\" is not a string");
  std::optional<std::string> raw = b64url_decode(std::string_view(s->data(), s->size()));
  if (!raw || raw->empty()) {
    return invalid_key(std::string("JWK member \"") + name + "\" is not base64url");
  }
  if (want != 0 && raw->size() != want) {
    return invalid_key(std::string("JWK member \"") + name + "\" has the wrong length");
  }
  return std::move(*raw);
}

Result<PkeyPtr> from_params(const char* type, OSSL_PARAM_BLD* bld, int selection) {
  Params params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, selection, params.get()) != 1) {
    return invalid_key("the JWK does not describe a valid key");
  }
  return adopt(pkey);
}

bool push_secret_bn(OSSL_PARAM_BLD* bld, const char* param, std::string& raw,
                    std::vector<SecretBn>& keep) {
  Wipe wipe(raw);
  keep.emplace_back(BN_secure_new());
  return keep.back() && BN_bin2bn(bytes(raw), static_cast<int>(raw.size()), keep.back().get()) &&
         OSSL_PARAM_BLD_push_BN(bld, param, keep.back().get()) == 1;
}

Result<PkeyPtr> rsa_from_jwk(const json::object& o, bool priv) {
  auto n = b64_member(o, "n");
  if (!n) return n.error();
  auto e = b64_member(o, "e");
  if (!e) return e.error();
  Bn bn_n(BN_bin2bn(bytes(*n), static_cast<int>(n->size()), nullptr));
  Bn bn_e(BN_bin2bn(bytes(*e), static_cast<int>(e->size()), nullptr));
  ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get())) {
    return internal_error("could not build the RSA key");
  }
  std::vector<SecretBn> keep;
  if (priv) {
    static constexpr const char* kMembers[][2] = {
        {"d", OSSL_PKEY_PARAM_RSA_D},          {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
        {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},    {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
        {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2}, {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1}};
    int crt = 0;
    for (size_t i = 1; i < 6; ++i) crt += o.contains(kMembers[i][0]) ? 1 : 0;
    if (crt != 0 && crt != 5) {
      return invalid_key("an RSA JWK needs all of p, q, dp, dq, qi or none");
    }
    for (const auto& m : kMembers) {
      if (crt == 0 && m[0] != std::string_view("d")) continue;
      auto v = b64_member(o, m[0]);
      if (!v) return v.error();
      if (!push_secret_bn(bld.get(), m[1], *v, keep)) return internal_error("RSA import failed");
    }
  }
  return from_params("RSA", bld.get(), priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
}

Result<PkeyPtr> okp_from_jwk(const json::object& o, bool priv) {
  const json::string* crv = string_member(o, "crv");
  if (crv == nullptr) return invalid_key("the JWK has no string \"crv\"");
  if (*crv != "X25519") return unsupported("only X25519 is supported among OKP keys");
  auto x = b64_member(o, "x", 32);
  if (!x) return x.error();
  ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld) return internal_error("could not build the X25519 key");
  std::string d;
  Wipe wipe(d);
  if (priv) {
    auto dv = b64_member(o, "d", 32);
    if (!dv) return dv.error();
    d = std::move(*dv);
    if (!OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.data(), 32)) {
      return internal_error("could not build the X25519 key");
    }
  } else if (!OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, x->data(), 32)) {
    return internal_error("could not build the X25519 key");
  }
  auto pkey = from_params("X25519", bld.get(), priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
  if (pkey && priv) {  // OpenSSL derives the public half from "d": it must be "x"
    unsigned char pub[32];
    size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(pkey->get(), OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub,
                                        &len) != 1 ||
        len != 32 || CRYPTO_memcmp(pub, x->data(), 32) != 0) {
      return invalid_key("the JWK's \"x\" is not the public key of its \"d\"");
    }
  }
  return pkey;
}

Result<PkeyPtr> ec_from_jwk(const json::object& o, bool priv) {
  const json::string* crv = string_member(o, "crv");
  if (crv == nullptr) return invalid_key("the JWK has no string \"crv\"");
  const Curve* curve = curve_named(std::string_view(crv->data(), crv->size()), true);
  if (curve == nullptr) return unsupported("this EC curve is not supported");
  auto x = b64_member(o, "x", curve->field_bytes);
  if (!x) return x.error();
  auto y = b64_member(o, "y", curve->field_bytes);
  if (!y) return y.error();
  std::string point = "\x04" + *x + *y;
  ParamBld bld(OSSL_PARAM_BLD_new());
  std::vector<SecretBn> keep;
  if (!bld ||
      !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve->openssl, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size())) {
    return internal_error("could not build the EC key");
  }
  if (priv) {
    auto d = b64_member(o, "d", curve->field_bytes);
    if (!d) return d.error();
    if (!push_secret_bn(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, *d, keep)) {
      return internal_error("could not build the EC key");
    }
  }
  auto pkey = from_params("EC", bld.get(), priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
  if (!pkey) return invalid_key("the JWK's point is not on the curve");
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey->get(), nullptr));
  int ok = !ctx ? 0 : priv ? EVP_PKEY_pairwise_check(ctx.get()) : EVP_PKEY_public_check(ctx.get());
  if (ok != 1) return invalid_key("the JWK's point is not a valid public key on its curve");
  return pkey;
}

}  // namespace

constexpr Curve kCurves[] = {
    {"P-256", "prime256v1", 32}, {"P-384", "secp384r1", 48}, {"P-521", "secp521r1", 66}};

const Curve* curve_named(std::string_view name, bool jose) {
  for (const Curve& c : kCurves) {
    if (name == (jose ? c.jose : c.openssl)) return &c;
  }
  return nullptr;
}

PkeyPtr adopt(EVP_PKEY* pkey) { return PkeyPtr(pkey, PkeyDeleter{}); }

Result<KeyInfo> classify(EVP_PKEY* pkey) {
  KeyInfo info;
  info.bits = EVP_PKEY_get_bits(pkey);
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    BIGNUM *raw_n = nullptr, *raw_e = nullptr;
    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &raw_n);
    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &raw_e);
    Bn n(raw_n), e(raw_e);
    if (!n || !e || !BN_is_odd(n.get()) || !BN_is_odd(e.get()) || BN_num_bits(e.get()) < 2 ||
        BN_num_bits(e.get()) > 64 || BN_cmp(e.get(), n.get()) >= 0) {
      return invalid_key("the RSA modulus or public exponent is malformed");
    }
    return info;
  }
  if (EVP_PKEY_is_a(pkey, "X25519")) {
    info.type = KeyType::kX25519;
    info.curve = "X25519";
    return info;
  }
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[80] = {};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &len) != 1) {
      return unsupported("EC keys must use a named curve");
    }
    const Curve* curve = curve_named(std::string_view(group, len), false);
    if (curve == nullptr) return unsupported("this EC curve is not supported");
    info.type = KeyType::kEc;
    info.curve = curve->jose;
    return info;
  }
  const char* name = EVP_PKEY_get0_type_name(pkey);
  return unsupported(std::string(name != nullptr ? name : "this") + " keys are not supported");
}

Result<PkeyPtr> pkey_from_jwk(const json::object& jwk, bool want_private) {
  const json::string* kty = string_member(jwk, "kty");
  if (kty == nullptr) return invalid_key("the JWK has no string \"kty\"");
  if (!want_private) {
    for (const char* m : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
      if (jwk.contains(m)) {
        return key_error("private_key_rejected",
                         "this JWK holds private key material: send the public key only");
      }
    }
  }
  if (*kty == "RSA") return rsa_from_jwk(jwk, want_private);
  if (*kty == "OKP") return okp_from_jwk(jwk, want_private);
  if (*kty == "EC") return ec_from_jwk(jwk, want_private);
  return unsupported("only RSA, OKP (X25519) and EC keys are supported");
}

}  // namespace sealhook::crypto::detail
