"""Durability of the default (sqlite) queue against the real binary: SIGKILL at different
moments, a delivery that kills its worker every time, concurrent idempotent publishes and
replays. Each test counts what arrived against what was accepted."""
import concurrent.futures
import os
import signal
import threading
import time

import pytest

from conftest import ADMIN, HangingReceiver

SERVE = ("--retry-base-ms", "1000", "--retry-max-delay-ms", "4000", "--max-attempts", "25")


def publish_all(srv, tenants, events, start, kill_after=None, workers=4, refused=None,
                times=None):
    """Publishes events[start:] round-robin over tenants; returns {event_id: n} of the 202s.
    With kill_after, SIGKILLs the server once that many were accepted (and stops publishing).
    With a list as `refused`, each answer other than 202 is appended to it (status and body).
    With a dict as `times`, times[n] = (sent, answered) for each 202 (time.monotonic()): the
    publishes run `workers` at a time, so only one answered before another was sent is
    published before it."""
    accepted = {}
    lock = threading.Lock()
    killed = threading.Event()

    def one(i):
        if killed.is_set():
            return
        tenant = tenants[i % len(tenants)]
        sent = time.monotonic()
        try:
            r = srv.call("POST", "/v1/events", body={"type": "order.created", "payload": {"n": i},
                                                     "tenant": tenant["tenant"]["id"]})
        except Exception as e:  # the server was killed under us: not accepted
            if refused is not None:
                refused.append(repr(e)[:200])
            return
        if r.status_code != 202 and refused is not None:
            refused.append(f"{r.status_code} {r.text[:200]}")
        if r.status_code == 202:
            with lock:
                accepted[r.json()["event_id"]] = i
                if times is not None:
                    times[i] = (sent, time.monotonic())
                if kill_after is not None and len(accepted) == kill_after:
                    killed.set()
                    srv.proc.p.send_signal(signal.SIGKILL)

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(start, events)))
    return accepted


def delivered_events(receivers):
    got = {}
    for rx in receivers:
        for e in rx.events():
            got[e["event"]["id"]] = e["event"]["data"]["n"]
    return got


def stop_and_count_duplicates(receivers):
    """Stops the receivers and adds up the duplicates each reports on its way out."""
    for rx in receivers:
        rx.proc.stop()
    return sum(int(line.split(" events, ")[1].split()[0]) for rx in receivers
               for line in rx.proc.err_lines if " duplicates" in line)


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def list_all(srv, api_key, query):
    """Every page of a delivery list."""
    out, cursor = [], None
    while True:
        page = srv.ok("GET", f"/v1/deliveries?{query}&limit=100" +
                      (f"&cursor={cursor}" if cursor else ""), api_key)
        out += page["data"]
        cursor = page["next"]
        if not cursor:
            return out


def pending_all(srv, tenants):
    return [d for t in tenants for d in list_all(srv, t["api_key"], "status=pending")]


def test_sigkill_three_times_loses_no_accepted_event(start_server, start_receiver, keygen,
                                                    tmp_path):
    store = f"sqlite:{tmp_path}/crash"
    srv = start_server(*SERVE, store=store)
    keys = keygen("crash")
    receivers, tenants = [], []
    for i in range(10):
        rx = start_receiver(keys, "--fail-rate", "0.2", "--delay-ms", "20", "--threads", "4")
        t = srv.onboard(f"crash{i}", keys, rx.url)
        rx.set_secret(t["endpoint"]["secret"])
        receivers.append(rx)
        tenants.append(t)
    accepted = {}

    # Kill 1: while publishing (other publishes are in flight when it lands).
    accepted.update(publish_all(srv, tenants, 2000, 0, kill_after=500))
    srv.proc.p.wait()
    first_batch = len(accepted)
    assert 500 <= first_batch < 2000, first_batch
    srv = start_server(*SERVE, store=store)
    accepted.update(publish_all(srv, tenants, 2000, max(accepted.values()) + 1))
    assert len(accepted) >= 1900, len(accepted)  # a few were in flight at the kill

    # Kill 2: while retries are scheduled. Note each one's due time first.
    def scheduled():
        now = time.time() * 1000
        return {d["id"]: (d["next_attempt_at"], t) for t in tenants
                for d in list_all(srv, t["api_key"], "status=pending")
                if d["attempt_count"] >= 1 and (d["next_attempt_at"] or 0) > now + 500}
    wait_until(lambda: scheduled(), 60, "a scheduled retry")
    due = scheduled()
    killed_at = time.time() * 1000
    srv.proc.p.send_signal(signal.SIGKILL)
    srv.proc.p.wait()
    srv = start_server(*SERVE, store=store)

    # Kill 3: a moment later, deliveries and retries under way again.
    time.sleep(0.5)
    srv.proc.p.send_signal(signal.SIGKILL)
    srv.proc.p.wait()
    srv = start_server(*SERVE, store=store)

    wait_until(lambda: set(accepted) <= set(delivered_events(receivers)), 180,
               "every accepted event delivered")
    got = delivered_events(receivers)
    assert all(got[e] == n for e, n in accepted.items())  # decrypted, and the right payload
    wait_until(lambda: int(srv.metrics()['sealhook_queue_depth{queue="sqlite"}']) == 0, 60, "queue empty")
    assert pending_all(srv, tenants) == []

    # The retries noted before kill 2 kept their times: none was tried again before it.
    early = []
    for delivery_id, (at, t) in due.items():
        d = srv.ok("GET", f"/v1/deliveries/{delivery_id}", t["api_key"])
        after = [a["at"] for a in d["attempts"] if a["at"] >= killed_at]
        if after and min(after) < at - 50:
            early.append((delivery_id, at, d["attempts"]))
    assert due and not early, early
    dups = stop_and_count_duplicates(receivers)
    print(f"\ncrash test: {len(accepted)} accepted, {len(got)} delivered, {dups} duplicates, "
          f"{len(due)} retries scheduled across kill 2")


def test_delivery_that_kills_its_worker_every_time_ends_dead(start_server, keygen, tmp_path):
    store = f"sqlite:{tmp_path}/poison"
    hang = HangingReceiver()
    args = ("--attempt-timeout-ms", "600000", "--max-attempts", "3")
    srv = start_server(*args, store=store)
    t = srv.onboard("poison", keygen("poison"), hang.url)
    ev = srv.ok("POST", "/v1/events", body={"type": "a", "payload": 1}, status=202)
    # Each hand-out reaches the receiver and the process dies mid-attempt.
    for handout in range(1, 4):
        hang.wait_accepted(handout)
        srv.proc.p.send_signal(signal.SIGKILL)
        srv.proc.p.wait()
        srv = start_server(*args, store=store)
    page = srv.wait_list(t["api_key"], "status=dead", 1)
    d = page["data"][0]
    assert "handed out 3 times" in d["last_error"], d
    assert hang.accepted == 3  # the fourth hand-out was not sent
    assert ev["event_id"] == d["event_id"]
    hang.close()


def test_poison_delivery_times_out_into_the_dlq(start_server, keygen):
    hang = HangingReceiver()
    srv = start_server("--attempt-timeout-ms", "300", "--max-attempts", "3",
                       "--retry-base-ms", "50")
    t = srv.onboard("slow", keygen("slow"), hang.url)
    srv.ok("POST", "/v1/events", body={"type": "a", "payload": 1}, status=202)
    d = srv.wait_list(t["api_key"], "status=dead", 1)["data"][0]
    full = srv.ok("GET", f"/v1/deliveries/{d['id']}", t["api_key"])
    assert [a["number"] for a in full["attempts"]] == [1, 2, 3]
    assert all(a["error"] == "timeout" for a in full["attempts"]), full["attempts"]
    hang.close()


def test_concurrent_publishes_with_one_key_fan_out_once(start_server, start_receiver, keygen):
    srv = start_server()
    keys = keygen("idem")
    rx = start_receiver(keys)
    t = srv.onboard("idem", keys, rx.url)
    rx.set_secret(t["endpoint"]["secret"])
    for round_ in range(5):
        key = f"order-{round_}"
        barrier = threading.Barrier(8)

        def one(_):
            barrier.wait()
            return srv.call("POST", "/v1/events", body={"type": "a", "payload": round_, "id": key})

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(one, range(8)))
        ok = [a.json()["event_id"] for a in answers if a.status_code == 202]
        busy = [a for a in answers if a.status_code == 409]
        assert len(ok) + len(busy) == 8, [(a.status_code, a.text) for a in answers]
        assert all(a.json()["error"]["code"] == "idempotency_in_progress" for a in busy)
        assert len(set(ok)) == 1, ok  # one event, answered again to the others
    rx.wait_count(5)
    srv.wait_list(t["api_key"], "status=delivered", 5)
    assert len(srv.ok("GET", "/v1/deliveries?limit=100", t["api_key"])["data"]) == 5
    assert len(rx.events()) == 5


def test_concurrent_replays_enqueue_once(start_server, start_receiver, keygen):
    srv = start_server("--max-attempts", "1")
    keys = keygen("replay")
    rx = start_receiver(keys, "--fail-rate", "1.0", "--delay-ms", "1500")  # pending while raced
    t = srv.onboard("replay", keys, rx.url)
    rx.set_secret(t["endpoint"]["secret"])
    srv.ok("POST", "/v1/events", body={"type": "a", "payload": 1}, status=202)
    d = srv.wait_list(t["api_key"], "status=dead", 1)["data"][0]
    barrier = threading.Barrier(6)

    def one(_):
        barrier.wait()
        return srv.call("POST", f"/v1/deliveries/{d['id']}/replay", t["api_key"])

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(one, range(6)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [202, 409, 409, 409, 409, 409], [(a.status_code, a.text) for a in answers]
    srv.wait_status(t["api_key"], d["id"], "dead")
    full = srv.ok("GET", f"/v1/deliveries/{d['id']}", t["api_key"])
    assert [a["number"] for a in full["attempts"]] == [1, 2]  # one more attempt, not six
