// https: certificate chain and host name verification against a local TLS server.
#include "http_test_fixture.hpp"
#include "http_test_tls.hpp"

namespace sealhook::delivery {
namespace {

using namespace sealhook::delivery::testing;

std::string https_url(const TestServer& s, const std::string& host = "127.0.0.1") {
  return "https://" + host + ":" + std::to_string(s.port()) + "/hook";
}

TEST_F(HttpSenderTest, RefusesAnUntrustedCertificate) {
  const TestCert cert = make_self_signed_cert("IP:127.0.0.1");
  TestServer server(ok_reply, make_server_tls(cert));
  sender();
  const SendResult r = send(https_url(server));
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.error.rfind("tls: certificate verify failed", 0), 0u) << r.error;
  EXPECT_EQ(server.requests(), 0);
}

TEST_F(HttpSenderTest, SendsOverTlsToATrustedCertificateForTheIp) {
  const TestCert cert = make_self_signed_cert("IP:127.0.0.1");
  TestServer server(ok_reply, make_server_tls(cert));
  {
    ScopedTrustedCert trust(cert);
    sender();
  }
  for (int i = 0; i < 3; ++i) {
    const SendResult r = send(https_url(server));
    EXPECT_EQ(r.status, 200) << r.error;
  }
  EXPECT_EQ(server.connections(), 1);  // TLS connections are pooled too
}

TEST_F(HttpSenderTest, VerifiesTheHostName) {
  const TestCert cert = make_self_signed_cert("DNS:localhost");
  TestServer server(ok_reply, make_server_tls(cert));
  {
    ScopedTrustedCert trust(cert);
    sender();
  }
  const SendResult by_name = send(https_url(server, "localhost"));
  EXPECT_EQ(by_name.status, 200) << by_name.error;
  const SendResult by_ip = send(https_url(server));  // the cert names no IP
  EXPECT_EQ(by_ip.status, 0);
  EXPECT_EQ(by_ip.error.rfind("tls: certificate verify failed", 0), 0u) << by_ip.error;
  EXPECT_EQ(server.requests(), 1);
}

}  // namespace
}  // namespace sealhook::delivery
