"""`sealhook receive` takes the largest payload a default server sends, its limit is
configurable, and options it could not use stop it at start."""
import json
import os
import subprocess
import time

import pytest

from conftest import ADMIN, Proc

MAX_PAYLOAD = 1024 * 1024  # serve's default --max-payload-bytes
LONGEST_TYPE = "t." + "x" * 254  # event types are at most 256 characters


def settle(srv, api_key, timeout=60):
    """The tenant's only delivery once it is delivered or dead."""
    deadline = time.monotonic() + timeout
    while True:
        data = srv.ok("GET", "/v1/deliveries", api_key)["data"]
        if data and data[0]["status"] in ("delivered", "dead"):
            return srv.ok("GET", f"/v1/deliveries/{data[0]['id']}", api_key)
        assert time.monotonic() < deadline, data
        time.sleep(0.05)


def publish(srv, tenant_id, size):
    payload = '"' + "p" * (size - 2) + '"'  # JSON text of exactly `size` bytes
    r = srv.call("POST", "/v1/events", raw='{"type":"%s","tenant":"%s","payload":%s}'
                 % (LONGEST_TYPE, tenant_id, payload), headers={"Content-Type": "application/json"})
    assert r.status_code == 202, r.text
    return payload


@pytest.mark.parametrize("kind,bits", [("rsa", 4096), ("x25519", 2048)])
def test_a_payload_of_exactly_max_payload_bytes_is_delivered_and_acknowledged(
        start_server, start_receiver, keygen, kind, bits):
    srv = start_server()
    keys = keygen(f"max-{kind}", kind, bits)
    rx = start_receiver(keys)
    t = srv.onboard("max", keys, rx.url, max_attempts=2)
    rx.set_secret(t["endpoint"]["secret"])
    payload = publish(srv, t["tenant"]["id"], MAX_PAYLOAD)
    d = settle(srv, t["api_key"])
    assert d["status"] == "delivered", d
    assert [a["status_code"] for a in d["attempts"]] == [200], d["attempts"]
    [e] = rx.events()
    assert e["data_text"] == payload and e["event"]["type"] == LONGEST_TYPE


def test_the_receivers_payload_limit_is_configurable_through_the_environment(
        binary, start_server, keygen, tmp_path):
    srv = start_server()
    keys = keygen("small", "x25519")
    secret_file = tmp_path / "secret"
    env = dict(os.environ, SEALHOOK_RECEIVE_MAX_PAYLOAD_BYTES="1000")
    rx = Proc([binary, "receive", "--listen", "127.0.0.1:0", "--key", os.path.join(keys, "private.jwk"),
               "--secret-file", str(secret_file)], env=env)
    try:
        port = rx.wait_line(r"listening on port (\d+) \(payloads up to 1000 bytes", stream="err").group(1)
        t = srv.onboard("small", keys, f"http://127.0.0.1:{port}/hook", max_attempts=1)
        secret_file.write_text(t["endpoint"]["secret"] + "\n")
        publish(srv, t["tenant"]["id"], 4000)
        d = settle(srv, t["api_key"])
        assert d["status"] == "dead" and d["attempts"][-1]["status_code"] == 413, d
    finally:
        rx.stop()


def test_the_receivers_toml_file_holds_its_key_and_secret(binary, keygen, tmp_path):
    keys = keygen("toml", "x25519")
    cfg = tmp_path / "receive.toml"
    cfg.write_text(f'listen = "127.0.0.1:0"\nkey = ["{keys}/private.jwk"]\n'
                   'secret = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]\nmax-payload-bytes = 65536\n'
                   "tolerance-s = 60\nthreads = 2\n")
    rx = Proc([binary, "receive", "--config", str(cfg)])
    try:
        rx.wait_line(r"listening on port \d+ \(payloads up to 65536 bytes", stream="err")
    finally:
        assert rx.stop() == 0


def test_options_receive_cannot_use_stop_it_at_start(binary, keygen, tmp_path):
    key = os.path.join(keygen("refuse", "x25519"), "private.jwk")
    good = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    bad_file = tmp_path / "secrets"
    bad_file.write_text(good + "\nnot-a-secret\n")
    cases = ((["--secret", "notasecret"], "not a signing secret"),
             (["--secret", good, "--tolerance-s", "-1"], "--tolerance-s"),
             (["--secret", good, "--tolerance-s", "0"], "--tolerance-s"),
             (["--secret-file", str(tmp_path)], "is a directory"),
             (["--secret-file", str(bad_file)], "line 2"),
             (["--secret", good, "--max-payload-bytes", "0"], "--max-payload-bytes"))
    for args, message in cases:
        r = subprocess.run([binary, "receive", "--listen", "127.0.0.1:0", "--key", key, *args],
                           capture_output=True, text=True, timeout=15)
        assert r.returncode != 0 and message in r.stderr, (args, r.returncode, r.stderr)
        assert "listening" not in r.stderr, r.stderr
