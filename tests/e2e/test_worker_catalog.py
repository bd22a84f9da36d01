"""Catalog changes made through `serve` reach a `sealhook worker` that was already running (one
redis queue, one SQLite store file): an endpoint created after the worker started gets its
deliveries from the worker, a rotated public key encrypts the next events the worker delivers,
and a deleted endpoint stops receiving what was still queued for it."""
import json

from test_durability import list_all, wait_until
from test_redis_queue import redis_url  # noqa: F401 (the fixture)
from test_worker import start_worker  # noqa: F401 (the fixture)


def publish(srv, tenant_id, n):
    r = srv.ok("POST", "/v1/events", body={"type": "order.created", "payload": {"n": n},
                                           "tenant": tenant_id}, status=202)
    return r["event_id"]


def counter(proc, outcome):
    return int(proc.metrics()[f'sealhook_deliveries_total{{outcome="{outcome}"}}'])


def test_a_running_worker_follows_endpoints_keys_and_deletions_made_through_serve(
        start_server, start_worker, start_receiver, keygen, redis_url, tmp_path):  # noqa: F811
    store = f"sqlite:{tmp_path}/shared.db"
    # serve makes one attempt at a time, so that most deliveries are the worker's to make.
    srv = start_server("--queue", "redis", "--redis", redis_url, "--max-inflight", "1",
                       store=store)
    worker = start_worker(redis_url, store)  # before the tenant, key and endpoint exist

    keys1, keys2 = keygen("wcat-1"), keygen("wcat-2")
    rx = start_receiver(keys1, "--key", f"{keys2}/private.jwk", "--delay-ms", "20",
                        "--threads", "4")
    t = srv.onboard("wcat", keys1, rx.url)
    rx.set_secret(t["endpoint"]["secret"])
    tenant_id, key = t["tenant"]["id"], t["api_key"]

    # 1. The new endpoint's deliveries: the worker makes them, none is dead-lettered.
    first = {publish(srv, tenant_id, n) for n in range(100)}
    wait_until(lambda: first <= {e["event"]["id"] for e in rx.events()}, 60,
               "the first 100 events delivered")
    by_worker = counter(worker, "delivered")
    assert by_worker > 0, "the worker delivered none of the new endpoint's events"
    assert counter(worker, "dead") == 0 and counter(srv, "dead") == 0

    # 2. A rotated key: the next events are encrypted to the new one, by the worker too.
    with open(f"{keys2}/public.jwk") as f:
        kid2 = srv.ok("POST", "/v1/keys", key, {"public_key": json.load(f)}, status=201)["kid"]
    srv.ok("DELETE", f"/v1/keys/{t['kid']}", key)
    second = {publish(srv, tenant_id, 100 + n) for n in range(50)}
    wait_until(lambda: second <= {e["event"]["id"] for e in rx.events()}, 60,
               "the 50 events after the rotation delivered")
    kids = {e["kid"] for e in rx.events() if e["event"]["id"] in second}
    assert kids == {kid2}, kids
    assert counter(worker, "delivered") > by_worker, "the worker delivered none after the rotation"

    # 3. A deleted endpoint: what was still queued for it is not sent. The receiver is slow and
    # the endpoint ordered (one attempt in flight across both processes), so a backlog waits.
    rx2 = start_receiver(keys2, "--delay-ms", "300")
    ep2 = srv.ok("POST", "/v1/endpoints", key, {"url": rx2.url, "ordering": "ordered"},
                 status=201)
    rx2.set_secret(ep2["secret"])
    srv.ok("DELETE", f"/v1/endpoints/{t['endpoint']['id']}", key)
    wait_until(lambda: srv.call("POST", "/v1/events", body={
        "type": "order.created", "payload": {"n": -1}, "tenant": tenant_id}).json()
        .get("deliveries") == 1, 5, "serve fans out to the second endpoint only")
    third = [publish(srv, tenant_id, 200 + n) for n in range(40)]
    wait_until(lambda: len(rx2.events()) >= 3, 30, "the second endpoint receiving")
    srv.ok("DELETE", f"/v1/endpoints/{ep2['id']}", key)
    # Every delivery for it settles: the ones sent before the deletion delivered, the rest
    # dead-lettered by whichever process leased them, none left pending.
    def of_ep2(status):
        return [d for d in list_all(srv, key, f"status={status}") if d["endpoint_id"] == ep2["id"]]

    wait_until(lambda: not of_ep2("pending"), 30, "no delivery left pending for the deleted endpoint")
    received = {e["event"]["id"] for e in rx2.events()}
    assert len(received & set(third)) < len(third) - 10, \
        f"{len(received & set(third))} of {len(third)} arrived after the endpoint was deleted"
    dead = of_ep2("dead")
    assert len(dead) >= 10, len(dead)
    assert all(d["endpoint_id"] == ep2["id"] for d in list_all(srv, key, "status=dead"))
