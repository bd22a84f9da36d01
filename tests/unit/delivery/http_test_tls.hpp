#pragma once
// Self-signed certificates made at test time, and TLS contexts for the test server.
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

namespace sealhook::delivery::testing {

struct TestCert {
  std::string cert_pem;
  std::string key_pem;
};

// A self-signed P-256 certificate (CA:TRUE, so it can be its own trust anchor) whose
// subjectAltName is san, e.g. "IP:127.0.0.1" or "DNS:localhost". Two trust anchors at once
// want two common names: without key identifiers, OpenSSL picks an issuer by name.
TestCert make_self_signed_cert(const std::string& san, const std::string& cn = "sealhook test");

std::shared_ptr<boost::asio::ssl::context> make_server_tls(const TestCert& cert);

// Writes cert_pem to a temporary file and points SSL_CERT_FILE at it for the scope's life,
// so a context created meanwhile with set_default_verify_paths() trusts exactly that cert.
class ScopedTrustedCert {
 public:
  explicit ScopedTrustedCert(const TestCert& cert);
  ~ScopedTrustedCert();
  ScopedTrustedCert(const ScopedTrustedCert&) = delete;
  ScopedTrustedCert& operator=(const ScopedTrustedCert&) = delete;

 private:
  std::string path_;
};

}  // namespace sealhook::delivery::testing
