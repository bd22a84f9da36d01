#include "crypto/jwk.hpp"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <iterator>

#include "crypto/jwe_header.hpp"
#include "crypto/jwk_codec.hpp"
#include "crypto/ossl.hpp"
#include "crypto/primitives.hpp"

namespace sealhook::crypto {
namespace {

namespace json = boost::json;
using detail::invalid_key;
using detail::kMaxKeyText;

struct OpensslFree {
  void operator()(void* p) const { OPENSSL_free(p); }
};
using OsslBytes = std::unique_ptr<unsigned char, OpensslFree>;
using OsslChars = std::unique_ptr<char, OpensslFree>;

Error private_rejected() {
  return detail::key_error("private_key_rejected",
                           "this is a private key: send the public key only");
}

Error too_large() { return invalid_key("key text is larger than 64 KiB"); }

bool jwk_too_large(const json::object& o) { return json::serialize(o).size() > kMaxKeyText; }

// Every seal does key agreement with this key: refuse now a key that would make it fail
// (an EC point at infinity from a PEM, an X25519 point of small order: Z would be zero).
bool agreement_works(const PublicKey& key) {
  if (key.type() == KeyType::kRsa) return true;
  detail::PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!ctx || EVP_PKEY_public_check(ctx.get()) != 1) return false;
  detail::UniquePkey probe(key.type() == KeyType::kX25519
                               ? EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519")
                               : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", key.curve().c_str()));
  return probe && detail::ecdh(probe.get(), key.get(), false).has_value();
}

// OpenSSL loads a private key whose halves do not belong together (an EC point that is not
// d*G, an RSA "d" that does not invert "e" mod n): its kid would name some other key.
// RSA: (2^e)^d = 2 mod n, one exponentiation, whether or not the CRT factors are there
// (OpenSSL checks a CRT result against e and falls back to d).
bool rsa_halves_match(EVP_PKEY* pkey) {
  BIGNUM *raw_n = nullptr, *raw_e = nullptr, *raw_d = nullptr;
  EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &raw_n);
  EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &raw_e);
  EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_D, &raw_d);
  detail::Bn n(raw_n), e(raw_e);
  detail::SecretBn d(raw_d);
  std::unique_ptr<BN_CTX, void (*)(BN_CTX*)> ctx(BN_CTX_new(), BN_CTX_free);
  detail::Bn two(BN_new()), c(BN_new()), m(BN_new());
  if (!n || !e || !d || !ctx || !two || !c || !m || !BN_set_word(two.get(), 2)) return false;
  BN_set_flags(d.get(), BN_FLG_CONSTTIME);
  return BN_mod_exp(c.get(), two.get(), e.get(), n.get(), ctx.get()) == 1 &&
         BN_mod_exp(m.get(), c.get(), d.get(), n.get(), ctx.get()) == 1 &&
         BN_cmp(m.get(), two.get()) == 0;
}

bool halves_match(EVP_PKEY* pkey, KeyType type) {
  if (type == KeyType::kX25519) return true;  // OpenSSL derives the public half from d
  if (type == KeyType::kRsa) return rsa_halves_match(pkey);
  detail::PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  bool ok = ctx && EVP_PKEY_pairwise_check(ctx.get()) == 1;
  ERR_clear_error();
  return ok;
}

// The tenant-key policy (PRODUCT.md §3): RSA 2048..16384 bits, X25519 or P-256.
Result<PublicKey> tenant_policy(Result<PublicKey> key, bool trial_agreement = true) {
  if (!key) return key;
  if (key->type() == KeyType::kRsa && key->bits() < kMinRsaBits) {
    return detail::key_error("weak_key", "RSA keys must have at least 2048 bits");
  }
  if (key->type() == KeyType::kRsa && key->bits() > kMaxRsaBits) {
    return detail::key_error("unsupported_key", "RSA keys over 16384 bits are not supported");
  }
  if (key->type() == KeyType::kEc && key->curve() != "P-256") {
    return detail::key_error("unsupported_key", "only the P-256 curve is accepted for EC keys");
  }
  if (trial_agreement && !agreement_works(*key))
    return invalid_key("this public key cannot be used for ECDH");
  return key;
}

// One PEM public key block ("PUBLIC KEY", or PKCS#1 "RSA PUBLIC KEY").
Result<detail::UniquePkey> decode_pem_block(std::string_view label, const unsigned char* der,
                                            long len) {
  const unsigned char* p = der;
  detail::UniquePkey pkey;
  if (label == "PUBLIC KEY") {
    pkey.reset(d2i_PUBKEY(nullptr, &p, len));
  } else if (label == "RSA PUBLIC KEY") {
    pkey.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, len));
  } else {
    return invalid_key("expected a PEM \"PUBLIC KEY\" block");
  }
  if (!pkey || p != der + len) return invalid_key("the PEM public key could not be decoded");
  return pkey;
}

std::string bio_string(BIO* bio) {
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(bio, &mem);
  return mem == nullptr ? std::string() : std::string(mem->data, mem->length);
}

int no_password(char*, int, int, void*) { return -1; }

// Pasted PEM often comes with blank lines or indentation around it.
std::string_view trim(std::string_view s) {
  size_t first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

}  // namespace

Result<std::string> jwk_thumbprint(const json::object& jwk) {
  auto input = detail::thumbprint_input(jwk);
  if (!input) return input.error();
  std::string out;
  detail::b64url_append(out, detail::sha256(*input));
  return out;
}

Result<PublicKey> PublicKey::from_pkey(PkeyPtr pkey) {
  if (!pkey) return detail::internal_error("no key");
  auto info = detail::classify(pkey.get());
  if (!info) return info.error();
  auto jwk = detail::pkey_to_jwk(pkey.get(), *info, false);
  if (!jwk) return jwk.error();
  auto kid = jwk_thumbprint(*jwk);
  if (!kid) return kid.error();
  PublicKey key;
  key.pkey_ = std::move(pkey);
  key.type_ = info->type;
  key.bits_ = info->bits;
  key.curve_ = std::move(info->curve);
  key.kid_ = std::move(*kid);
  key.alg_ = key.type_ == KeyType::kRsa ? detail::kRsaAlg : detail::kEcdhAlg;
  if (key.type_ == KeyType::kRsa) {
    key.jwe_header_b64_ = detail::rsa_jwe_header_b64(key.kid_);
    key.oaep_ = std::make_shared<detail::OaepEncryptor>(key.pkey_, "SHA256");
  }
  return key;
}

Result<PublicKey> PublicKey::from_pem(std::string_view pem) {
  if (pem.size() > kMaxKeyText) return too_large();
  pem = trim(pem);
  // Covers "PRIVATE KEY", "RSA/EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "OPENSSH PRIVATE KEY".
  if (pem.find("PRIVATE KEY") != std::string_view::npos) return private_rejected();
  if (pem.empty()) return invalid_key("no PEM public key found");
  detail::Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return detail::internal_error("out of memory");
  detail::UniquePkey found;
  for (;;) {
    char *name = nullptr, *header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) break;
    OsslChars name_owner(name), header_owner(header);
    OsslBytes data_owner(data);
    if (header != nullptr && header[0] != '\0') return invalid_key("unexpected PEM headers");
    auto pkey = decode_pem_block(name, data, len);
    if (!pkey) return pkey.error();
    if (found) return invalid_key("the PEM text holds more than one key");
    found = std::move(*pkey);
  }
  ERR_clear_error();  // PEM_read_bio ends with "no start line"
  if (!found) return invalid_key("no PEM public key found");
  return tenant_policy(from_pkey(detail::adopt(found.release())));
}

Result<PublicKey> PublicKey::from_jwk(const json::value& jwk) { return jwk_key(jwk, true); }

Result<PublicKey> PublicKey::from_stored_jwk(const json::value& jwk) { return jwk_key(jwk, false); }

Result<PublicKey> PublicKey::jwk_key(const json::value& jwk, bool trial_agreement) {
  const json::object* o = jwk.if_object();
  if (o == nullptr) return invalid_key("a JWK must be a JSON object");
  if (jwk_too_large(*o)) return too_large();
  auto pkey = detail::pkey_from_jwk(*o, false);
  if (!pkey) return pkey.error();
  return tenant_policy(from_pkey(std::move(*pkey)), trial_agreement);
}

Result<PublicKey> PublicKey::parse(const json::value& v) {
  if (const json::string* s = v.if_string()) return from_pem(std::string_view(*s));
  if (v.is_object()) return from_jwk(v);
  return invalid_key("a public key is a PEM string or a JWK object");
}

json::object PublicKey::to_jwk() const {
  if (!pkey_) return {};
  detail::KeyInfo info{type_, bits_, curve_};
  auto jwk = detail::pkey_to_jwk(pkey_.get(), info, false);
  if (!jwk) return {};
  jwk->emplace("kid", kid_);
  jwk->emplace("alg", alg_);
  jwk->emplace("use", "enc");
  return std::move(*jwk);
}

std::string PublicKey::to_pem() const {
  detail::Bio bio(BIO_new(BIO_s_mem()));
  if (!pkey_ || !bio || PEM_write_bio_PUBKEY(bio.get(), pkey_.get()) != 1) return {};
  return bio_string(bio.get());
}

Result<PrivateKey> PrivateKey::from_pkey(PkeyPtr pkey) {
  if (!pkey) return detail::internal_error("no key");
  auto info = detail::classify(pkey.get());
  if (!info) return info.error();
  if (!detail::pkey_to_jwk(pkey.get(), *info, true)) return invalid_key("not a private key");
  if (info->type == KeyType::kRsa && info->bits > kMaxRsaBits)  // no tenant could use it
    return detail::key_error("unsupported_key", "RSA keys over 16384 bits are not supported");
  if (!halves_match(pkey.get(), info->type))
    return invalid_key("the private key's public half is not its own");
  // The public half gets an EVP_PKEY of its own that holds no private material.
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(pkey.get(), &der);
  OsslBytes der_owner(der);
  const unsigned char* p = der;
  EVP_PKEY* pub = len > 0 ? d2i_PUBKEY(nullptr, &p, len) : nullptr;
  if (pub == nullptr) return detail::internal_error("could not derive the public key");
  auto public_key = PublicKey::from_pkey(detail::adopt(pub));
  if (!public_key) return public_key.error();
  PrivateKey key;
  key.pkey_ = std::move(pkey);
  key.type_ = info->type;
  key.kid_ = public_key->kid();
  key.public_ = std::move(*public_key);
  return key;
}

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem) {
  if (pem.size() > kMaxKeyText) return too_large();
  pem = trim(pem);
  detail::Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* pkey =
      bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr) : nullptr;
  if (pkey == nullptr) return invalid_key("no unencrypted PEM private key found");
  ERR_clear_error();  // the decoders may leave the errors of the formats they tried
  return from_pkey(detail::adopt(pkey));
}

Result<PrivateKey> PrivateKey::from_jwk(const json::value& jwk) {
  const json::object* o = jwk.if_object();
  if (o == nullptr) return invalid_key("a JWK must be a JSON object");
  if (jwk_too_large(*o)) return too_large();
  auto pkey = detail::pkey_from_jwk(*o, true);
  if (!pkey) return pkey.error();
  return from_pkey(std::move(*pkey));
}

Result<PrivateKey> PrivateKey::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text;
  if (in) {
    text.resize(kMaxKeyText + 1);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
  }
  detail::Wipe wipe(text);
  if (!in && !in.eof()) {
    return make_error(ErrorKind::kBadRequest, "key_file_unreadable", "cannot read " + path);
  }
  if (text.size() > kMaxKeyText) return too_large();
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec) return invalid_key("the key file is neither PEM nor valid JSON");
    return from_jwk(v);
  }
  return from_pem(text);
}

PublicKey PrivateKey::public_key() const { return public_; }

json::object PrivateKey::to_jwk() const {
  if (!pkey_) return {};
  detail::KeyInfo info{type_, public_.bits(), public_.curve()};
  auto jwk = detail::pkey_to_jwk(pkey_.get(), info, true);
  if (!jwk) return {};
  jwk->emplace("kid", kid_);
  return std::move(*jwk);
}

std::string PrivateKey::to_pem() const {
  detail::Bio bio(BIO_new(BIO_s_mem()));
  if (!pkey_ || !bio ||
      PEM_write_bio_PKCS8PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr,
                                    nullptr) != 1) {
    return {};
  }
  return bio_string(bio.get());
}

}  // namespace sealhook::crypto
