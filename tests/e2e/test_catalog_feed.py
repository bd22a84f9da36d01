"""Catalog changes reach every process: two `serve`s on one SQLite store (and one redis queue),
a change made through A is in force in B within a second, without a restart: a new endpoint
gets B's events, a rotated public key encrypts B's next events, a deleted endpoint stops
receiving. Prints the propagation time with the Redis nudge and with the periodic check only."""
import json
import time

from test_durability import wait_until
from test_redis_queue import redis_url  # noqa: F401 (a fixture)


def two_serves(start_server, tmp_path, *extra):
    store = f"sqlite:{tmp_path}/shared"
    a = start_server(*extra, "--redis-owner", "serve-a", store=store)
    b = start_server(*extra, "--redis-owner", "serve-b", store=store)
    return a, b


def publish(srv, tenant_id, n, unknown_ok=False):
    r = srv.call("POST", "/v1/events", body={"type": "order.created", "payload": {"n": n},
                                             "tenant": tenant_id})
    if unknown_ok and r.status_code == 404:  # the tenant is not in this serve's catalog yet
        return {"deliveries": None}
    assert r.status_code == 202, r.text
    return r.json()


def until_fanout(srv, tenant_id, want, timeout=5.0):
    """Publishes through `srv` until an event fans out to `want` endpoints; the seconds taken."""
    start = time.monotonic()
    n = 0
    while publish(srv, tenant_id, n, unknown_ok=True)["deliveries"] != want:
        n += 1
        assert time.monotonic() - start < timeout, f"never {want} deliveries"
    return time.monotonic() - start


def propagation(a, b, tenant_id, rx_url, rounds=5):
    """Endpoints created on A, each timed until B fans out to it; then deleted again."""
    times = []
    for _ in range(rounds):
        ep = a.ok("POST", "/v1/endpoints", a.tenant_key, {"url": rx_url}, status=201)
        t0 = time.monotonic()
        until_fanout(b, tenant_id, 2)
        times.append(time.monotonic() - t0)
        a.ok("DELETE", f"/v1/endpoints/{ep['id']}", a.tenant_key)
        until_fanout(b, tenant_id, 1)
    return times


def onboard_on_a(a, keygen, start_receiver, name, *rx_args):
    keys = keygen(name)
    rx = start_receiver(keys, *rx_args)
    t = a.onboard(name, keys, rx.url)
    rx.set_secret(t["endpoint"]["secret"])
    a.tenant_key = t["api_key"]
    return t, rx


def test_changes_on_one_serve_are_in_force_on_the_other(start_server, start_receiver, keygen,
                                                        redis_url, tmp_path):  # noqa: F811
    a, b = two_serves(start_server, tmp_path, "--queue", "redis", "--redis", redis_url)
    keys1 = keygen("feed-rx1")
    keys2 = keygen("feed-rx1-next")
    rotated = ("--key", f"{keys1}/private.jwk", "--key", f"{keys2}/private.jwk")
    t, rx0 = onboard_on_a(a, keygen, start_receiver, "feed", *rotated)
    tenant_id = t["tenant"]["id"]
    until_fanout(b, tenant_id, 1)  # B learnt the tenant created on A after it started

    # A new endpoint, created on A, gets the events published through B.
    rx1 = start_receiver(keys1, "--key", f"{keys2}/private.jwk")
    ep = a.ok("POST", "/v1/endpoints", t["api_key"], {"url": rx1.url}, status=201)
    rx1.set_secret(ep["secret"])
    a.ok("DELETE", f"/v1/keys/{t['kid']}", t["api_key"])
    with open(f"{keys1}/public.jwk") as f:
        kid1 = a.ok("POST", "/v1/keys", t["api_key"], {"public_key": json.load(f)})["kid"]
    waited = until_fanout(b, tenant_id, 2)
    assert waited < 1.0, waited
    published = publish(b, tenant_id, 1000)["event_id"]
    wait_until(lambda: published in [e["event"]["id"] for e in rx1.events()], 10,
               "the endpoint created on A received B's event")
    assert {e["kid"] for e in rx1.events() if e["event"]["id"] == published} == {kid1}

    # A rotated key, uploaded on A, encrypts B's next events within a second.
    with open(f"{keys2}/public.jwk") as f:
        kid2 = a.ok("POST", "/v1/keys", t["api_key"], {"public_key": json.load(f)})["kid"]
    t0 = time.monotonic()
    n = 2000
    while True:
        event_id = publish(b, tenant_id, n)["event_id"]
        rx1.proc.wait_for(lambda p: any(event_id in line for line in p.out_lines), 10,
                          "delivered")
        kid = [e["kid"] for e in rx1.events() if e["event"]["id"] == event_id][0]
        if kid == kid2:
            break
        assert time.monotonic() - t0 < 1.0, "the rotated key was not used within 1 s"
        n += 1
    print(f"\nkey rotation in force on B after {1000 * (time.monotonic() - t0):.1f} ms")

    # A deleted endpoint stops receiving.
    a.ok("DELETE", f"/v1/endpoints/{ep['id']}", t["api_key"])
    assert until_fanout(b, tenant_id, 1) < 1.0
    after = [publish(b, tenant_id, 3000 + i)["event_id"] for i in range(20)]
    wait_until(lambda: set(after) <= {e["event"]["id"] for e in rx0.events()}, 10,
               "the remaining endpoint received every event")
    assert not set(after) & {e["event"]["id"] for e in rx1.events()}

    nudged = propagation(a, b, tenant_id, rx1.url)
    print(f"propagation with the redis nudge (check 500 ms): "
          f"{', '.join(f'{1000 * s:.1f}' for s in nudged)} ms")
    # The feed's counters: A sent a nudge for each of its writes, B heard them and reloaded.
    ma, mb = a.metrics(), b.metrics()
    assert ma['sealhook_catalog_nudges_total{direction="sent"}'] >= 10
    assert mb['sealhook_catalog_nudges_total{direction="heard"}'] >= 10
    assert mb["sealhook_catalog_reloads_total"] >= 10
    assert mb["sealhook_catalog_checks_total"] >= mb["sealhook_catalog_reloads_total"]
    assert mb["sealhook_catalog_check_errors_total"] == 0
    assert max(nudged) < 0.25, nudged  # far below the 500 ms check: the nudge did it


def test_the_periodic_check_alone_brings_changes_within_a_second(start_server, start_receiver,
                                                                  keygen, tmp_path):
    # Memory queues: no Redis, so no nudge; each serve delivers what it publishes.
    a, b = two_serves(start_server, tmp_path, "--queue", "memory")
    t, rx0 = onboard_on_a(a, keygen, start_receiver, "check")
    until_fanout(b, t["tenant"]["id"], 1)
    checked = propagation(a, b, t["tenant"]["id"], rx0.url)
    print(f"\npropagation by the check only (500 ms): "
          f"{', '.join(f'{1000 * s:.1f}' for s in checked)} ms")
    assert max(checked) < 1.0, checked


def test_a_serve_that_leases_a_delivery_for_an_endpoint_it_has_not_loaded_holds_it(
        start_server, start_receiver, keygen, redis_url, tmp_path):  # noqa: F811
    # Published on A at once after each endpoint is created; B leases from the shared queue too,
    # checks the store rarely and may lease before its nudge arrives: nothing is dead-lettered.
    a, b = two_serves(start_server, tmp_path, "--queue", "redis", "--redis", redis_url,
                      "--catalog-check-ms", "2000")
    t, rx0 = onboard_on_a(a, keygen, start_receiver, "hold")
    rx1 = start_receiver(f"{tmp_path}/keys-hold")  # the tenant's one key, as rx0
    for round_ in range(5):
        ep = a.ok("POST", "/v1/endpoints", t["api_key"], {"url": rx1.url}, status=201)
        rx1.set_secret(ep["secret"])
        ids = [publish(a, t["tenant"]["id"], round_ * 1000 + i)["event_id"] for i in range(40)]
        wait_until(lambda: set(ids) <= {e["event"]["id"] for e in rx1.events()}, 30,
                   "every event delivered to the new endpoint")
        a.ok("DELETE", f"/v1/endpoints/{ep['id']}", t["api_key"])
    assert a.metrics()['sealhook_dlq_size{queue="redis"}'] == 0
    # Usually 0: the nudge reaches B before it leases (the hold itself: dispatcher_test).
    held = b.metrics()["sealhook_deliveries_held_unknown_endpoint_total"]
    print(f"\nB held {held:.0f} deliveries for an endpoint it had not loaded yet; none dead")
