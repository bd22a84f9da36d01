"""The original's demo, done for real: serve + a flaky receiver, a tenant onboarded only through
the API, 100 events published, every one decrypted at the receiver, none lost."""
import json


def test_hundred_events_through_a_flaky_receiver_all_arrive(start_server, start_receiver, keygen):
    srv = start_server()
    keys = keygen("acme")
    rx = start_receiver(keys, "--fail-rate", "0.2", "--seed", "42")
    t = srv.onboard("acme", keys, rx.url, event_types=["order.*"], max_attempts=20)
    rx.set_secret(t["endpoint"]["secret"])

    published = {}
    for i in range(100):
        r = srv.ok("POST", "/v1/events", body={"type": "order.created", "payload": {"n": i}}, status=202)
        assert r["deliveries"] == 1
        published[r["event_id"]] = i

    events = rx.wait_count(100)
    assert len(events) == 100
    got = {e["event"]["id"]: e["event"]["data"]["n"] for e in events}
    assert got == published  # every event, decrypted, with its own payload
    assert len({e["webhook_id"] for e in events}) == 100  # a duplicate is only a retry of an id
    for e in events:
        assert e["event"]["tenant"] == t["tenant"]["id"]
        assert e["event"]["type"] == "order.created"
        assert e["kid"] == t["kid"] and e["alg"] == "RSA-OAEP-256"

    # Retries happened (fail-rate 0.2) and are visible with every attempt.
    page = srv.wait_list(t["api_key"], "status=delivered&limit=100", 100)
    assert len(page["data"]) == 100 and page["next"] is None
    retried = [d for d in page["data"] if d["attempt_count"] > 1]
    assert retried, "with --fail-rate 0.2 some delivery must have needed a retry"
    detail = srv.ok("GET", f"/v1/deliveries/{retried[0]['id']}", t["api_key"])
    codes = [a["status_code"] for a in detail["attempts"]]
    assert codes[-1] == 200 and 500 in codes[:-1]
    assert [a["number"] for a in detail["attempts"]] == list(range(1, len(codes) + 1))


def test_64_kib_payload_is_delivered_intact(start_server, start_receiver, keygen):
    srv = start_server()
    keys = keygen("big", "x25519")
    rx = start_receiver(keys)
    t = srv.onboard("big", keys, rx.url)
    rx.set_secret(t["endpoint"]["secret"])
    blob = "x" * (64 * 1024)
    r = srv.ok("POST", "/v1/events", body={"type": "file.uploaded", "payload": {"blob": blob}}, status=202)
    [e] = rx.wait_count(1)
    assert e["event"]["id"] == r["event_id"]
    assert e["event"]["data"]["blob"] == blob
    assert e["alg"] == "ECDH-ES+A256KW"


def test_fan_out_encrypts_per_tenant_and_respects_subscriptions(start_server, start_receiver, keygen):
    srv = start_server()
    ka, kb = keygen("a"), keygen("b", "x25519")
    ra, rb = start_receiver(ka), start_receiver(kb)
    a = srv.onboard("a", ka, ra.url, event_types=["invoice.*"])
    b = srv.onboard("b", kb, rb.url, event_types=["order.created"])
    ra.set_secret(a["endpoint"]["secret"])
    rb.set_secret(b["endpoint"]["secret"])
    assert srv.ok("POST", "/v1/events", body={"type": "invoice.paid", "payload": 1})["deliveries"] == 1
    assert srv.ok("POST", "/v1/events", body={"type": "order.created", "payload": 2})["deliveries"] == 1
    assert srv.ok("POST", "/v1/events", body={"type": "user.deleted", "payload": 3})["deliveries"] == 0
    # Admin targeting one tenant, and a tenant publishing to itself.
    assert srv.ok("POST", "/v1/events", body={"type": "order.created", "payload": 4,
                                               "tenant": a["tenant"]["id"]})["deliveries"] == 0
    assert srv.ok("POST", "/v1/events", b["api_key"], {"type": "order.created", "payload": 5})["deliveries"] == 1
    [ea] = ra.wait_count(1)
    eb = rb.wait_count(2)
    assert ea["event"]["data"] == 1 and ea["event"]["tenant"] == a["tenant"]["id"]
    assert sorted(e["event"]["data"] for e in eb) == [2, 5]


def test_idempotent_publish_and_legacy_route(start_server, start_receiver, keygen):
    srv = start_server()
    keys = keygen("idem")
    rx = start_receiver(keys)
    t = srv.onboard("idem", keys, rx.url)
    rx.set_secret(t["endpoint"]["secret"])
    first = srv.ok("POST", "/v1/events", body={"type": "a", "payload": 1, "id": "k-1"})
    again = srv.ok("POST", "/v1/events", body={"type": "a", "payload": 1, "id": "k-1"})
    assert first == again
    legacy = srv.ok("POST", "/publish", body={"payload": {"hello": "world"}, "target": t["tenant"]["id"]})
    assert legacy["deliveries"] == 1
    events = rx.wait_count(2)
    assert sorted(e["event"]["type"] for e in events) == ["a", "default"]
    page = srv.ok("GET", "/v1/deliveries", t["api_key"])
    assert len(page["data"]) == 2  # the repeated key enqueued nothing


def test_dead_letter_then_replay(start_server, start_receiver, keygen):
    srv = start_server()
    keys = keygen("dlq")
    bad = start_receiver(keys, "--fail-rate", "1.0")
    t = srv.onboard("dlq", keys, bad.url, max_attempts=3)
    bad.set_secret(t["endpoint"]["secret"])
    srv.ok("POST", "/v1/events", body={"type": "a", "payload": {"v": 7}})
    [d] = srv.ok("GET", "/v1/deliveries", t["api_key"])["data"]
    dead = srv.wait_status(t["api_key"], d["id"], "dead")
    assert dead["attempt_count"] == 3 and len(dead["attempts"]) == 3
    assert srv.ok("GET", "/v1/deliveries?status=dead", t["api_key"])["data"][0]["id"] == d["id"]
    # Point the endpoint at a healthy receiver, replay from the DLQ.
    good = start_receiver(keys)
    good.set_secret(t["endpoint"]["secret"])
    srv.ok("PATCH", f"/v1/endpoints/{t['endpoint']['id']}", t["api_key"], {"url": good.url})
    srv.ok("POST", f"/v1/deliveries/{d['id']}/replay", t["api_key"], status=202)
    [e] = good.wait_count(1)
    assert e["webhook_id"] == d["id"] and e["event"]["data"] == {"v": 7}
    done = srv.wait_status(t["api_key"], d["id"], "delivered")
    assert len(done["attempts"]) == 4
    r = srv.call("POST", f"/v1/deliveries/{d['id']}/replay", t["api_key"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_dead"
