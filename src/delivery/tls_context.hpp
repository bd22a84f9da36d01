#pragma once
// The TLS client context of deliveries: peer verification against the system trust store
// (OpenSSL's default paths, which SSL_CERT_FILE / SSL_CERT_DIR may move), plus the CA
// certificates of --ca-file when one is given, for endpoints behind a private CA. The file
// adds to the system store rather than replacing it: one sealhook serves many tenants, and
// public endpoints must keep verifying beside the private ones.
#include <boost/asio/ssl/context.hpp>
#include <string>

#include "core/result.hpp"

namespace sealhook::delivery {

// `ca_file` empty: the system store only. Otherwise a PEM file of one or more certificates;
// a missing, unreadable or unparsable file (or one without a certificate) is an error.
Result<boost::asio::ssl::context> make_client_tls_context(const std::string& ca_file);

}  // namespace sealhook::delivery
