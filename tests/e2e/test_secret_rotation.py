"""POST /v1/endpoints/{id}/secret/rotate: a new whsec_ secret; the old one signs beside it for a
grace period (Standard Webhooks: "v1,<new> v1,<old>"), so the official `standardwebhooks`
libraries (Python and Node) verify real deliveries holding either secret; once the previous
secret is expired (DELETE .../secret/previous, the early end) the old secret fails and the new
one verifies."""
import os
import sys
import time

import pytest

from test_interop import NODE_RX, PY_RX, ThirdPartyReceiver

DAY_MS = 24 * 3600 * 1000


def test_rotate_answers_a_new_secret_and_the_endpoint_shows_the_grace(start_server, keygen):
    srv = start_server()
    t = srv.onboard("rot", keygen("rot"), "http://127.0.0.1:9/hook")
    key, ep = t["api_key"], t["endpoint"]
    path = f"/v1/endpoints/{ep['id']}"
    assert ep["previous_secret_expires_at"] is None

    before = int(time.time() * 1000)
    rotated = srv.ok("POST", path + "/secret/rotate", key, status=200)
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != ep["secret"]
    assert before + DAY_MS <= rotated["previous_secret_expires_at"] <= time.time() * 1000 + DAY_MS
    shown = srv.ok("GET", path, key)
    assert "secret" not in shown and ep["secret"] not in str(shown)  # never the old secret
    assert shown["previous_secret_expires_at"] == rotated["previous_secret_expires_at"]
    [listed] = srv.ok("GET", "/v1/endpoints", key)["data"]
    assert listed == shown

    hour = srv.ok("POST", path + "/secret/rotate", key, {"grace_period_s": 3600}, status=200)
    assert hour["previous_secret_expires_at"] <= time.time() * 1000 + 3600 * 1000
    none = srv.ok("POST", path + "/secret/rotate", key, {"grace_period_s": 0}, status=200)
    assert none["previous_secret_expires_at"] is None

    # Bad input changes nothing.
    for body, status, code in (({"grace_period_s": 7 * 86400 + 1}, 422, "invalid_grace_period"),
                               ({"grace_period_s": -1}, 422, "invalid_grace_period"),
                               ({"grace_period_s": "1h"}, 400, "invalid_field"),
                               ({"grace": 1}, 400, "unknown_field")):
        r = srv.call("POST", path + "/secret/rotate", key, body)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), (body, r.text)
    r = srv.call("POST", path + "/secret/rotate", key, raw="{nope")
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_json"
    assert srv.ok("GET", path, key)["previous_secret_expires_at"] is None

    # Early expiry; only the tenant's own endpoints; the methods each path allows.
    srv.ok("POST", path + "/secret/rotate", key, status=200)
    assert srv.call("DELETE", path + "/secret/previous", key).status_code == 204
    assert srv.ok("GET", path, key)["previous_secret_expires_at"] is None
    r = srv.call("DELETE", path + "/secret/previous", key)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    other = srv.ok("POST", "/v1/tenants", body={"name": "other"}, status=201)["api_key"]
    assert srv.call("POST", path + "/secret/rotate", other).status_code == 404
    assert srv.call("DELETE", path + "/secret/previous", other).status_code == 404
    r = srv.call("GET", path + "/secret/rotate", key)
    assert r.status_code == 405 and r.headers["Allow"] == "POST"
    r = srv.call("POST", path + "/secret/previous", key)
    assert r.status_code == 405 and r.headers["Allow"] == "DELETE"
    assert srv.call("POST", path + "/secret/other", key).status_code == 404


@pytest.mark.parametrize("how", ["flag", "env"])
def test_the_server_default_grace_is_configurable(start_server, keygen, how):
    if how == "flag":
        srv = start_server("--secret-rotation-grace-s", "60")
    else:
        srv = start_server(env={**os.environ, "SEALHOOK_SECRET_ROTATION_GRACE_S": "60"})
    t = srv.onboard("cfg", keygen("cfg"), "http://127.0.0.1:9/hook")
    before = int(time.time() * 1000)
    r = srv.ok("POST", f"/v1/endpoints/{t['endpoint']['id']}/secret/rotate", t["api_key"])
    assert before + 60_000 <= r["previous_secret_expires_at"] <= time.time() * 1000 + 60_000


def refusals(proc):
    """Requests the receiver refused for their signature (call with proc.lock held)."""
    return sum("signature verification failed" in line for line in proc.err_lines)


def test_official_libraries_verify_with_the_old_and_the_new_secret_during_the_grace(
        start_server, keygen, tmp_path):
    srv = start_server()
    keys = keygen("rot-interop", "x25519")
    node = ThirdPartyReceiver(["node", NODE_RX], keys, str(tmp_path / "node-secret"))
    py = ThirdPartyReceiver([sys.executable, PY_RX], keys, str(tmp_path / "py-secret"))
    try:
        t = srv.onboard("rot-interop", keys, node.url, max_attempts=50)
        second = srv.ok("POST", "/v1/endpoints", t["api_key"], {"url": py.url, "max_attempts": 50},
                        status=201)
        endpoints = {node: t["endpoint"], py: second}
        old = {rx: ep["secret"] for rx, ep in endpoints.items()}
        for rx in endpoints:
            rx.set_secret(old[rx])

        def publish(n):
            return srv.ok("POST", "/v1/events", body={"type": "rot.test", "payload": {"n": n}},
                          status=202)["event_id"]

        new = {rx: srv.ok("POST", f"/v1/endpoints/{ep['id']}/secret/rotate", t["api_key"],
                          status=200)["secret"] for rx, ep in endpoints.items()}
        # During the grace: receivers still holding the old secret verify...
        during_old = publish(1)
        for rx in endpoints:
            assert [e["event"]["id"] for e in rx.events(1)] == [during_old]
        # ...and so do receivers holding the new one.
        for rx in endpoints:
            rx.set_secret(new[rx])
        during_new = publish(2)
        for rx in endpoints:
            assert [e["event"]["id"] for e in rx.events(2)] == [during_old, during_new]

        # Expired early: the old secret fails (401, retried), the new one then verifies.
        for ep in endpoints.values():
            r = srv.call("DELETE", f"/v1/endpoints/{ep['id']}/secret/previous", t["api_key"])
            assert r.status_code == 204, r.text
        for rx in endpoints:
            rx.set_secret(old[rx])
        seen = {}
        for rx in endpoints:
            with rx.proc.lock:
                seen[rx] = refusals(rx.proc)
        after = publish(3)
        for rx in endpoints:
            rx.proc.wait_for(lambda p, n=seen[rx]: refusals(p) > n, 30, "a refused signature")
            assert len(rx.events(2)) == 2  # nothing accepted with the old secret
            rx.set_secret(new[rx])
        for rx in endpoints:
            assert [e["event"]["id"] for e in rx.events(3)] == [during_old, during_new, after]
            assert all(e["event"]["tenant"] == t["tenant"]["id"] for e in rx.events(3))
    finally:
        node.proc.stop()
        py.proc.stop()
