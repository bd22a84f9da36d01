"""Two nodes: two `serve` and two `worker` processes, each in a working directory of its own,
sharing one store and one redis-server (`--queue redis`), over a shared SQLite file and over
PostgreSQL. A tenant created through serve A authenticates on serve B within a second; an
endpoint created on B receives deliveries from the workers; A and B list the same deliveries
and the same DLQ; an idempotent publish sent to A and B at once fans out once."""
import json
import threading
import time

import requests

from conftest import ADMIN
from test_durability import delivered_events, list_all, pending_all, wait_until
from test_redis_queue import redis_url  # noqa: F401 (a fixture)
from test_worker import start_worker  # noqa: F401 (a fixture)

# A redis call's bound of 5 s, not 500 ms: this test is about what the nodes share, and the
# CI builds beside it have held a publish's redis call past 500 ms, and once past 2 s (answered
# 503; such a push may have landed all the same, so retrying it would break the exact counts).
FAST = ("--retry-base-ms", "50", "--retry-max-delay-ms", "200", "--redis-timeout-ms", "5000")


def start_nodes(start_server, start_worker, redis_url, store, tmp_path):  # noqa: F811
    """serve A, serve B and two workers, each started in a directory of its own."""
    def home(name):
        d = tmp_path / name
        d.mkdir()
        return str(d)

    queue = ("--queue", "redis", "--redis", redis_url, *FAST)
    a = start_server(*queue, "--redis-owner", "serve-a", store=store, cwd=home("serve-a"))
    b = start_server(*queue, "--redis-owner", "serve-b", store=store, cwd=home("serve-b"))
    workers = [start_worker(redis_url, store, "--redis-owner", f"worker-{i}", *FAST,
                            cwd=home(f"worker-{i}")) for i in range(2)]
    return a, b, workers


def authenticated(srv, api_key):
    return srv.call("GET", "/v1/endpoints", token=api_key).status_code == 200


def endpoints_known(srv, api_key, n):
    return len(srv.ok("GET", "/v1/endpoints", api_key)["data"]) == n


def publish(srv, tenant_id, n):
    body = {"type": "order.created", "payload": {"n": n}, "tenant": tenant_id}
    r = srv.call("POST", "/v1/events", body=body)
    assert r.status_code == 202, r.text
    return r.json()


def test_two_nodes_share_the_catalog_the_deliveries_and_the_dlq(
        start_server, start_worker, start_receiver, keygen, redis_url, shared_store,  # noqa: F811
        tmp_path):
    a, b, workers = start_nodes(start_server, start_worker, redis_url, shared_store, tmp_path)

    # A tenant created through A authenticates on B within a second.
    tenant = a.ok("POST", "/v1/tenants", body={"name": "two-nodes"}, status=201)
    key, tenant_id = tenant["api_key"], tenant["id"]
    t0 = time.monotonic()
    while not authenticated(b, key):
        assert time.monotonic() - t0 < 1.0, "the tenant made on A is unknown to B after 1 s"
        time.sleep(0.01)
    took = time.monotonic() - t0
    assert authenticated(a, key)

    # Its key, subscriptions and endpoints, all made on B: one healthy receiver, one that fails
    # every attempt (its deliveries go to the DLQ after two attempts).
    keys = keygen("two-nodes")
    with open(f"{keys}/public.jwk") as f:
        b.ok("POST", "/v1/keys", key, {"public_key": json.load(f)}, status=201)
    b.ok("PUT", "/v1/subscriptions", key, {"event_types": ["*"]})
    good, bad = start_receiver(keys), start_receiver(keys, "--fail-rate", "1.0")
    ep_good = b.ok("POST", "/v1/endpoints", key, {"url": good.url}, status=201)
    ep_bad = b.ok("POST", "/v1/endpoints", key, {"url": bad.url, "max_attempts": 2}, status=201)
    good.set_secret(ep_good["secret"])
    bad.set_secret(ep_bad["secret"])
    wait_until(lambda: endpoints_known(a, key, 2), 5, "A knows B's endpoints")

    n = 40
    accepted = {}
    for i in range(n):  # through either serve
        answer = publish((a, b)[i % 2], tenant_id, i)
        assert answer["deliveries"] == 2, answer
        accepted[answer["event_id"]] = i
    wait_until(lambda: set(accepted) <= set(delivered_events([good])), 60,
               "every event reached the endpoint made on B")
    assert all(delivered_events([good])[e] == i for e, i in accepted.items())
    by_workers = [w.delivered() for w in workers]
    assert sum(by_workers) > 0, "the workers delivered nothing"

    # Every record settled, as the processes that made the attempts wrote them.
    def settled():
        dead = list_all(a, key, "status=dead")
        delivered = list_all(a, key, "status=delivered")
        return len(dead) == n and len(delivered) == n and pending_all(a, [{"api_key": key}]) == []
    wait_until(settled, 60, "every delivery delivered or dead")
    assert pending_all(b, [{"api_key": key}]) == []

    # A and B read the same listing and the same DLQ, page after page.
    everything = list_all(a, key, "")
    assert len(everything) == 2 * n
    assert list_all(b, key, "") == everything
    dlq = list_all(a, key, "status=dead")
    assert list_all(b, key, "status=dead") == dlq
    assert {d["endpoint_id"] for d in dlq} == {ep_bad["id"]}
    assert {d["event_id"] for d in dlq} == set(accepted)
    assert all(d["attempt_count"] == 2 for d in dlq), dlq[0]
    one = dlq[0]["id"]
    assert a.ok("GET", f"/v1/deliveries/{one}", key) == b.ok("GET", f"/v1/deliveries/{one}", key)
    print(f"\n{shared_store.split(':')[0]}: tenant known on B after {1000 * took:.0f} ms; "
          f"workers delivered {by_workers} of {n}")


def test_an_idempotent_publish_sent_to_both_serves_at_once_fans_out_once(
        start_server, start_worker, start_receiver, keygen, redis_url, shared_store,  # noqa: F811
        tmp_path):
    a, b, workers = start_nodes(start_server, start_worker, redis_url, shared_store, tmp_path)
    keys = keygen("idem")
    rx1, rx2 = start_receiver(keys), start_receiver(keys)
    t = a.onboard("idem", keys, rx1.url)
    key, tenant_id = t["api_key"], t["tenant"]["id"]
    rx1.set_secret(t["endpoint"]["secret"])
    ep2 = a.ok("POST", "/v1/endpoints", key, {"url": rx2.url}, status=201)
    rx2.set_secret(ep2["secret"])
    wait_until(lambda: endpoints_known(b, key, 2), 5, "B knows A's endpoints")

    rounds = 10
    event_ids = {}
    for r in range(rounds):
        barrier = threading.Barrier(2)
        answers = {}

        def send(srv, name):
            body = {"type": "order.created", "payload": {"n": r}, "tenant": tenant_id,
                    "id": f"idem-{r}"}
            barrier.wait()
            # A connection of its own each; a publish still in progress elsewhere is retried
            # shortly, as the 409 says.
            for _ in range(100):
                res = requests.post(srv.base + "/v1/events", json=body,
                                    headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30)
                if res.status_code != 409:
                    break
                assert res.json()["error"]["code"] == "idempotency_in_progress", res.text
                time.sleep(0.02)
            answers[name] = res

        threads = [threading.Thread(target=send, args=(srv, name))
                   for srv, name in ((a, "a"), (b, "b"))]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert [answers[x].status_code for x in "ab"] == [202, 202], \
            [answers[x].text for x in "ab"]
        assert [answers[x].json()["deliveries"] for x in "ab"] == [2, 2]
        ids = {answers[x].json()["event_id"] for x in "ab"}
        assert len(ids) == 1, (r, ids)  # one event, whichever serve answered first
        event_ids[ids.pop()] = r

    wait_until(lambda: set(event_ids) <= set(delivered_events([rx1])) and
               set(event_ids) <= set(delivered_events([rx2])), 60,
               "each event reached both endpoints")
    # The records are the journals' (serve's at publish, the delivering process's at the
    # outcome), written behind the deliveries: waited for, then counted exactly.
    wait_until(lambda: len(list_all(a, key, "status=delivered")) >= 2 * rounds, 30,
               "every delivery recorded as delivered")
    assert pending_all(a, [t]) == []
    records = list_all(a, key, "")
    assert len(records) == 2 * rounds, [(d["event_id"], d["endpoint_id"]) for d in records]
    per_event = {}
    for d in records:
        per_event.setdefault(d["event_id"], []).append(d["endpoint_id"])
    assert set(per_event) == set(event_ids)
    assert all(sorted(eps) == sorted([t["endpoint"]["id"], ep2["id"]])
               for eps in per_event.values()), per_event
    assert list_all(b, key, "") == records
