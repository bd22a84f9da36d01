#include "crypto/jwe.hpp"

#include <boost/json/parse.hpp>
#include <cstdint>

#include "crypto/jwe_header.hpp"
#include "crypto/jwk_codec.hpp"
#include "crypto/ossl.hpp"
#include "crypto/primitives.hpp"

namespace sealhook::crypto {
namespace {

namespace json = boost::json;
using namespace detail;

constexpr size_t kCekBytes = 32;                  // A256GCM
constexpr size_t kMaxHeaderB64 = 8 * 1024;        // a protected header is a few hundred bytes
constexpr size_t kMaxEncryptedKeyB64 = 4 * 1024;  // 16384-bit RSA: 2731 characters
constexpr size_t kMaxCompact = 512u * 1024 * 1024;

void append_be32(std::string& out, size_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

size_t enc_key_bytes(std::string_view enc) {
  if (enc == "A128GCM") return 16;
  if (enc == "A192GCM") return 24;
  if (enc == "A256GCM") return 32;
  return 0;
}

// 0 for direct key agreement ("ECDH-ES"), the KEK size for "ECDH-ES+AxxxKW", -1 otherwise.
int ecdh_kek_bytes(std::string_view alg) {
  if (alg == "ECDH-ES") return 0;
  if (alg == "ECDH-ES+A128KW") return 16;
  if (alg == "ECDH-ES+A192KW") return 24;
  if (alg == "ECDH-ES+A256KW") return 32;
  return -1;
}

// A fresh ephemeral key on the curve of `key`. EC keys are generated with the tenant key as
// the template, so the curve's group is not rebuilt per seal.
UniquePkey ephemeral_key(const PublicKey& key) {
  UniquePkey eph;
  if (key.type() == KeyType::kX25519) {  // 32 random bytes are an X25519 private key
    unsigned char secret[32];
    if (random_bytes(secret, sizeof secret)) {
      eph.reset(EVP_PKEY_new_raw_private_key_ex(nullptr, "X25519", nullptr, secret, 32));
    }
    OPENSSL_cleanse(secret, sizeof secret);
    return eph;
  }
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  EVP_PKEY* raw = nullptr;
  if (ctx && EVP_PKEY_keygen_init(ctx.get()) == 1 && EVP_PKEY_keygen(ctx.get(), &raw) == 1)
    eph.reset(raw);
  return eph;
}

// The "epk" header member: the compact public JWK of `eph`, members in RFC 7638 order, read
// straight from the encoded public key (X25519: 32 bytes; EC: 0x04 || X || Y).
Result<std::string> epk_json(EVP_PKEY* eph, const PublicKey& key) {
  unsigned char pub[1 + 2 * 66];
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(eph, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub, &len) != 1)
    return internal_error("could not export the ephemeral key");
  auto bytes = [&](size_t from, size_t n) {
    return std::string_view(reinterpret_cast<const char*>(pub) + from, n);
  };
  std::string out = R"({"crv":")" + key.curve();
  if (key.type() == KeyType::kX25519) {
    if (len != 32) return internal_error("unexpected X25519 public key size");
    out += R"(","kty":"OKP","x":")";
    b64url_append(out, bytes(0, 32));
  } else {
    if (len < 3 || pub[0] != 0x04 || len % 2 != 1)
      return internal_error("unexpected EC public key encoding");
    size_t field = (len - 1) / 2;
    out += R"(","kty":"EC","x":")";
    b64url_append(out, bytes(1, field));
    out += R"(","y":")";
    b64url_append(out, bytes(1 + field, field));
  }
  out += "\"}";
  return out;
}

// ECDH-ES+A256KW to `key`: a fresh ephemeral key on its curve, Z, Concat KDF, AES key wrap.
Status ecdh_wrap(const PublicKey& key, std::string_view cek, std::string& header_b64,
                 std::string& encrypted_key) {
  UniquePkey eph = ephemeral_key(key);
  if (!eph) return internal_error("could not generate an ephemeral key");
  auto epk = epk_json(eph.get(), key);
  if (!epk) return epk.error();
  const std::string* epk_json = &epk.value();
  std::optional<std::string> z = ecdh(eph.get(), key.get(), false);  // validated at import
  if (!z) return internal_error("key agreement failed");
  Wipe wipe_z(*z);
  auto kek = concat_kdf(*z, kEcdhAlg, {}, {}, 32);
  if (!kek) return kek.error();
  Wipe wipe_kek(*kek);
  std::optional<std::string> wrapped = aes_kw_wrap(*kek, cek);
  if (!wrapped) return internal_error("key wrap failed");
  encrypted_key = std::move(*wrapped);
  std::string header = std::string(R"({"alg":")") + kEcdhAlg + R"(","enc":"A256GCM","epk":)" +
                       *epk_json + R"(,"kid":")" + key.kid() + "\"}";
  b64url_append(header_b64, header);
  return {};
}

struct Parts {
  std::string_view header, encrypted_key, iv, ciphertext, tag;
};

Result<Parts> split(std::string_view compact) {
  if (compact.size() > kMaxCompact) return invalid_jwe("the JWE is too large");
  std::string_view part[5];
  for (int i = 0; i < 4; ++i) {
    size_t dot = compact.find('.');
    if (dot == std::string_view::npos) return invalid_jwe("a compact JWE has five parts");
    part[i] = compact.substr(0, dot);
    compact.remove_prefix(dot + 1);
  }
  if (compact.find('.') != std::string_view::npos) {
    return invalid_jwe("a compact JWE has five parts");
  }
  part[4] = compact;
  if (part[0].empty() || part[0].size() > kMaxHeaderB64) {
    return invalid_jwe("the protected header is empty or too large");
  }
  if (part[1].size() > kMaxEncryptedKeyB64 || part[2].size() > 64 || part[4].size() > 64) {
    return invalid_jwe("a JWE part is too large");
  }
  return Parts{part[0], part[1], part[2], part[3], part[4]};
}

Result<json::object> parse_header(std::string_view header_b64) {
  std::optional<std::string> text = b64url_decode(header_b64);
  if (!text) return invalid_jwe("the protected header is not base64url");
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  json::object* o = ec ? nullptr : v.if_object();
  if (o == nullptr) return invalid_jwe("the protected header is not a JSON object");
  const json::value* alg = o->if_contains("alg");
  const json::value* enc = o->if_contains("enc");
  if (alg == nullptr || !alg->is_string() || enc == nullptr || !enc->is_string()) {
    return invalid_jwe("the protected header needs string \"alg\" and \"enc\"");
  }
  if (o->contains("zip")) return invalid_jwe("compressed JWEs are not supported");
  if (o->contains("crit")) return invalid_jwe("critical header extensions are not supported");
  return std::move(*o);
}

std::string_view str(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  const json::string* s = v == nullptr ? nullptr : v->if_string();
  return s == nullptr ? std::string_view() : std::string_view(s->data(), s->size());
}

// Optional base64url header members ("apu", "apv").
Result<std::string> b64_param(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return std::string();
  const json::string* s = v->if_string();
  std::optional<std::string> raw = s ? b64url_decode(std::string_view(*s)) : std::nullopt;
  if (!raw) return invalid_jwe("\"" + std::string(name) + "\" is not a base64url string");
  return std::move(*raw);
}

// The CEK of an ECDH-ES* JWE: agree on Z with the sender's "epk", then derive or unwrap.
Result<std::string> ecdh_cek(const PrivateKey& key, const json::object& header, int kek_bytes,
                             std::string_view encrypted_key, size_t cek_bytes) {
  const json::value* epk_value = header.if_contains("epk");
  const json::object* epk_obj = epk_value == nullptr ? nullptr : epk_value->if_object();
  if (epk_obj == nullptr) return invalid_jwe("ECDH-ES needs an \"epk\" object");
  auto epk = pkey_from_jwk(*epk_obj, false);
  if (!epk) return invalid_jwe("the \"epk\" is not a valid public key");
  auto epk_info = classify(epk->get());
  if (!epk_info || key.type() == KeyType::kRsa || epk_info->curve != key.public_key().curve()) {
    return decrypt_failed();
  }
  auto apu = b64_param(header, "apu");
  if (!apu) return apu.error();
  auto apv = b64_param(header, "apv");
  if (!apv) return apv.error();
  std::optional<std::string> z = ecdh(key.get(), epk->get(), true);
  if (!z) return decrypt_failed();
  Wipe wipe_z(*z);
  std::string_view alg = str(header, "alg");
  if (kek_bytes == 0) {
    if (!encrypted_key.empty())
      return invalid_jwe("direct ECDH-ES must have an empty encrypted key");
    return concat_kdf(*z, str(header, "enc"), *apu, *apv, cek_bytes);
  }
  auto kek = concat_kdf(*z, alg, *apu, *apv, static_cast<size_t>(kek_bytes));
  if (!kek) return kek.error();
  Wipe wipe_kek(*kek);
  std::optional<std::string> cek = aes_kw_unwrap(*kek, encrypted_key);
  if (!cek || cek->size() != cek_bytes) return decrypt_failed();
  return std::move(*cek);
}

// The CEK of an RSA-OAEP* JWE. A failed unwrap continues with a random CEK, so that it
// fails later, the same way and after the same work as a bad tag (RFC 7516 §11.5).
Result<std::string> rsa_cek(const PrivateKey& key, std::string_view alg,
                            std::string_view encrypted_key, size_t cek_bytes) {
  if (key.type() != KeyType::kRsa) return decrypt_failed();
  std::optional<std::string> cek =
      rsa_oaep_decrypt(key.get(), alg == "RSA-OAEP" ? "SHA1" : "SHA256", encrypted_key);
  if (cek && cek->size() == cek_bytes) return std::move(*cek);
  if (cek) OPENSSL_cleanse(cek->data(), cek->size());
  std::string random(cek_bytes, '\0');
  if (!random_bytes(random.data(), random.size())) return decrypt_failed();
  return random;
}

}  // namespace

namespace detail {
std::string rsa_jwe_header_b64(std::string_view kid) {
  std::string out;
  b64url_append(out, std::string(R"({"alg":")") + kRsaAlg + R"(","enc":"A256GCM","kid":")" +
                         std::string(kid) + "\"}");
  return out;
}
}  // namespace detail

Result<std::string> concat_kdf(std::string_view z, std::string_view alg_id, std::string_view apu,
                               std::string_view apv, size_t key_bytes) {
  if (z.empty() || key_bytes == 0 || key_bytes > 64 || alg_id.size() > 256 ||
      apu.size() > kMaxHeaderB64 || apv.size() > kMaxHeaderB64) {
    return make_error(ErrorKind::kBadRequest, "invalid_argument", "bad Concat KDF input");
  }
  std::string info;  // OtherInfo, RFC 7518 §4.6.2
  info.reserve(16 + alg_id.size() + apu.size() + apv.size());
  append_be32(info, alg_id.size());
  info.append(alg_id);
  append_be32(info, apu.size());
  info.append(apu);
  append_be32(info, apv.size());
  info.append(apv);
  append_be32(info, key_bytes * 8);
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "SSKDF", nullptr);  // shared, immutable
  KdfCtx ctx(kdf != nullptr ? EVP_KDF_CTX_new(kdf) : nullptr);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(z.data()), z.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()),
      OSSL_PARAM_construct_end()};
  std::string out(key_bytes, '\0');
  if (!ctx || EVP_KDF_derive(ctx.get(), bytes(out), out.size(), params) != 1) {
    return internal_error("Concat KDF failed");
  }
  return out;
}

Result<std::string> jwe_seal(const PublicKey& key, std::string_view plaintext) {
  if (key.get() == nullptr) return internal_error("no key");
  unsigned char random[kCekBytes + kGcmIvBytes];
  if (!random_bytes(random, sizeof random)) return internal_error("no randomness");
  std::string cek(reinterpret_cast<const char*>(random), kCekBytes);
  Wipe wipe_cek(cek);
  std::string_view iv(reinterpret_cast<const char*>(random) + kCekBytes, kGcmIvBytes);
  std::string encrypted_key, ecdh_header;
  const std::string* header = &key.jwe_header_b64_;
  if (key.type() == KeyType::kRsa) {
    std::optional<std::string> wrapped = key.oaep_->encrypt(cek);
    if (!wrapped) return internal_error("RSA-OAEP encryption failed");
    encrypted_key = std::move(*wrapped);
  } else {
    Status st = ecdh_wrap(key, cek, ecdh_header, encrypted_key);
    if (!st) return st.error();
    header = &ecdh_header;
  }
  std::string out;
  out.reserve(header->size() + b64url_size(encrypted_key.size()) + b64url_size(kGcmIvBytes) +
              b64url_size(plaintext.size()) + b64url_size(kGcmTagBytes) + 8);
  out.append(*header).append(1, '.');
  b64url_append(out, encrypted_key);
  out += '.';
  b64url_append(out, iv);
  out += '.';
  unsigned char tag[kGcmTagBytes];
  bool sealed = gcm_seal_b64(cek, iv, *header, plaintext, out, tag);
  OPENSSL_cleanse(random, sizeof random);
  if (!sealed) return internal_error("AES-GCM encryption failed");
  out += '.';
  b64url_append(out, std::string_view(reinterpret_cast<const char*>(tag), sizeof tag));
  return out;
}

Result<JweHeader> jwe_peek_header(std::string_view compact) {
  auto parts = split(compact);
  if (!parts) return parts.error();
  auto header = parse_header(parts->header);
  if (!header) return header.error();
  const json::value* kid = header->if_contains("kid");
  if (kid != nullptr && !kid->is_string()) return invalid_jwe("\"kid\" is not a string");
  return JweHeader{std::string(str(*header, "alg")), std::string(str(*header, "enc")),
                   std::string(str(*header, "kid"))};
}

Result<std::string> jwe_open(const PrivateKey& key, std::string_view compact) {
  if (key.get() == nullptr) return internal_error("no key");
  auto parts = split(compact);
  if (!parts) return parts.error();
  auto header = parse_header(parts->header);
  if (!header) return header.error();
  std::string_view alg = str(*header, "alg");
  size_t cek_bytes = enc_key_bytes(str(*header, "enc"));
  if (cek_bytes == 0) return invalid_jwe("unsupported \"enc\"");
  int kek_bytes = ecdh_kek_bytes(alg);
  if (alg != "RSA-OAEP" && alg != "RSA-OAEP-256" && kek_bytes < 0) {
    return invalid_jwe("unsupported \"alg\"");
  }
  std::optional<std::string> encrypted_key = b64url_decode(parts->encrypted_key);
  std::optional<std::string> iv = b64url_decode(parts->iv);
  std::optional<std::string> tag = b64url_decode(parts->tag);
  if (!encrypted_key || !iv || iv->size() != kGcmIvBytes || !tag || tag->size() != kGcmTagBytes) {
    return invalid_jwe("bad encrypted key, IV or tag");
  }
  auto cek = kek_bytes < 0 ? rsa_cek(key, alg, *encrypted_key, cek_bytes)
                           : ecdh_cek(key, *header, kek_bytes, *encrypted_key, cek_bytes);
  if (!cek) return cek.error();
  Wipe wipe_cek(*cek);
  std::optional<std::string> ciphertext = b64url_decode(parts->ciphertext);
  if (!ciphertext) return invalid_jwe("the ciphertext is not base64url");
  std::optional<std::string> plaintext = gcm_open(*cek, *iv, parts->header, *ciphertext, *tag);
  if (!plaintext) return decrypt_failed();
  return std::move(*plaintext);
}

}  // namespace sealhook::crypto
