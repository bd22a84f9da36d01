"""Switching `ordering` on a live endpoint (PATCH /v1/endpoints/{id}) applies at once to what is
queued: ordered -> unordered frees the deliveries behind a failing head; unordered -> ordered
delivers the already-queued ones in publish order. Over HTTP, against a receiver on loopback
that answers as each test tells it."""
import http.server
import threading

import pytest

from test_redis_queue import redis_url  # noqa: F401 (a fixture)


@pytest.fixture(params=["sqlite", "memory", "redis"])
def queue_args(request):
    """The switch over every queue: the flags that choose it."""
    if request.param == "redis":
        return ("--queue", "redis", "--redis", request.getfixturevalue("redis_url"))
    return ("--queue", request.param)


class ScriptedReceiver:
    """Answers 200, or 500 while `fails(webhook_id)` says so; records every attempt."""

    def __init__(self, fails):
        self.fails = fails
        self.attempts = []  # (webhook-id, status) in the order answered
        self.cond = threading.Condition()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                wid = self.headers.get("webhook-id", "")
                with outer.cond:
                    status = 500 if outer.fails(wid) else 200
                    outer.attempts.append((wid, status))
                    outer.cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, predicate, timeout=30, what="attempts"):
        with self.cond:
            assert self.cond.wait_for(lambda: predicate(self.attempts), timeout), \
                (what, self.attempts)

    def delivered(self):
        with self.cond:
            return [wid for wid, status in self.attempts if status == 200]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def failing_receiver():
    """A receiver that answers 500 to everything until its `failing` event is cleared."""
    failing = threading.Event()
    failing.set()
    rx = ScriptedReceiver(lambda wid: failing.is_set())
    rx.failing = failing
    return rx


def assert_delivered_in_publish_order(rx, srv, key, events):
    rx.wait(lambda a: sum(1 for _, s in a if s == 200) >= len(events), what="all delivered")
    by_event = deliveries_by_event(srv, key)
    assert rx.delivered() == [by_event[e]["id"] for e in events]  # publish order


def publish(srv, key, n):
    return srv.ok("POST", "/v1/events", key, {"type": "seq.step", "payload": n}, status=202)["event_id"]


def deliveries_by_event(srv, key):
    """{event id: delivery record} of the tenant's (one endpoint: one delivery per event)."""
    rows = srv.ok("GET", "/v1/deliveries?limit=100", key)["data"]
    return {d["event_id"]: d for d in rows}


def patch_ordering(srv, t, ordering):
    ep = t["endpoint"]["id"]
    assert srv.ok("PATCH", f"/v1/endpoints/{ep}", t["api_key"], {"ordering": ordering})["ordering"] == ordering


def test_ordered_to_unordered_frees_what_waits_behind_a_failing_head(start_server, keygen, queue_args):
    srv = start_server(*queue_args, "--retry-base-ms", "100", "--retry-max-delay-ms", "400")
    head = []  # the first delivery seen fails every time

    def fails(wid):
        if not head:
            head.append(wid)
        return wid == head[0]

    rx = ScriptedReceiver(fails)
    try:
        t = srv.onboard("switch-1", keygen("switch-1"), rx.url, ordering="ordered", max_attempts=50)
        key = t["api_key"]
        h = publish(srv, key, 0)
        rx.wait(lambda a: len(a) >= 2, what="the head failing twice")
        waiting = [publish(srv, key, n) for n in (1, 2)]
        seen = len(rx.attempts)
        rx.wait(lambda a: len(a) >= seen + 1, what="the head failing again")
        by_event = deliveries_by_event(srv, key)
        assert [by_event[e]["attempt_count"] for e in waiting] == [0, 0]  # blocked by the head
        assert rx.delivered() == []

        patch_ordering(srv, t, "unordered")
        later = [publish(srv, key, n) for n in (3, 4)]
        rx.wait(lambda a: sum(1 for _, s in a if s == 200) >= 4, what="the four later deliveries")
        by_event = deliveries_by_event(srv, key)
        assert sorted(rx.delivered()) == sorted(by_event[e]["id"] for e in waiting + later)
        # ...while the head still fails and waits for its retries, neither delivered nor dead.
        head_record = srv.ok("GET", f"/v1/deliveries/{by_event[h]['id']}", key)
        assert head_record["status"] == "pending", head_record
        assert head[0] == by_event[h]["id"]
    finally:
        rx.close()


def test_unordered_to_ordered_delivers_the_queued_ones_in_publish_order(start_server, keygen, queue_args):
    # A wide jitter sends the retries of the queued deliveries in a shuffled order.
    srv = start_server(*queue_args, "--retry-base-ms", "50", "--retry-max-delay-ms", "400",
                       "--retry-jitter", "0.9")
    rx = failing_receiver()
    try:
        t = srv.onboard("switch-2", keygen("switch-2"), rx.url, max_attempts=50)
        key = t["api_key"]
        events = [publish(srv, key, n) for n in range(8)]

        def each_failed_twice(attempts):
            counts = {}
            for wid, _ in attempts:
                counts[wid] = counts.get(wid, 0) + 1
            return len(counts) == len(events) and min(counts.values()) >= 2

        rx.wait(each_failed_twice, what="every delivery failing twice")
        patch_ordering(srv, t, "ordered")
        rx.failing.clear()  # what was in flight at the switch has failed and waits in its place
        assert_delivered_in_publish_order(rx, srv, key, events)
        assert srv.ok("GET", f"/v1/endpoints/{t['endpoint']['id']}", key)["ordering"] == "ordered"
    finally:
        rx.close()


def test_a_switch_is_kept_across_a_restart(start_server, keygen):
    """The ordering reached the queue's own state: after a restart only the head of the switched
    endpoint is tried, and the queued deliveries then go in publish order."""
    srv = start_server("--retry-jitter", "0.9", "--drain-timeout-ms", "0")
    rx = failing_receiver()
    try:
        t = srv.onboard("switch-3", keygen("switch-3"), rx.url, max_attempts=50)
        key = t["api_key"]
        events = [publish(srv, key, n) for n in range(6)]
        rx.wait(lambda a: len({w for w, _ in a}) == len(events), what="each tried once")
        patch_ordering(srv, t, "ordered")
        srv.proc.stop()
        again = start_server("--retry-jitter", "0.9", store=srv.store)
        head = deliveries_by_event(again, key)[events[0]]["id"]
        with rx.cond:
            seen = len(rx.attempts)
        rx.wait(lambda a: len(a) >= seen + 3, what="attempts after the restart")
        with rx.cond:
            assert {w for w, _ in rx.attempts[seen:]} == {head}  # only the head is tried
        rx.failing.clear()
        assert_delivered_in_publish_order(rx, again, key, events)
    finally:
        rx.close()
