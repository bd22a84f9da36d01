"""/metrics after a scripted run, read with a real Prometheus parser (PyPI prometheus-client):
a loopback receiver answers each endpoint's deliveries by plan (at once; after 5xx; after a
redirect; after a timeout; never but 400; a port that refuses), and every counter and
histogram count is exactly what the plan made, cross-checked with what the receiver saw."""
import collections
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from test_worker import start_worker  # noqa: F401 (the fixture)
from test_redis_queue import redis_url  # noqa: F401 (the fixture)

HANG = "hang"  # the attempt gets no answer (it times out)
# Per endpoint path: the answer to a delivery's 1st, 2nd, ... attempt (the last one repeats).
PLANS = {"/ok": [200], "/flaky": [500, 500, 200], "/moved": [302, 200], "/slow": [HANG, 200],
         "/rejected": [400]}
MAX_ATTEMPTS = {"/ok": 5, "/flaky": 5, "/moved": 5, "/slow": 5, "/rejected": 2,
                "/refused": 2}
TYPES = ["order.created", "invoice.sent", "order.paid", "user.signup", "invoice.void"]
ATTEMPT_TIMEOUT_S = 2.5  # long enough that no answered attempt on a busy machine times out


class PlanReceiver:
    """Answers by PLANS, per delivery (its webhook-id), and tallies what it answered."""

    def __init__(self):
        self.lock = threading.Lock()
        self.attempts = collections.Counter()  # (path, webhook-id) -> attempts seen
        self.answers = collections.Counter()   # status (or HANG) -> times answered so
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                plan = PLANS[self.path]
                with receiver.lock:
                    key = (self.path, self.headers["webhook-id"])
                    n = receiver.attempts[key]
                    receiver.attempts[key] += 1
                    answer = plan[min(n, len(plan) - 1)]
                    receiver.answers[answer] += 1
                if answer == HANG:  # held until the test ends; sealhook gives up first
                    receiver.release.wait(60)
                    self.close_connection = True
                    return
                self.send_response(answer)
                if answer == 302:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def plan_receiver():
    rx = PlanReceiver()
    yield rx
    rx.close()


@pytest.fixture
def refused_url():
    """A loopback port bound and not listening: every connection to it is refused."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    yield f"http://127.0.0.1:{s.getsockname()[1]}/refused"
    s.close()


def parse(text):
    """{(sample name, frozenset of labels): value} and {family name: type}, by the real
    parser; and the format's rules the parser lets pass."""
    samples, types = {}, {}
    for family in text_string_to_metric_families(text):
        assert family.name not in types, f"family {family.name} twice"
        types[family.name] = family.type
        for s in family.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in samples, f"sample {key} twice"
            samples[key] = s.value
            if family.type == "counter":
                assert s.name.endswith("_total") or s.name.endswith("_created"), s.name
    help_lines = [line.split()[2] for line in text.splitlines() if line.startswith("# HELP ")]
    type_lines = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")]
    assert len(help_lines) == len(set(help_lines)) and len(type_lines) == len(set(type_lines))
    assert sorted(help_lines) == sorted(type_lines)
    return samples, types


def scrape(base):
    r = requests.get(base + "/metrics", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    return parse(r.text)


def value(samples, name, **labels):
    return samples[(name, frozenset(labels.items()))]


def buckets(samples, name, **labels):
    """The histogram's (le, cumulative count) pairs, in order of le."""
    out = [(float(dict(k)["le"]), v) for (n, k), v in samples.items()
           if n == name + "_bucket" and {x: y for x, y in k if x != "le"} == labels]
    return sorted(out)


def check_histogram(samples, name, **labels):
    """Cumulative, ends in +Inf, which equals _count. Returns the buckets."""
    b = buckets(samples, name, **labels)
    assert b and b[-1][0] == float("inf")
    assert all(x[1] <= y[1] for x, y in zip(b, b[1:])), b
    assert b[-1][1] == value(samples, name + "_count", **labels)
    return b


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def onboard_plan(srv, keygen, plan_receiver, refused_url):
    t = srv.onboard("metrics", keygen("metrics"), plan_receiver.url("/ok"),
                    max_attempts=MAX_ATTEMPTS["/ok"])
    for path in ("/flaky", "/moved", "/slow", "/rejected"):
        srv.ok("POST", "/v1/endpoints", t["api_key"],
               {"url": plan_receiver.url(path), "max_attempts": MAX_ATTEMPTS[path]}, status=201)
    srv.ok("POST", "/v1/endpoints", t["api_key"],
           {"url": refused_url, "max_attempts": MAX_ATTEMPTS["/refused"]}, status=201)
    for event_type in TYPES:
        r = srv.ok("POST", "/v1/events", body={"type": event_type, "payload": {}}, status=202)
        assert r["deliveries"] == 6
    return t


# What the plan makes of each event's six deliveries, by endpoint: attempts by class, retries,
# and whether it ends delivered.
PER_EVENT = {"2xx": 4, "3xx": 1, "4xx": 2, "5xx": 2, "timeout": 1, "network_error": 2, "1xx": 0}
E = len(TYPES)
DELIVERED, DEAD, RETRIED = 4 * E, 2 * E, (2 + 1 + 1 + 1 + 1) * E
ATTEMPTS = sum(PER_EVENT.values()) * E


def settled(base_urls, queue):
    """Every delivery delivered or dead, nothing in flight or queued, and the gauges counted in
    the background (--metrics-refresh-ms) counted since."""
    def check():
        total = collections.Counter()
        for base in base_urls:
            s, _ = scrape(base)
            for outcome in ("delivered", "dead"):
                total[outcome] += value(s, "sealhook_deliveries_total", outcome=outcome)
            total["inflight"] += value(s, "sealhook_attempts_inflight")
        s, _ = scrape(base_urls[0])
        return (total["delivered"] == DELIVERED and total["dead"] == DEAD
                and total["inflight"] == 0
                and value(s, "sealhook_queue_depth", queue=queue) == 0
                and value(s, "sealhook_queue_leased", queue=queue) == 0
                and value(s, "sealhook_queue_scheduled", queue=queue) == 0  # a refresh's
                and s.get(("sealhook_dlq_size", frozenset({("queue", queue)}))) == DEAD)
    return check


def assert_counts(samples_list, plan_receiver):
    """The sums over `samples_list` (one per process) against the plan and the receiver."""
    def total(name, **labels):
        return sum(value(s, name, **labels) for s in samples_list)

    for cls, n in PER_EVENT.items():
        assert total("sealhook_attempts_total", **{"class": cls}) == n * E, cls
    assert total("sealhook_attempts_started_total") == ATTEMPTS
    assert total("sealhook_deliveries_total", outcome="delivered") == DELIVERED
    assert total("sealhook_deliveries_total", outcome="retried") == RETRIED
    assert total("sealhook_deliveries_total", outcome="dead") == DEAD
    assert total("sealhook_attempt_duration_seconds_count") == ATTEMPTS
    assert total("sealhook_publish_to_delivery_seconds_count") == DELIVERED
    # The receiver's own tally agrees (what it answered, by class).
    a = plan_receiver.answers
    assert total("sealhook_attempts_total", **{"class": "2xx"}) == a[200]
    assert total("sealhook_attempts_total", **{"class": "3xx"}) == a[302]
    assert total("sealhook_attempts_total", **{"class": "4xx"}) == a[400]
    assert total("sealhook_attempts_total", **{"class": "5xx"}) == a[500]
    assert total("sealhook_attempts_total", **{"class": "timeout"}) == a[HANG]
    for s in samples_list:
        check_histogram(s, "sealhook_attempt_duration_seconds")
        check_histogram(s, "sealhook_publish_to_delivery_seconds")
    # The timed-out attempts lasted the attempt timeout: above the 1 s bucket, in the sum.
    above_1s = sum(value(s, "sealhook_attempt_duration_seconds_count")
                   - dict(buckets(s, "sealhook_attempt_duration_seconds"))[1.0]
                   for s in samples_list)
    assert above_1s >= E
    assert total("sealhook_attempt_duration_seconds_sum") >= E * ATTEMPT_TIMEOUT_S


def test_metrics_after_a_scripted_run_equal_what_it_did(start_server, keygen, plan_receiver,
                                                        refused_url):
    srv = start_server("--attempt-timeout-ms", str(int(ATTEMPT_TIMEOUT_S * 1000)),
                       "--metrics-refresh-ms", "100", "--metrics-type-classes", "2")
    t = onboard_plan(srv, keygen, plan_receiver, refused_url)
    wait_for(settled([srv.base], "sqlite"), 60, "every delivery delivered or dead")
    samples, types = scrape(srv.base)

    # Families and their types (the parser names a counter's family without _total).
    assert types["sealhook_events_published"] == "counter"
    assert types["sealhook_attempts"] == "counter"
    assert types["sealhook_attempt_duration_seconds"] == "histogram"
    assert types["sealhook_publish_to_delivery_seconds"] == "histogram"
    assert types["sealhook_dlq_size"] == "gauge"
    assert types["sealhook_journal_backlog"] == "gauge"
    # Events by type class: the first two classes seen, then "other" (--metrics-type-classes 2).
    assert value(samples, "sealhook_events_published_total", type_class="order") == 2
    assert value(samples, "sealhook_events_published_total", type_class="invoice") == 2
    assert value(samples, "sealhook_events_published_total", type_class="other") == 1
    assert len([k for k in samples if k[0] == "sealhook_events_published_total"]) == 3
    assert value(samples, "sealhook_deliveries_enqueued_total") == 6 * E
    assert_counts([samples], plan_receiver)
    assert value(samples, "sealhook_dlq_size", queue="sqlite") == DEAD
    assert value(samples, "sealhook_queue_scheduled", queue="sqlite") == 0
    assert value(samples, "sealhook_journal_write_errors_total") == 0
    assert value(samples, "sealhook_journal_backlog") >= 0
    # The DLQ count is a recent one (--metrics-refresh-ms 100).
    refreshed = value(samples, "sealhook_store_gauges_refresh_timestamp_seconds")
    assert abs(time.time() - refreshed) < 30
    # No label names a tenant or an endpoint.
    for name, labels in samples:
        assert {k for k, _ in labels} <= {"type_class", "class", "outcome", "queue", "le",
                                          "direction", "reason", "state"}, (name, labels)
    # The DLQ gauge is the store's count: the dead deliveries listed by the API.
    dead = srv.ok("GET", "/v1/deliveries?status=dead&limit=100", t["api_key"])["data"]
    assert len(dead) == DEAD


def test_worker_and_serve_metrics_add_up_on_the_redis_queue(start_server, start_worker, keygen,
                                                            plan_receiver, refused_url, tmp_path,
                                                            redis_url):  # noqa: F811
    store = f"sqlite:{tmp_path}/shared.db"
    timeout = ("--attempt-timeout-ms", str(int(ATTEMPT_TIMEOUT_S * 1000)),
               "--metrics-refresh-ms", "100")
    srv = start_server("--queue", "redis", "--redis", redis_url, *timeout, store=store)
    worker = start_worker(redis_url, store, *timeout)
    onboard_plan(srv, keygen, plan_receiver, refused_url)
    wait_for(settled([srv.base, worker.base], "redis"), 60, "every delivery delivered or dead")
    wait_for(lambda: scrape(worker.base)[0].get(
        ("sealhook_dlq_size", frozenset({("queue", "redis")}))) == DEAD, 10, "worker's DLQ gauge")
    by_serve, _ = scrape(srv.base)
    by_worker, types = scrape(worker.base)
    assert types["sealhook_attempt_duration_seconds"] == "histogram"
    assert_counts([by_serve, by_worker], plan_receiver)
    assert value(by_worker, "sealhook_queue_depth", queue="redis") == 0
    assert value(by_serve, "sealhook_events_published_total", type_class="order") == 2


@pytest.mark.parametrize("queue", ["memory", "sqlite"])
def test_scheduled_retries_are_counted_by_a_local_queue(start_server, keygen, plan_receiver,
                                                        queue):
    # A retry a minute away: after each first attempt (500) the delivery waits on a timer.
    srv = start_server("--queue", queue, "--retry-base-ms", "60000", "--metrics-refresh-ms", "100")
    srv.onboard("later", keygen("later"), plan_receiver.url("/flaky"))
    for i in range(3):
        srv.ok("POST", "/v1/events", body={"type": "a.b", "payload": i}, status=202)

    def three_scheduled():
        s, _ = scrape(srv.base)
        return (value(s, "sealhook_queue_scheduled", queue=queue) == 3
                and value(s, "sealhook_deliveries_total", outcome="retried") == 3)
    wait_for(three_scheduled, 30, "three retries scheduled")
    s, _ = scrape(srv.base)
    assert value(s, "sealhook_queue_depth", queue=queue) == 3
    assert value(s, "sealhook_queue_leased", queue=queue) == 0
    assert value(s, "sealhook_attempts_total", **{"class": "5xx"}) == 3 == plan_receiver.answers[500]
