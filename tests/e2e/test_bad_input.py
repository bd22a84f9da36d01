"""Every 4xx of PRODUCT.md §3, each with the error body shape, and each checked to have changed
nothing."""
import json
import subprocess

import pytest

from conftest import ADMIN


def err(r, status, code=None):
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code, body
    return body


def state(srv, t):
    """Everything a bad request could have touched."""
    k = t["api_key"]
    return (srv.ok("GET", "/v1/tenants"), srv.ok("GET", "/v1/keys", k), srv.ok("GET", "/v1/subscriptions", k),
            srv.ok("GET", "/v1/endpoints", k), srv.ok("GET", "/v1/deliveries", k))


@pytest.fixture
def world(start_server, keygen, tmp_path):
    srv = start_server("--max-payload-bytes", str(1024 * 1024))
    keys = keygen("bad")
    t = srv.onboard("bad", keys, "http://127.0.0.1:9/hook")
    other = srv.onboard("other", keygen("other"), "http://127.0.0.1:9/other")
    weak = tmp_path / "weak.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024",
                    "-out", str(tmp_path / "weak-priv.pem")], check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", str(tmp_path / "weak-priv.pem"), "-pubout", "-out", str(weak)],
                   check=True, capture_output=True)
    return srv, t, other, weak.read_text()


def test_bad_requests_answer_4xx_and_change_nothing(world):
    srv, t, other, weak_pem = world
    k = t["api_key"]
    before = state(srv, t)
    cases = [
        (("POST", "/v1/tenants", ADMIN, None, "{not json"), 400, "malformed_json"),
        (("POST", "/v1/tenants", ADMIN, {"name": 5}, None), 400, "invalid_field"),
        (("POST", "/v1/tenants", ADMIN, {}, None), 400, "missing_field"),
        (("POST", "/v1/tenants", ADMIN, {"name": "x", "nmae": "y"}, None), 400, "unknown_field"),
        (("POST", "/v1/tenants", None, {"name": "x"}, None), 401, "unauthorized"),
        (("POST", "/v1/tenants", "wrong-token", {"name": "x"}, None), 401, "unauthorized"),
        (("POST", "/v1/tenants", k, {"name": "x"}, None), 403, "forbidden"),
        (("GET", "/v1/endpoints", ADMIN, None, None), 403, "forbidden"),
        (("POST", "/v1/events", ADMIN, {"payload": 1}, None), 400, "missing_field"),
        (("POST", "/v1/events", ADMIN, {"type": 7, "payload": 1}, None), 400, "invalid_field"),
        (("POST", "/v1/events", ADMIN, {"type": "bad type!", "payload": 1}, None), 400, "invalid_event_type"),
        (("POST", "/v1/events", ADMIN, {"type": "a"}, None), 400, "missing_field"),
        (("POST", "/v1/events", ADMIN, {"type": "a", "payload": "x" * (2 * 1024 * 1024)}, None), 413, None),
        (("POST", "/v1/events", k, {"type": "a", "payload": 1, "tenant": other["tenant"]["id"]}, None), 403, "forbidden"),
        (("POST", "/v1/events", ADMIN, {"type": "a", "payload": 1, "tenant": "tn_nope"}, None), 404, "not_found"),
        (("POST", "/v1/keys", k, {"public_key": "garbage"}, None), 422, "invalid_key"),
        (("POST", "/v1/keys", k, {"public_key": weak_pem}, None), 422, "weak_key"),
        (("POST", "/v1/keys", k, {"public_key": {"kty": "RSA", "n": "AQAB"}}, None), 422, None),
        (("POST", "/v1/keys", k, {"public_key": 12}, None), 400, "invalid_field"),
        (("PUT", "/v1/subscriptions", k, {"event_types": "a"}, None), 400, "invalid_field"),
        (("PUT", "/v1/subscriptions", k, {"event_types": ["a b"]}, None), 400, "invalid_event_type"),
        (("POST", "/v1/endpoints", k, {"url": "ftp://example.com/x"}, None), 422, "invalid_url"),
        (("POST", "/v1/endpoints", k, {"url": "http://127.0.0.1:1/x", "ordering": "sorted"}, None), 400, "invalid_field"),
        (("POST", "/v1/endpoints", k, {"url": "http://127.0.0.1:1/x", "max_attempts": 0}, None), 422, "invalid_max_attempts"),
        (("POST", "/v1/endpoints", k, {"url": "http://127.0.0.1:1/x", "max_attempts": "3"}, None), 400, "invalid_field"),
        (("PATCH", f"/v1/endpoints/{other['endpoint']['id']}", k, {"url": "http://127.0.0.1:2/"}, None), 404, "not_found"),
        (("DELETE", f"/v1/endpoints/{other['endpoint']['id']}", k, None, None), 404, "not_found"),
        (("GET", f"/v1/endpoints/{other['endpoint']['id']}", k, None, None), 404, "not_found"),
        (("DELETE", f"/v1/keys/{other['kid']}", k, None, None), 404, "not_found"),
        (("GET", "/v1/deliveries/msg_nope", k, None, None), 404, "not_found"),
        (("GET", "/v1/deliveries?status=gone", k, None, None), 400, "invalid_status"),
        (("GET", "/v1/deliveries?limit=1000", k, None, None), 400, "invalid_limit"),
        (("DELETE", "/v1/tenants/tn_nope", ADMIN, None, None), 404, "not_found"),
        (("PUT", "/v1/tenants", ADMIN, None, None), 405, "method_not_allowed"),
        (("GET", "/v2/anything", ADMIN, None, None), 404, "not_found"),
    ]
    for (method, path, token, body, raw), status, code in cases:
        r = srv.call(method, path, token, body, raw)
        err(r, status, code)
        assert state(srv, t) == before, f"{method} {path} changed something"


def test_private_network_urls_refused_without_the_flag(start_server):
    strict = start_server(private=False)
    t = strict.ok("POST", "/v1/tenants", body={"name": "s"})
    for url in ["http://127.0.0.1/x", "http://localhost:8080/x", "http://[::1]/x",
                "http://169.254.169.254/latest/meta-data", "http://10.0.0.1/x", "http://192.168.1.1/x",
                "http://[::ffff:127.0.0.1]/x"]:
        body = err(strict.call("POST", "/v1/endpoints", t["api_key"], {"url": url}), 422)
        assert body["error"]["code"] in ("forbidden_address", "invalid_url"), (url, body)
    assert strict.ok("GET", "/v1/endpoints", t["api_key"])["data"] == []


def test_keys_are_hashed_and_new_api_keys_work(start_server, keygen):
    srv = start_server()
    t = srv.ok("POST", "/v1/tenants", body={"name": "rot"})
    second = srv.ok("POST", f"/v1/tenants/{t['id']}/api-keys", status=201)
    assert second["api_key"] != t["api_key"]
    for key in (t["api_key"], second["api_key"]):
        assert srv.ok("GET", "/v1/subscriptions", key) == {"event_types": []}
    listed = srv.ok("GET", "/v1/tenants")["data"]
    assert [x["id"] for x in listed] == [t["id"]] and "api_key" not in json.dumps(listed)
    srv.ok("DELETE", f"/v1/tenants/{t['id']}")
    err(srv.call("GET", "/v1/subscriptions", t["api_key"]), 401, "unauthorized")


def test_queue_full_answers_503_with_retry_after(start_server, keygen):
    srv = start_server("--queue", "memory", "--queue-capacity", "1")
    keys = keygen("full")
    t = srv.onboard("full", keys, "http://127.0.0.1:9/never-reached")
    srv.ok("POST", "/v1/endpoints", t["api_key"], {"url": "http://127.0.0.1:9/second"}, status=201)
    # One event for two endpoints is two deliveries: over the capacity, so nothing is queued.
    r = srv.call("POST", "/v1/events", body={"type": "a", "payload": 1})
    err(r, 503, "queue_full")
    assert r.headers.get("Retry-After") == "1", dict(r.headers)
    assert srv.ok("GET", "/v1/deliveries", t["api_key"])["data"] == []


@pytest.mark.parametrize("queue", ["memory", "sqlite"])
def test_queue_bounds_bytes_as_well_as_deliveries(start_server, keygen, queue):
    # Room for one 20 KB payload's ciphertext (~27 KB), not two; the endpoint never answers
    # quickly enough to make room (a retry a minute away keeps it queued).
    srv = start_server("--queue", queue, "--queue-max-bytes", "40000",
                       "--max-publish-bytes", "40000", "--retry-base-ms", "60000")
    t = srv.onboard("bytes", keygen("bytes"), "http://127.0.0.1:9/never-reached")
    payload = "x" * 20_000
    srv.ok("POST", "/v1/events", body={"type": "a", "payload": payload}, status=202)
    assert 27_000 < srv.metrics()[f'sealhook_queue_bytes{{queue="{queue}"}}'] < 40_000
    r = srv.call("POST", "/v1/events", body={"type": "a", "payload": payload})
    err(r, 503, "queue_full")
    assert "bytes" in r.json()["error"]["message"]
    assert len(srv.ok("GET", "/v1/deliveries", t["api_key"])["data"]) == 1
    assert srv.metrics()[f'sealhook_queue_depth{{queue="{queue}"}}'] == 1


def test_queue_max_bytes_below_one_publish_is_refused_at_start(binary, tmp_path):
    r = subprocess.run([binary, "serve", "--store", f"sqlite:{tmp_path}/s", "--queue-max-bytes",
                        "1000000", "--max-publish-bytes", "2000000"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "--queue-max-bytes" in r.stderr, r.stderr
