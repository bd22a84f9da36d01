"""Idempotency keys of POST /v1/events stand for the request that first used them: the same
request again gets the first answer; the same `id` with another tenant, type or payload is 422
`idempotency_key_reused` and enqueues nothing, for an admin key and for a tenant key alike, and
when the two publishes race."""
import threading

import requests

from conftest import ADMIN


def error_code(r):
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return body["error"]["code"]


def test_an_admin_key_reused_for_another_tenant_is_refused_and_that_tenant_gets_nothing(
        start_server, start_receiver, keygen):
    srv = start_server()
    keys = keygen("idem")
    rx1, rx2 = start_receiver(keys), start_receiver(keys)
    t1 = srv.onboard("t1", keys, rx1.url)
    t2 = srv.onboard("t2", keys, rx2.url)
    rx1.set_secret(t1["endpoint"]["secret"])
    rx2.set_secret(t2["endpoint"]["secret"])
    first_body = {"tenant": t1["tenant"]["id"], "id": "dup-1", "type": "order.created",
                  "payload": {"n": 1}}
    first = srv.ok("POST", "/v1/events", body=first_body, status=202)
    assert first["deliveries"] == 1

    for change in ({"tenant": t2["tenant"]["id"]}, {"tenant": None}, {"type": "order.deleted"},
                   {"payload": {"n": 2}}):
        r = srv.call("POST", "/v1/events", body={**first_body, **change})
        assert r.status_code == 422, (change, r.status_code, r.text)
        assert error_code(r) == "idempotency_key_reused"
    # The payload's text is what is delivered: other spacing is another event.
    raw = ('{"tenant": "%s", "id": "dup-1", "type": "order.created", "payload": {"n":1}}'
           % t1["tenant"]["id"])
    r = srv.call("POST", "/v1/events", raw=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and error_code(r) == "idempotency_key_reused", r.text

    again = srv.ok("POST", "/v1/events", body=first_body, status=202)
    assert again == first
    [event] = rx1.wait_count(1)
    assert event["event"]["id"] == first["event_id"]
    assert srv.ok("GET", "/v1/deliveries", t2["api_key"])["data"] == []  # T2 received nothing
    assert len(srv.ok("GET", "/v1/deliveries", t1["api_key"])["data"]) == 1
    assert rx2.events() == []


def test_a_tenant_key_reused_with_another_payload_is_refused(start_server, keygen):
    srv = start_server()
    t = srv.onboard("own", keygen("own"), "http://127.0.0.1:9/hook")
    body = {"id": "k-1", "type": "a", "payload": [1]}
    first = srv.ok("POST", "/v1/events", t["api_key"], body, status=202)
    r = srv.call("POST", "/v1/events", t["api_key"], {**body, "payload": [2]})
    assert r.status_code == 422 and error_code(r) == "idempotency_key_reused", r.text
    assert srv.ok("POST", "/v1/events", t["api_key"], body, status=202) == first
    # The admin's keys are another scope: the same id is free there.
    admin = srv.ok("POST", "/v1/events", body={**body, "payload": [2]}, status=202)
    assert admin["event_id"] != first["event_id"]
    assert len(srv.ok("GET", "/v1/deliveries", t["api_key"])["data"]) == 2


def test_racing_publishes_with_one_key_and_two_bodies_fan_out_once(start_server, keygen):
    srv = start_server()
    keys = keygen("race")
    t1 = srv.onboard("r1", keys, "http://127.0.0.1:9/hook")
    t2 = srv.onboard("r2", keys, "http://127.0.0.1:9/hook")
    rounds = 20
    for n in range(rounds):
        barrier = threading.Barrier(2)
        results = {}

        def publish(tenant):
            body = {"tenant": tenant["tenant"]["id"], "id": f"race-{n}", "type": "a", "payload": n}
            barrier.wait()
            # A connection of its own each (a requests.Session is not shared across threads).
            results[tenant["tenant"]["id"]] = requests.post(
                srv.base + "/v1/events", json=body, headers={"Authorization": f"Bearer {ADMIN}"},
                timeout=30)

        threads = [threading.Thread(target=publish, args=(t,)) for t in (t1, t2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        statuses = sorted(r.status_code for r in results.values())
        assert statuses == [202, 422], (n, [r.text for r in results.values()])
        loser = next(r for r in results.values() if r.status_code == 422)
        assert error_code(loser) == "idempotency_key_reused"
    count = sum(len(srv.ok("GET", "/v1/deliveries?limit=100", t["api_key"])["data"])
                for t in (t1, t2))
    assert count == rounds  # one fan-out per key, never two
