// --ca-file: what make_client_tls_context accepts and refuses, and that a sender trusts the
// file's CA in addition to the system store.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "delivery/tls_context.hpp"
#include "http_test_fixture.hpp"
#include "http_test_tls.hpp"

namespace sealhook::delivery {
namespace {

using namespace sealhook::delivery::testing;

class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char path[] = "/tmp/sealhook-test-cafile-XXXXXX";
    const int fd = ::mkstemp(path);
    EXPECT_GE(fd, 0);
    ::close(fd);
    path_ = path;
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string refusal(const std::string& path) {
  auto ctx = make_client_tls_context(path);
  if (ctx) return "";
  EXPECT_EQ(ctx.error().code, "invalid_config");
  EXPECT_NE(ctx.error().message.find("--ca-file " + path), std::string::npos);
  return ctx.error().message;
}

TEST(ClientTlsContext, TakesAPemFileOfCertificates) {
  const TestCert a = make_self_signed_cert("IP:127.0.0.1"), b = make_self_signed_cert("DNS:x");
  TempFile bundle(a.cert_pem + "\n# a comment between\n" + b.cert_pem);
  EXPECT_TRUE(make_client_tls_context(bundle.path()).ok());
  EXPECT_TRUE(make_client_tls_context("").ok());  // the system store only
}

TEST(ClientTlsContext, RefusesWhatIsNotACertificateFile) {
  EXPECT_NE(refusal("/nonexistent/ca.pem").find("No such file"), std::string::npos);
  EXPECT_NE(refusal(std::filesystem::temp_directory_path().string()).find("not a regular file"),
            std::string::npos);
  TempFile empty(""), garbage("not a certificate\n");
  EXPECT_NE(refusal(empty.path()).find("no PEM certificate"), std::string::npos);
  EXPECT_NE(refusal(garbage.path()).find("no PEM certificate"), std::string::npos);
  const TestCert a = make_self_signed_cert("IP:127.0.0.1");
  TempFile key_only(a.key_pem);
  EXPECT_FALSE(refusal(key_only.path()).empty());
  std::string damaged = a.cert_pem;
  damaged[damaged.size() / 2] = '!';
  TempFile broken(damaged);
  EXPECT_NE(refusal(broken.path()).find("not a PEM certificate file"), std::string::npos);
}

TEST_F(HttpSenderTest, TrustsTheCaFileBesideTheSystemStore) {
  const TestCert system_ca = make_self_signed_cert("IP:127.0.0.1", "public CA");
  const TestCert private_ca = make_self_signed_cert("IP:127.0.0.1", "private CA");
  TestServer public_server(ok_reply, make_server_tls(system_ca));
  TestServer private_server(ok_reply, make_server_tls(private_ca));
  TempFile ca_file(private_ca.cert_pem);
  {
    ScopedTrustedCert trust(system_ca);  // the "system store" (SSL_CERT_FILE)
    SenderOptions o = private_ok();
    o.ca_file = ca_file.path();
    sender(o);
  }
  for (const TestServer* s : {&public_server, &private_server}) {
    const SendResult r = send("https://127.0.0.1:" + std::to_string(s->port()) + "/hook");
    EXPECT_EQ(r.status, 200) << r.error;
  }
}

TEST_F(HttpSenderTest, WithoutTheCaFileThePrivateCaIsRefused) {
  const TestCert private_ca = make_self_signed_cert("IP:127.0.0.1");
  TestServer server(ok_reply, make_server_tls(private_ca));
  sender();
  const SendResult r = send("https://127.0.0.1:" + std::to_string(server.port()) + "/hook");
  EXPECT_EQ(r.error.rfind("tls: certificate verify failed", 0), 0u) << r.error;
}

}  // namespace
}  // namespace sealhook::delivery
