// `sealhook keygen`: the customer's key pair as PEM and JWK; private files mode 0600.
#include <sys/stat.h>

#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "app/commands.hpp"
#include "crypto/keygen.hpp"

namespace sealhook::app {
namespace {

struct KeygenArgs {
  std::string type = "rsa";
  int bits = 2048;
  std::string out = ".";
  bool force = false;
};

bool write_file(const std::filesystem::path& path, const std::string& text, bool secret,
                bool force) {
  if (!force && std::filesystem::exists(path)) {
    std::cerr << "keygen: " << path << " exists (use --force to overwrite)\n";
    return false;
  }
  {
    std::ofstream f(path, std::ios::trunc);
    if (!f) {
      std::cerr << "keygen: cannot write " << path << "\n";
      return false;
    }
  }
  ::chmod(path.c_str(), secret ? 0600 : 0644);  // restrict before the secret is written
  std::ofstream f(path, std::ios::trunc);
  f << text;
  if (text.empty() || text.back() != '\n') f << '\n';
  return static_cast<bool>(f);
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
  auto pub = key->public_key();
  bool ok = write_file(dir / "private.pem", key->to_pem(), true, a.force) &&
            write_file(dir / "private.jwk", boost::json::serialize(key->to_jwk()), true, a.force) &&
            write_file(dir / "public.pem", pub.to_pem(), false, a.force) &&
            write_file(dir / "public.jwk", boost::json::serialize(pub.to_jwk()), false, a.force);
  if (!ok) return 1;
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
  cmd->add_flag("--force", args->force, "overwrite existing files");
  return [args] { return run(*args); };
}

}  // namespace sealhook::app
