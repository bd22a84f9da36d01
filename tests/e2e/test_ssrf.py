"""The SSRF guard from outside: --allow-networks opens only the listed networks, at registration
and at connect time; a refusal never says what the host resolved to. These servers start
without --allow-private-networks (start_server(private=False))."""
import subprocess

from conftest import ADMIN


def err(r, status, code):
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert body["error"]["code"] == code, body
    return body


def test_allow_networks_admits_a_listed_network_and_delivers(start_server, start_receiver, keygen):
    srv = start_server("--allow-networks", "10.9.0.0/16, 127.0.0.0/8", private=False)
    keys = keygen("allowed")
    rx = start_receiver(keys)
    t = srv.onboard("allowed", keys, rx.url)
    rx.set_secret(t["endpoint"]["secret"])
    srv.ok("POST", "/v1/events", body={"type": "a", "payload": {"n": 1}}, status=202)
    assert rx.wait_count(1)[0]["event"]["data"] == {"n": 1}
    # Only the listed networks: ::1 and 10.0.0.1 stay refused.
    for url in ("http://[::1]:9/x", "http://10.0.0.1/x", "http://[::ffff:10.0.0.1]/x"):
        err(srv.call("POST", "/v1/endpoints", t["api_key"], {"url": url}), 422, "forbidden_address")


def test_loopback_is_refused_without_saying_the_address(start_server):
    srv = start_server(private=False)
    t = srv.ok("POST", "/v1/tenants", body={"name": "strict"})
    for url, address in (("http://127.0.0.1:9/x", "127.0.0.1"), ("http://[::ffff:7f00:1]/x", "7f00"),
                         ("http://[::ffff:0:7f00:1]/x", "7f00"), ("http://[2001::1]/x", "2001"),
                         ("http://192.0.0.9/x", "192.0.0.9")):
        body = err(srv.call("POST", "/v1/endpoints", t["api_key"], {"url": url}), 422,
                   "forbidden_address")
        assert "non-public address" in body["error"]["message"], body
        assert address not in body["error"]["message"], body
    assert srv.ok("GET", "/v1/endpoints", t["api_key"])["data"] == []


def test_connect_time_check_follows_the_allowed_networks(start_server, start_receiver, keygen):
    first = start_server("--allow-networks", "127.0.0.0/8", private=False)
    keys = keygen("later")
    rx = start_receiver(keys)
    t = first.onboard("later", keys, rx.url, max_attempts=1)
    rx.set_secret(t["endpoint"]["secret"])
    first.proc.stop()
    # Registered while 127/8 was allowed; the server now runs without it: nothing is sent.
    again = start_server(private=False, store=first.store)
    ev = again.ok("POST", "/v1/events", t["api_key"], {"type": "a", "payload": 1}, status=202)
    assert ev["deliveries"] == 1
    dead = again.wait_list(t["api_key"], "status=dead", 1)["data"]
    assert dead[0]["last_error"] == "forbidden_address", dead
    assert rx.events() == []


def test_bad_allow_networks_stop_the_start(binary, tmp_path):
    for value, hint in (("10.0.0.1/8", "10.0.0.0/8"), ("nope", "nope"), ("10.0.0.0/33", "33")):
        r = subprocess.run([binary, "serve", "--listen", "127.0.0.1:0", "--store",
                            f"sqlite:{tmp_path}/s", "--admin-token", ADMIN, "--allow-networks", value],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode != 0, (value, r.stdout)
        assert "--allow-networks" in r.stderr and hint in r.stderr, (value, r.stderr)
