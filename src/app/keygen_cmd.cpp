// `sealhook keygen`: the customer's key pair as PEM and JWK; private files mode 0600.
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <iostream>
#include <memory>

#include "app/commands.hpp"
#include "app/file_set.hpp"
#include "crypto/keygen.hpp"

namespace sealhook::app {
namespace {

struct KeygenArgs {
  std::string type = "rsa";
  int bits = 2048;
  std::string out = ".";
  bool force = false;
};

std::string with_newline(std::string text) {
  if (text.empty() || text.back() != '\n') text.push_back('\n');
  return text;
}

int run(const KeygenArgs& a) {
  auto type = a.type == "x25519" ? crypto::KeyType::kX25519
              : a.type == "p256" ? crypto::KeyType::kEc
                                 : crypto::KeyType::kRsa;
  auto key = crypto::generate_key(type, a.bits);
  if (!key) {
    std::cerr << "keygen: " << key.error().message << "\n";
    return 2;
  }
  std::filesystem::path dir(a.out);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::cerr << "keygen: cannot create " << dir << ": " << ec.message() << "\n";
    return 1;
  }
  auto pub = key->public_key();
  // The four files are one key pair: all of them are written, or none.
  std::vector<FileToWrite> files{
      {dir / "private.pem", with_newline(key->to_pem()), 0600},
      {dir / "private.jwk", with_newline(boost::json::serialize(key->to_jwk())), 0600},
      {dir / "public.pem", with_newline(pub.to_pem()), 0644},
      {dir / "public.jwk", with_newline(boost::json::serialize(pub.to_jwk())), 0644}};
  if (auto st = write_file_set(files, a.force); !st) {
    std::cerr << "keygen: " << st.error().message << "\n";
    return 1;
  }
  std::cout << "kid " << key->kid() << " (" << pub.alg() << ")\n"
            << "wrote " << (dir / "private.pem").string() << ", private.jwk (keep secret), "
            << "public.pem, public.jwk (upload with POST /v1/keys)\n";
  return 0;
}

}  // namespace

std::function<int()> add_keygen_command(CLI::App& app) {
  auto args = std::make_shared<KeygenArgs>();
  auto* cmd = app.add_subcommand("keygen", "customer side: write a key pair (PEM and JWK)");
  cmd->add_option("--type", args->type, "rsa | x25519 | p256")
      ->check(CLI::IsMember({"rsa", "x25519", "p256"}))
      ->capture_default_str();
  cmd->add_option("--bits", args->bits, "RSA modulus size")
      ->check(CLI::IsMember({2048, 3072, 4096}))
      ->capture_default_str();
  cmd->add_option("--out", args->out,
                  "directory for private.pem, private.jwk, public.pem, public.jwk")
      ->capture_default_str();
  cmd->add_flag("--force", args->force, "replace an existing key pair (all four files)");
  return [args] { return run(*args); };
}

}  // namespace sealhook::app
