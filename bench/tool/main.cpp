// sealhook-bench: `sink` (acknowledges every POST at once and records first arrivals by
// webhook-id) and `load` (keep-alive publisher of POST /v1/events). See bench/README.md.
#include <CLI/CLI.hpp>

#include "common.hpp"

int main(int argc, char** argv) {
  using namespace sealhook::bench;
  CLI::App app{"sealhook-bench: native sink and load generator for bench/run"};
  app.require_subcommand(1);

  SinkArgs s;
  auto* sink = app.add_subcommand("sink", "answer every POST 200 at once; GET /stats for arrivals");
  sink->add_option("--listen", s.listen, "address:port (port 0 picks one)")->capture_default_str();
  sink->add_option("--threads", s.threads, "io threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  sink->add_option("--port-file", s.port_file, "write the chosen port here");
  sink->add_option(
      "--hang-listen", s.hang_listen,
      "also open a listener that accepts connections and never answers (e.g. 127.0.0.1:0)");
  sink->add_option("--hang-port-file", s.hang_port_file,
                   "write the hang listener's port here (implies --hang-listen 127.0.0.1:0)");
  sink->add_option("--expect", s.expect, "expected arrivals (pre-sizes the table)");
  sink->add_flag("--paused", s.paused,
                 "start paused: hold every webhook POST unanswered until POST /resume");

  LoadArgs l;
  auto* load = app.add_subcommand("load", "publish N events over C keep-alive connections");
  load->add_option("--url", l.url, "http://HOST:PORT/v1/events")->required();
  load->add_option("--token", l.token, "bearer token (admin or tenant API key)")->required();
  load->add_option("--connections", l.connections, "keep-alive connections")
      ->check(CLI::Range(1, 10'000))
      ->capture_default_str();
  load->add_option("--events", l.events, "events to publish")->capture_default_str();
  load->add_option("--rate", l.rate, "events/s overall (0: as fast as possible)")
      ->capture_default_str();
  auto* bf =
      load->add_option("--body-file", l.body_file, "request body (JSON) sent for every event");
  load->add_option("--payload-bytes", l.payload_bytes, "size of the generated payload")
      ->excludes(bf)
      ->capture_default_str();
  auto* type =
      load->add_option("--type", l.type, "event type of the generated body")->capture_default_str();
  load->add_option("--types-round-robin", l.types_round_robin,
                   "N > 0: event k (in send order) has type <--type-prefix>(k % N)")
      ->excludes(bf)
      ->excludes(type)
      ->check(CLI::Range(uint64_t{1}, uint64_t{10'000'000}));
  load->add_option("--type-prefix", l.type_prefix, "prefix of the round-robin types")
      ->capture_default_str();
  load->add_option("--body-template", l.body_template,
                   "request body with every {k} replaced by the request's index (0-based), e.g. "
                   "to create endpoints: --url .../v1/endpoints --expect-status 201")
      ->excludes(bf)
      ->excludes("--types-round-robin");
  load->add_option("--expect-status", l.expect_status, "answer status counted as accepted")
      ->capture_default_str();
  load->add_option("--tenant", l.tenant, "\"tenant\" field of the generated body");
  load->add_option("--out", l.out, "per-event records: event_id answer_ns latency_ns status");
  load->add_option("--timeout-s", l.timeout_s, "deadline of one publish")->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  if (*sink) {
    if (!s.hang_port_file.empty() && s.hang_listen.empty()) s.hang_listen = "127.0.0.1:0";
    return run_sink(s);
  }
  return run_load(l);
}
