"""The command line: --help everywhere, option precedence (flag > env > TOML), keygen file
modes, and SIGTERM draining with a report of what is left."""
import os
import signal
import stat
import subprocess

import pytest

from conftest import ADMIN, HangingReceiver, Proc


def test_help_on_every_command(binary):
    for cmd in ([], ["serve"], ["keygen"], ["receive"]):
        r = subprocess.run([binary, *cmd, "--help"], capture_output=True, text=True)
        assert r.returncode == 0 and "Usage" in r.stdout, cmd
    serve_help = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True).stdout
    for flag in ["--listen", "--queue", "--queue-path", "--queue-sync", "--store", "--admin-token",
                 "--allow-private-networks", "--config"]:
        assert flag in serve_help


def test_receive_help_marks_the_secret_required_and_shows_defaults(binary, tmp_path):
    h = subprocess.run([binary, "receive", "--help"], capture_output=True, text=True).stdout
    assert "--secret" in h and "--secret-file" in h
    assert "one of these is required" in h, h  # checked after the config file, which may hold it
    assert "SEALHOOK_RECEIVE_MAX_PAYLOAD_BYTES" in h and "--max-payload-bytes" in h, h
    for flag, default in (("--listen", "127.0.0.1:9000"), ("--threads", "4"), ("--tolerance-s", "300"),
                          ("--fail-rate", "0"), ("--delay-ms", "0"), ("--seed", "0"),
                          ("--max-payload-bytes", "1048576")):
        line = next(l for l in h.splitlines() if l.strip().startswith(flag + " "))
        assert line.rstrip().endswith("=" + default) or f"={default} " in line, (flag, line)
    key = tmp_path / "k.jwk"
    key.write_text("{}")
    r = subprocess.run([binary, "receive", "--key", str(key)], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode != 0 and "secret" in r.stderr, r.stderr


def test_serve_help_explains_the_journal_and_the_ssrf_knobs(binary):
    h = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True).stdout
    assert "delivery records wait to be written together" not in h  # the old jargon
    assert "GET /v1/deliveries" in h and "written once instead of twice" in h, h
    for flag in ("--allow-networks", "--registration-lookups", "--registration-lookup-timeout-ms"):
        assert flag in h, flag


def test_keygen_writes_private_files_0600(keygen):
    for kind in ("rsa", "x25519"):
        d = keygen(f"modes-{kind}", kind)
        for name, mode in (("private.pem", 0o600), ("private.jwk", 0o600), ("public.pem", 0o644),
                           ("public.jwk", 0o644)):
            assert stat.S_IMODE(os.stat(os.path.join(d, name)).st_mode) == mode, (kind, name)


def test_flags_beat_environment_beat_toml(binary, tmp_path):
    cfg = tmp_path / "sealhook.toml"
    cfg.write_text('listen = "127.0.0.1:1"\nadmin_token = "toml-token-0123456789abcdef"\n'
                   f'store = "sqlite:{tmp_path}/toml-store"\nallow_private_networks = true\n')
    env = dict(os.environ, SEALHOOK_LISTEN="127.0.0.1:0", SEALHOOK_ADMIN_TOKEN="env-token-0123456789abcdef")
    p = Proc([binary, "serve", "--config", str(cfg), "--admin-token", ADMIN], env=env)
    try:
        m = p.wait_line(r"listening on 127\.0\.0\.1:(\d+)")
        assert m.group(1) != "1"  # env beat the file
        import requests
        base = f"http://127.0.0.1:{m.group(1)}"
        ok = requests.get(base + "/v1/tenants", headers={"Authorization": f"Bearer {ADMIN}"})
        assert ok.status_code == 200  # the flag beat env and file
        for other in ("env-token-0123456789abcdef", "toml-token-0123456789abcdef"):
            assert requests.get(base + "/v1/tenants", headers={"Authorization": f"Bearer {other}"}).status_code == 401
        assert os.path.exists(tmp_path / "toml-store")  # the file still set what nobody else did
    finally:
        p.stop()


def test_bad_config_is_refused_clearly(binary, tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('no_such_option = 1\n')
    r = subprocess.run([binary, "serve", "--config", str(cfg)], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "no_such_option" in r.stderr


def test_out_of_range_options_are_refused(binary, tmp_path):
    for flag, value in (("--journal-settle-ms", "60001"), ("--journal-linger-ms", "-1"),
                        ("--io-threads", "0"), ("--max-attempts", "51"),
                        ("--metrics-refresh-ms", "99"), ("--metrics-type-classes", "0")):
        r = subprocess.run([binary, "serve", "--store", f"sqlite:{tmp_path}/s", flag, value],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode != 0 and flag in r.stderr, (flag, r.stderr)


def test_sigterm_drains_in_flight_work(start_server, start_receiver, keygen):
    srv = start_server("--queue", "memory", "--drain-timeout-ms", "20000")
    keys = keygen("drain")
    slow = start_receiver(keys, "--delay-ms", "300")
    t = srv.onboard("drain", keys, slow.url)
    slow.set_secret(t["endpoint"]["secret"])
    for i in range(5):
        srv.ok("POST", "/v1/events", body={"type": "a", "payload": i})
    assert srv.proc.stop(signal.SIGTERM) == 0
    assert any("drained: nothing left" in l for l in srv.proc.out_lines), srv.proc.out_lines
    assert len(slow.events()) == 5


def test_sigterm_reports_what_is_left_when_the_drain_times_out(start_server, keygen):
    srv = start_server("--queue", "memory", "--drain-timeout-ms", "300", "--retry-base-ms", "60000")
    keys = keygen("left")
    t = srv.onboard("left", keys, "http://127.0.0.1:9/nothing-listens")
    for i in range(3):
        srv.ok("POST", "/v1/events", body={"type": "a", "payload": i})
    assert srv.proc.stop(signal.SIGTERM) == 0
    assert any("not drained: 3 deliveries left" in l and "recorded as lost (3)" in l
               for l in srv.proc.out_lines), srv.proc.out_lines
    # Their records say so: nothing is listed as pending that no queue will deliver.
    again = start_server("--queue", "memory", store=srv.store)
    assert again.ok("GET", "/v1/deliveries?status=pending", t["api_key"])["data"] == []
    lost = again.ok("GET", "/v1/deliveries?status=lost", t["api_key"])["data"]
    assert len(lost) == 3 and all(d["last_error"].startswith("lost") for d in lost)


def test_sigterm_with_the_sqlite_queue_keeps_what_is_queued(start_server, keygen):
    srv = start_server("--drain-timeout-ms", "300", "--retry-base-ms", "60000")
    keys = keygen("kept")
    t = srv.onboard("kept", keys, "http://127.0.0.1:9/nothing-listens")
    for i in range(3):
        srv.ok("POST", "/v1/events", body={"type": "a", "payload": i})
    assert srv.proc.stop(signal.SIGTERM) == 0
    assert any("stopped: 3 deliveries kept" in l for l in srv.proc.out_lines), srv.proc.out_lines
    again = start_server(store=srv.store)
    pending = again.ok("GET", "/v1/deliveries?status=pending", t["api_key"])["data"]
    assert len(pending) == 3
    assert int(again.metrics()['sealhook_queue_depth{queue="sqlite"}']) == 3


def test_generated_admin_token_survives_a_restart(binary, tmp_path):
    import requests
    store = f"sqlite:{tmp_path}/token-store"
    args = [binary, "serve", "--listen", "127.0.0.1:0", "--store", store]
    first = Proc(args)
    try:
        token = first.wait_line(r"admin token \(shown once.*\): (sht_\S+)").group(1)
        port = first.wait_line(r"listening on [\d.]+:(\d+)").group(1)
        auth = {"Authorization": f"Bearer {token}"}
        assert requests.get(f"http://127.0.0.1:{port}/v1/tenants", headers=auth).status_code == 200
        # The hint is a command that works as printed, against this very server.
        first.wait_line(r"/v1/events")
        curl = next(l.strip() for l in first.out_lines if "/v1/tenants" in l)
        assert f"http://127.0.0.1:{port}/v1/tenants" in curl and token in curl, curl
        made = subprocess.run(curl, shell=True, capture_output=True, text=True, timeout=30)
        assert '"api_key"' in made.stdout, (curl, made.stdout, made.stderr)
        assert not any("README" in l for l in first.out_lines), first.out_lines
    finally:
        first.stop()
    again = Proc(args)
    try:
        port = again.wait_line(r"listening on [\d.]+:(\d+)").group(1)
        again.wait_line(r"admin token: the one generated on this store's first start")
        assert not any("shown once" in l for l in again.out_lines)  # never printed twice
        base = f"http://127.0.0.1:{port}/v1/tenants"
        assert requests.get(base, headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert requests.get(base, headers={"Authorization": "Bearer sht_wrong"}).status_code == 401
    finally:
        again.stop()
    with open(os.path.join(tmp_path, "token-store", "sealhook.db"), "rb") as f:
        assert token.encode() not in f.read()  # only its hash is kept


@pytest.mark.parametrize("queue", ["memory", "sqlite"])
def test_sigterm_report_counts_attempts_in_flight(start_server, keygen, queue):
    # 10 events to an endpoint that never answers, 4 at a time: 4 in flight and 6 waiting;
    # 3 more wait for a retry a minute away. The report counts both, from the queue's leases.
    srv = start_server("--queue", queue, "--drain-timeout-ms", "300",
                       "--max-inflight-per-endpoint", "4", "--retry-base-ms", "60000")
    hang = HangingReceiver()
    try:
        hung = srv.onboard("hung", keygen("hung"), hang.url)
        down = srv.onboard("down", keygen("down"), "http://127.0.0.1:9/nothing-listens")
        for t, n in ((hung, 10), (down, 3)):
            for i in range(n):
                srv.ok("POST", "/v1/events",
                       body={"tenant": t["tenant"]["id"], "type": "a", "payload": i})
        hang.wait_accepted(4)
        srv.proc.wait_for(lambda _: srv.metrics()[f'sealhook_queue_leased{{queue="{queue}"}}'] == 4, what="4 leased")
        assert srv.proc.stop(signal.SIGTERM) == 0
    finally:
        hang.close()
    out = srv.proc.out_lines
    if queue == "memory":
        want = ("not drained: 13 deliveries left in the memory queue, 4 of them in flight",
                "recorded as lost (13)")
    else:
        want = ("stopped: 13 deliveries kept in", "4 of them in flight")
    assert any(all(w in l for w in want) for l in out), out
    assert hang.accepted == 4
