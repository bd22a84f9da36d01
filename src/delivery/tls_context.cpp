#include "delivery/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <filesystem>
#include <memory>

namespace sealhook::delivery {
namespace {

namespace asio = boost::asio;

Error bad_ca_file(const std::string& path, const std::string& why) {
  return make_error(ErrorKind::kBadRequest, "invalid_config", "--ca-file " + path + ": " + why);
}

std::string openssl_reason() {
  char buf[256];
  ERR_error_string_n(ERR_peek_last_error(), buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

// Every certificate of the PEM file into the context's trust store.
Status add_ca_file(asio::ssl::context& ctx, const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return bad_ca_file(path, ec ? ec.message() : "not a regular file");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path.c_str(), "r"), &BIO_free);
  if (!bio) return bad_ca_file(path, "cannot open: " + openssl_reason());
  X509_STORE* store = SSL_CTX_get_cert_store(ctx.native_handle());
  int added = 0;
  ERR_clear_error();
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    const int ok = X509_STORE_add_cert(store, cert);
    X509_free(cert);
    if (ok != 1) return bad_ca_file(path, "cannot add a certificate: " + openssl_reason());
    added++;
  }
  // The read after the last certificate ends with "no start line"; anything else is damage.
  const unsigned long last = ERR_peek_last_error();
  if (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE) {
    ERR_clear_error();
    if (added == 0) return bad_ca_file(path, "no PEM certificate in it");
    return {};
  }
  if (last == 0 && added > 0) return {};
  return bad_ca_file(path, "not a PEM certificate file: " + openssl_reason());
}

}  // namespace

Result<asio::ssl::context> make_client_tls_context(const std::string& ca_file) {
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  boost::system::error_code ec;
  ctx.set_default_verify_paths(ec);  // on failure only --ca-file verifies (or nothing does)
  ctx.set_verify_mode(asio::ssl::verify_peer, ec);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  if (!ca_file.empty()) {
    if (Status st = add_ca_file(ctx, ca_file); !st) return st.error();
  }
  return Result<asio::ssl::context>(std::move(ctx));
}

}  // namespace sealhook::delivery
