// Every receive option in its TOML form, and the options receive refuses at start.
#include "app/receive_config.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "config_test_util.hpp"
#include "crypto/jwe.hpp"

namespace sealhook::app {
namespace {

using testing::parse;
using testing::ScratchDir;

constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

using ReceiveCase = testing::TomlCase<ReceiveConfig>;

const std::map<std::string, ReceiveCase>& receive_cases() {
  static const std::map<std::string, ReceiveCase> cases{
      {"listen", {"listen = 9001", [](auto& c) { return c.listen == "9001"; }}},
      {"key",
       {R"(key = ["k1.jwk", "k2.pem"])",
        [](auto& c) {
          return c.key_files == std::vector<std::string>{"k1.jwk", "k2.pem"};
        }}},
      {"secret",
       {std::string("secret = [\"") + kSecret + "\"]",
        [](auto& c) { return c.receiver.secrets == std::vector<std::string>{kSecret}; }}},
      {"secret-file",
       {R"(secret_file = "/s")", [](auto& c) { return c.receiver.secret_file == "/s"; }}},
      {"fail-rate", {"fail-rate = 0.25", [](auto& c) { return c.receiver.fail_rate == 0.25; }}},
      {"delay-ms", {"delay_ms = 40", [](auto& c) { return c.receiver.delay_ms == 40; }}},
      {"tolerance-s", {"tolerance-s = 60", [](auto& c) { return c.receiver.tolerance_s == 60; }}},
      {"seed", {"seed = 7", [](auto& c) { return c.receiver.seed == 7u; }}},
      {"threads", {"threads = 2", [](auto& c) { return c.threads == 2; }}},
      {"max-payload-bytes",
       {"max_payload_bytes = 16_777_216",
        [](auto& c) { return c.max_payload_bytes == 16'777'216; }}},
  };
  return cases;
}

TEST(ReceiveToml, EveryOptionHasATomlCase) {
  CLI::App cmd;
  ReceiveConfig cfg;
  add_receive_options(cmd, cfg);
  const auto names = testing::settable_options(cmd);
  for (const auto& name : names)
    EXPECT_TRUE(receive_cases().contains(name)) << "--" << name << " has no TOML case";
  EXPECT_EQ(names.size(), receive_cases().size()) << "a case names no option";
}

TEST(ReceiveToml, EveryOptionTakesItsTomlForm) {
  ScratchDir dir;
  for (const auto& [name, c] : receive_cases()) {
    CLI::App cmd;
    ReceiveConfig cfg;
    add_receive_options(cmd, cfg);
    parse(cmd);
    ASSERT_FALSE(c.took(cfg)) << name << ": the case must differ from the default";
    auto st = apply_config_file(cmd, dir.write(name + ".toml", c.toml + "\n"));
    ASSERT_TRUE(st.ok()) << c.toml << ": " << st.error().message;
    EXPECT_TRUE(c.took(cfg)) << c.toml;
  }
}

// The error message of validate() after parsing `args`; "" when valid.
std::string refusal(std::vector<std::string> args) {
  CLI::App cmd;
  ReceiveConfig cfg;
  add_receive_options(cmd, cfg);
  try {
    parse(cmd, std::move(args));
  } catch (const CLI::Error& e) {
    return e.what();
  }
  auto st = validate(cfg);
  return st ? "" : st.error().message;
}

TEST(ReceiveValidate, RefusesOptionsThatWouldFailEveryRequest) {
  EXPECT_EQ(refusal({"--key", "k.jwk", "--secret", kSecret}), "");
  EXPECT_NE(refusal({"--key", "k.jwk", "--secret", "notasecret"}).find("not a signing secret"),
            std::string::npos);
  EXPECT_NE(refusal({"--key", "k", "--secret", kSecret, "--secret", "whsec_AAAA"})
                .find("--secret number 2"),
            std::string::npos);
  EXPECT_NE(
      refusal({"--key", "k.jwk", "--secret", kSecret, "--tolerance-s", "-1"}).find("--tolerance-s"),
      std::string::npos);
  EXPECT_NE(refusal({"--key", "k", "--secret", kSecret, "--tolerance-s", "0"}).find("tolerance"),
            std::string::npos);
  EXPECT_NE(refusal({"--secret", kSecret}).find("needs --key"), std::string::npos);
  EXPECT_NE(refusal({"--key", "k.jwk"}).find("signing secret"), std::string::npos);
  EXPECT_NE(refusal({"--key", "k", "--secret", kSecret, "--max-payload-bytes", "0"})
                .find("--max-payload-bytes"),
            std::string::npos);
}

TEST(ReceiveValidate, ASecretFileMayComeLaterButOneThereMustHoldSecrets) {
  ScratchDir dir;
  const std::string later = (dir.path() / "later").string();
  EXPECT_EQ(refusal({"--key", "k", "--secret-file", later}), "");
  EXPECT_EQ(refusal({"--key", "k", "--secret-file",
                     dir.write("good", std::string("\n") + kSecret + "\n\n")}),
            "");
  EXPECT_NE(refusal({"--key", "k", "--secret-file",
                     dir.write("bad", kSecret + std::string("\nnotasecret\n"))})
                .find("line 2"),
            std::string::npos);
  EXPECT_NE(refusal({"--key", "k", "--secret-file", dir.path().string()}).find("is a directory"),
            std::string::npos);
}

TEST(ReceiveBodyLimit, HoldsTheJweOfTheLargestDeliveryOfTheServersDefaultPayload) {
  const size_t payload = ServeConfig{}.max_payload_bytes;
  EXPECT_EQ(ReceiveConfig{}.max_payload_bytes, payload);
  const size_t limit = receive_body_limit(payload);
  EXPECT_GE(limit, crypto::jwe_compact_bound(payload + 400));  // id, type, tenant, timestamp
  EXPECT_GT(limit, payload * 4 / 3);
  EXPECT_LT(limit, payload * 4 / 3 + 8 * 1024);
}

}  // namespace
}  // namespace sealhook::app
