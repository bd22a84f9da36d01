// sealhook: parse the subcommand, run it. Everything else lives in src/app/.
#include <CLI/CLI.hpp>

#include "app/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"sealhook: multi-tenant webhook delivery, encrypted per tenant (JWE) and signed"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "sealhook 0.1.0");
  auto serve = sealhook::app::add_serve_command(app);
  auto worker = sealhook::app::add_worker_command(app);
  auto keygen = sealhook::app::add_keygen_command(app);
  auto receive = sealhook::app::add_receive_command(app);
  CLI11_PARSE(app, argc, argv);
  if (app.got_subcommand("serve")) return serve();
  if (app.got_subcommand("worker")) return worker();
  if (app.got_subcommand("keygen")) return keygen();
  if (app.got_subcommand("receive")) return receive();
  return 2;
}
