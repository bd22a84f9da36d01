"""Hardening (issue 9) against the real binary: tenant isolation under load, payloads passed
through byte for byte, API keys revoked one by one, events skipped for want of a key made
visible, and the smaller contract points (cursors, media types, status codes)."""
import json
import time

from conftest import ADMIN, HangingReceiver


def test_a_tenant_with_hanging_endpoints_does_not_stall_another(start_server, keygen,
                                                                 start_receiver):
    # Before: with --max-inflight 128, two endpoints that never answer took every slot (64
    # each) and the healthy tenant waited for the attempt timeout.
    srv = start_server("--max-inflight", "128", "--attempt-timeout-ms", "120000")
    hang = HangingReceiver()
    bad = srv.onboard("bad", keygen("bad"), hang.url)
    srv.ok("POST", "/v1/endpoints", bad["api_key"], {"url": hang.url}, status=201)
    for i in range(100):
        srv.ok("POST", "/v1/events", bad["api_key"], {"type": "t", "payload": {"i": i}})
    hang.wait_accepted(32)  # the bad tenant holds its share (a quarter of 128) ...
    keys = keygen("good")
    good = srv.onboard("good", keys, "http://127.0.0.1:9/unused")
    rx = start_receiver(keys)
    srv.ok("PATCH", f"/v1/endpoints/{good['endpoint']['id']}", good["api_key"], {"url": rx.url})
    rx.set_secret(good["endpoint"]["secret"])
    start = time.monotonic()
    for i in range(10):
        srv.ok("POST", "/v1/events", good["api_key"], {"type": "t", "payload": {"g": i}})
    rx.wait_count(10, timeout=20)  # ... and the healthy one is not behind it
    assert time.monotonic() - start < 10
    assert hang.accepted <= 32 + 2  # never more than its share (plus racing reconnects)
    hang.close()


def test_payload_text_is_delivered_byte_for_byte(start_server, keygen, start_receiver):
    srv = start_server()
    keys = keygen("bytes")
    rx = start_receiver(keys)
    t = srv.onboard("bytes", keys, rx.url)
    rx.set_secret(t["endpoint"]["secret"])
    payloads = ['1e400', '123456789012345678901234567890', '0.1',
                '{"a" : [1, 2.50, -0.0e-0], "s":"\\u00e9\\n"}', '"x"', 'null']
    for p in payloads:
        raw = '{"type":"t","payload":' + p + '}'
        r = srv.call("POST", "/v1/events", t["api_key"], raw=raw)
        assert r.status_code == 202, r.text
    events = rx.wait_count(len(payloads))
    # The receiver prints the plaintext's data as it arrived (data_text): compare the text.
    assert sorted(e["data_text"] for e in events) == sorted(payloads)


def test_api_keys_are_listed_and_revoked_one_by_one(start_server):
    srv = start_server()
    t = srv.ok("POST", "/v1/tenants", body={"name": "k"}, status=201)
    tid, first = t["id"], t["api_key"]
    second = srv.ok("POST", f"/v1/tenants/{tid}/api-keys", status=201)
    listed = srv.ok("GET", f"/v1/tenants/{tid}/api-keys")
    assert len(listed["data"]) == 2 and listed["data"][1]["id"] == second["id"]
    assert all(set(k) == {"id", "created_at"} for k in listed["data"])  # never the key
    assert listed["next"] is None
    srv.ok("DELETE", f"/v1/tenants/{tid}/api-keys/{listed['data'][0]['id']}", status=204)
    assert srv.call("GET", "/v1/endpoints", first).status_code == 401  # at once
    assert srv.call("GET", "/v1/endpoints", second["api_key"]).status_code == 200
    last = srv.call("DELETE", f"/v1/tenants/{tid}/api-keys/{second['id']}")
    assert last.status_code == 409 and last.json()["error"]["code"] == "last_api_key"
    assert srv.call("GET", "/v1/endpoints", second["api_key"]).status_code == 200
    srv.ok("DELETE", f"/v1/tenants/{tid}/api-keys/{second['id']}?force=true", status=204)
    assert srv.call("GET", "/v1/endpoints", second["api_key"]).status_code == 401
    assert srv.call("DELETE", f"/v1/tenants/{tid}/api-keys/{second['id']}").status_code == 404
    assert srv.call("GET", "/v1/tenants/tn_nope/api-keys").status_code == 404


def test_events_for_a_tenant_without_a_key_are_counted_as_skipped(start_server):
    srv = start_server()
    t = srv.ok("POST", "/v1/tenants", body={"name": "nokey"}, status=201)
    key = t["api_key"]
    srv.ok("PUT", "/v1/subscriptions", key, {"event_types": ["*"]})
    srv.ok("POST", "/v1/endpoints", key, {"url": "http://127.0.0.1:9/x"}, status=201)
    r = srv.ok("POST", "/v1/events", ADMIN, {"type": "t", "payload": 1}, status=202)
    assert r["deliveries"] == 0 and r["skipped"] == 1
    assert srv.metrics()["sealhook_deliveries_skipped_total"] == 1
    tenants = srv.ok("GET", "/v1/tenants")["data"]
    assert [x["warnings"] for x in tenants if x["id"] == t["id"]] == [["no_public_key"]]
    assert srv.ok("GET", "/v1/deliveries", key)["data"] == []  # nothing sent unencrypted


def test_contract_points(start_server, keygen):
    srv = start_server()
    t = srv.onboard("c", keygen("c"), "http://127.0.0.1:9/x")
    key = t["api_key"]
    for path in ("/v1/deliveries?cursor=garbage", "/v1/endpoints?cursor=garbage",
                 "/v1/deliveries?cursor=" + t["endpoint"]["id"]):
        r = srv.call("GET", path, key)
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_cursor", path
    r = srv.call("GET", "/v1/tenants?cursor=nope")
    assert r.status_code == 400
    r = srv.call("POST", "/v1/endpoints", key, {"url": "http://127.0.0.1:9/y", "max_attempts": 0})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_max_attempts"
    body = json.dumps({"type": "t", "payload": 1})
    r = srv.call("POST", "/v1/events", key, raw=body, headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media_type"
    for ct in ("application/json", "application/json; charset=utf-8", "application/cloudevents+json"):
        r = srv.call("POST", "/v1/events", key, raw=body, headers={"Content-Type": ct})
        assert r.status_code == 202, (ct, r.text)
    r = srv.call("POST", "/v1/events", key, raw='{"type":"t","payload":1,"payload":2}')
    assert r.status_code == 400 and r.json()["error"]["code"] == "duplicate_field"


def test_one_publish_is_bounded_in_ciphertext_bytes(start_server, keygen):
    # Before: nothing bounded a publish's total ciphertext (1 MiB to 1,000 tenants: ~1.4 GB).
    srv = start_server("--max-publish-bytes", "40000")
    tenants = [srv.onboard(f"t{i}", keygen(f"t{i}"), "http://127.0.0.1:9/x") for i in range(3)]
    payload = "x" * 12000  # ~16 KB of JWE per tenant: two fit, three do not
    r = srv.call("POST", "/v1/events", ADMIN, {"type": "t", "payload": payload})
    assert r.status_code == 413 and r.json()["error"]["code"] == "publish_too_large", r.text
    assert srv.metrics()["sealhook_deliveries_enqueued_total"] == 0  # nothing was queued
    one = {"type": "t", "payload": payload, "tenant": tenants[0]["tenant"]["id"]}
    assert srv.ok("POST", "/v1/events", ADMIN, one, status=202)["deliveries"] == 1
