"""OpenTelemetry traces: an OTLP/HTTP collector in the test decodes every export with the
official protobuf definitions (PyPI opentelemetry-proto: json_format.ParseDict into
ExportTraceServiceRequest, unknown fields refused; ids from OTLP/JSON's hex), so the exporter's
JSON is checked against them. One trace id runs from the publish (under the caller's traceparent) to every attempt,
the attempts of a `sealhook worker` on the redis queue included, and the endpoint sees that
trace id in its `traceparent`; a collector that is down or slow changes no delivery; with
traces off a caller's traceparent is still passed on, through a restart of the sqlite queue."""
import base64
import collections
import json
import os
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from test_durability import wait_until
from test_redis_queue import redis_url  # noqa: F401 (the fixture)
from test_worker import start_worker  # noqa: F401 (the fixture)

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
CALLER = f"00-{TRACE_ID}-{CALLER_SPAN}-01"
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$")
FAST_EXPORT = ("--trace-batch-delay-ms", "100")


def otlp_ids_to_base64(doc):
    """OTLP/JSON spells trace and span ids as hex, where protobuf's JSON mapping has base64 for
    bytes (the one deviation the OTLP spec makes): each id must be hex of its exact length, and
    is handed to the official definitions as base64."""
    sizes = {"traceId": 16, "spanId": 8, "parentSpanId": 8}
    for rs in doc.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for span in ss.get("spans", []):
                for key, size in sizes.items():
                    if key in span:
                        raw = bytes.fromhex(span[key])
                        if len(raw) != size or span[key] != span[key].lower():
                            raise ValueError(f"{key} {span[key]!r} is not {size} bytes of hex")
                        span[key] = base64.b64encode(raw).decode()
    return doc


def value_of(any_value):
    return json_format.MessageToDict(any_value).popitem()[1] if any_value.ListFields() else None


class Collector:
    """OTLP/HTTP JSON on loopback: each POST /v1/traces is parsed strictly by the official
    definitions; answered after `delay` seconds (a slow collector)."""

    def __init__(self, delay=0.0):
        self.delay = delay
        self.cond = threading.Condition()
        self.spans = []  # (resource attributes, span)
        self.bad = []  # bodies the definitions refused
        collector = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = self.path == "/v1/traces" and \
                    self.headers["Content-Type"] == "application/json"
                try:
                    req = json_format.ParseDict(otlp_ids_to_base64(json.loads(body)),
                                                ExportTraceServiceRequest())
                except (json_format.ParseError, ValueError) as e:
                    ok = False
                    collector.bad.append((str(e), body[:300]))
                if ok:
                    with collector.cond:
                        for rs in req.resource_spans:
                            res = {a.key: value_of(a.value) for a in rs.resource.attributes}
                            for ss in rs.scope_spans:
                                collector.spans.extend((res, s) for s in ss.spans)
                        collector.cond.notify_all()
                time.sleep(collector.delay)  # the slow collector's answer time
                try:
                    self.send_response(200 if ok else 400)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the exporter gave up waiting (its timeout)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def trace(self, trace_id):
        with self.cond:
            return [(r, s) for r, s in self.spans if s.trace_id.hex() == trace_id]

    def wait(self, predicate, timeout=30, what="spans"):
        with self.cond:
            assert self.cond.wait_for(lambda: predicate(self), timeout), \
                (what, [(s.name, s.trace_id.hex()) for _, s in self.spans], self.bad)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Hooks:
    """The endpoints: records each attempt's webhook-id and traceparent; answers 500 while
    `failing` is set (or to a delivery's first attempt, with fail_first), else 200."""

    def __init__(self, fail_first=False):
        self.fail_first = fail_first
        self.failing = threading.Event()
        self.cond = threading.Condition()
        self.attempts = []  # (webhook-id, traceparent or None, status answered)
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                wid = self.headers["webhook-id"]
                with hooks.cond:
                    first = all(a[0] != wid for a in hooks.attempts)
                    status = 500 if hooks.failing.is_set() or (hooks.fail_first and first) \
                        else 200
                    hooks.attempts.append((wid, self.headers.get("traceparent"), status))
                    hooks.cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivered(self):
        with self.cond:
            return {a[0] for a in self.attempts if a[2] == 200}

    def wait(self, predicate, timeout=60, what="attempts"):
        with self.cond:
            assert self.cond.wait_for(lambda: predicate(self.attempts), timeout), \
                (what, self.attempts)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector():
    made = []

    def make(delay=0.0):
        made.append(Collector(delay))
        return made[-1]
    yield make
    for c in made:
        c.close()


@pytest.fixture
def hooks():
    made = []

    def make(**kw):
        made.append(Hooks(**kw))
        return made[-1]
    yield make
    for h in made:
        h.close()


def otel_env(endpoint, **extra):
    return {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, **extra}


def publish(srv, api_key, traceparent=None, event_type="order.created"):
    h = {"traceparent": traceparent} if traceparent else {}
    r = srv.call("POST", "/v1/events", api_key, body={"type": event_type, "payload": {"n": 1}},
                 headers=h)
    assert r.status_code == 202, r.text
    return r.json()


def attrs(span):
    return {a.key: value_of(a.value) for a in span.attributes}


def test_one_trace_from_the_publish_to_every_attempt_and_the_endpoint(
        start_server, keygen, collector, hooks):
    otlp, hook = collector(), hooks(fail_first=True)
    srv = start_server(*FAST_EXPORT, env=otel_env(
        otlp.base, OTEL_SERVICE_NAME="sealhook-e2e",
        OTEL_RESOURCE_ATTRIBUTES="deployment.environment=e2e,team=hooks%2Cops"))
    keys = keygen("traces")
    tenants = [srv.onboard(f"t{i}", keys, hook.url) for i in range(2)]
    # A tenant's publish without a traceparent: a trace of its own.
    assert publish(srv, tenants[0]["api_key"])["deliveries"] == 1
    # The admin's publish fans out to both tenants, under the caller's trace.
    r = srv.call("POST", "/v1/events", body={"type": "order.created", "payload": {"a": 2}},
                 headers={"traceparent": CALLER})
    assert r.status_code == 202 and r.json()["deliveries"] == 2, r.text
    # Each delivery: a 500, then a 200.
    hook.wait(lambda a: sum(1 for x in a if x[2] == 200) == 3, what="3 deliveries")
    want = {"SERVER": 1, "INTERNAL": 1, "PRODUCER": 1, "CLIENT": 4}
    otlp.wait(lambda c: collections.Counter(Span.SpanKind.Name(s.kind)[10:]
                                            for _, s in c.trace(TRACE_ID)) == want,
              what="the caller's trace")
    spans = [s for _, s in otlp.trace(TRACE_ID)]
    by_kind = {Span.SpanKind.Name(s.kind)[10:]: s for s in spans}
    server, fan_out, enqueue = by_kind["SERVER"], by_kind["INTERNAL"], by_kind["PRODUCER"]
    assert server.parent_span_id.hex() == CALLER_SPAN
    assert server.name == "POST /v1/events"
    assert attrs(server)["http.request.method"] == "POST"
    assert attrs(server)["http.route"] == "/v1/events"
    assert attrs(server)["http.response.status_code"] == "202"  # int64: a string in JSON
    assert fan_out.name == "fan-out" and enqueue.name == "enqueue"
    assert fan_out.parent_span_id == server.span_id == enqueue.parent_span_id
    assert attrs(fan_out)["sealhook.deliveries"] == "2"
    assert server.start_time_unix_nano <= fan_out.start_time_unix_nano
    assert enqueue.end_time_unix_nano <= server.end_time_unix_nano
    attempts = [s for s in spans if s.kind == Span.SPAN_KIND_CLIENT]
    for a in attempts:
        at = attrs(a)
        assert a.parent_span_id == enqueue.span_id
        assert a.name == "POST" and at["http.request.method"] == "POST"
        assert at["server.address"] == "127.0.0.1"
        assert at["server.port"] == hook.url.split(":")[2].split("/")[0]
        assert at["url.full"] == hook.url
        assert a.end_time_unix_nano >= a.start_time_unix_nano > 0
        if at["http.response.status_code"] == "500":
            assert a.status.code == Status.STATUS_CODE_ERROR and at["error.type"] == "500"
            assert "http.request.resend_count" not in at
        else:
            assert at["http.response.status_code"] == "200"
            assert a.status.code == Status.STATUS_CODE_UNSET
            assert at["http.request.resend_count"] == "1"
    assert sorted(attrs(a)["http.response.status_code"] for a in attempts) == \
        ["200", "200", "500", "500"]
    # The endpoint saw the publish's trace id, its parent being the attempt's own span.
    with hook.cond:
        seen = [TRACEPARENT.match(tp or "") for _, tp, _ in hook.attempts]
    assert all(seen), hook.attempts
    ours = [m for m in seen if m.group(1) == TRACE_ID]
    assert sorted(m.group(2) for m in ours) == sorted(a.span_id.hex() for a in attempts)
    # The first publish (no traceparent) is a trace of its own, with a root server span.
    others = {m.group(1) for m in seen} - {TRACE_ID}
    assert len(others) == 1
    other = others.pop()
    otlp.wait(lambda c: len(c.trace(other)) == 5, what="the tenant's own trace")
    roots = [s for _, s in otlp.trace(other) if s.kind == Span.SPAN_KIND_SERVER]
    assert len(roots) == 1 and roots[0].parent_span_id == b""
    resource = otlp.trace(TRACE_ID)[0][0]
    assert resource["service.name"] == "sealhook-e2e"
    assert resource["deployment.environment"] == "e2e"
    assert resource["team"] == "hooks,ops"
    assert resource["sealhook.role"] == "serve"
    assert not otlp.bad
    # Counted once the collector has answered (it may have the spans a moment before).
    wait_until(lambda: srv.metrics()["sealhook_trace_spans_exported_total"] >= 12, 30,
               "the exported spans counted")
    assert srv.metrics()['sealhook_trace_spans_dropped_total{reason="queue_full"}'] == 0


def test_an_invalid_traceparent_is_ignored_and_a_new_trace_begins(
        start_server, keygen, collector, hooks):
    otlp, hook = collector(), hooks()
    srv = start_server(*FAST_EXPORT, env=otel_env(otlp.base))
    t = srv.onboard("t", keygen("invalid"), hook.url)
    bad = "00-00000000000000000000000000000000-00f067aa0ba902b7-01"
    publish(srv, t["api_key"], traceparent=bad)
    hook.wait(lambda a: len(a) == 1)
    m = TRACEPARENT.match(hook.attempts[0][1] or "")
    assert m and m.group(1) != "0" * 32, hook.attempts
    otlp.wait(lambda c: len(c.trace(m.group(1))) == 4)
    server = [s for _, s in otlp.trace(m.group(1)) if s.kind == Span.SPAN_KIND_SERVER][0]
    assert server.parent_span_id == b""


def test_attempts_of_a_worker_on_the_redis_queue_join_the_publishs_trace(
        start_server, start_worker, keygen, collector, hooks, redis_url, tmp_path):
    otlp, hook = collector(), hooks()
    store = f"sqlite:{tmp_path}/shared.db"
    srv = start_server("--queue", "redis", "--redis", redis_url, "--max-attempts", "25",
                       *FAST_EXPORT, store=store, env=otel_env(otlp.base))
    t = srv.onboard("t", keygen("worker"), hook.url)
    # serve's own attempts fail until it has stopped: what is delivered, a worker delivered.
    hook.failing.set()
    publish(srv, t["api_key"], traceparent=CALLER)
    hook.wait(lambda a: len(a) >= 1, what="serve's first attempt")
    srv.proc.stop()  # SIGTERM: its attempts finish, the delivery stays in redis; spans flushed
    otlp.wait(lambda c: any(s.kind == Span.SPAN_KIND_CLIENT for _, s in c.trace(TRACE_ID)),
              what="serve's attempt span")
    hook.failing.clear()
    worker = start_worker(redis_url, store, *FAST_EXPORT, env=otel_env(otlp.base))
    hook.wait(lambda a: any(x[2] == 200 for x in a), what="the worker's delivery")
    otlp.wait(lambda c: any(r["sealhook.role"] == "worker" for r, _ in c.trace(TRACE_ID)),
              what="the worker's attempt span")
    trace = otlp.trace(TRACE_ID)
    enqueue = [s for _, s in trace if s.kind == Span.SPAN_KIND_PRODUCER]
    assert len(enqueue) == 1
    by_role = collections.defaultdict(list)
    for r, s in trace:
        by_role[r["sealhook.role"]].append(s)
    worker_attempts = [s for s in by_role["worker"] if s.kind == Span.SPAN_KIND_CLIENT]
    assert len(worker_attempts) == 1
    a = worker_attempts[0]
    assert a.parent_span_id == enqueue[0].span_id
    assert attrs(a)["http.response.status_code"] == "200"
    assert int(attrs(a)["http.request.resend_count"]) >= 1  # serve's attempts counted
    assert {Span.SpanKind.Name(s.kind) for s in by_role["serve"]} >= \
        {"SPAN_KIND_SERVER", "SPAN_KIND_PRODUCER", "SPAN_KIND_CLIENT"}
    # The endpoint's last traceparent: the publish's trace, the worker's attempt as parent.
    delivered = [tp for _, tp, st in hook.attempts if st == 200]
    assert delivered == [f"00-{TRACE_ID}-{a.span_id.hex()}-01"]
    wait_until(lambda: worker.metrics()["sealhook_trace_spans_exported_total"] >= 1, 30,
               "the worker's exported spans counted")


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize("collector_state", ["down", "slow"])
def test_a_collector_down_or_slow_changes_no_delivery(
        start_server, keygen, collector, hooks, collector_state):
    hook = hooks(fail_first=True)
    if collector_state == "down":
        endpoint = f"http://127.0.0.1:{closed_port()}"
    else:
        endpoint = collector(delay=3.0).base  # each export answered after 3 s
    srv = start_server(*FAST_EXPORT, "--trace-queue-size", "16", "--trace-batch-size", "8",
                       "--trace-export-timeout-ms", "1000", env=otel_env(endpoint))
    keys = keygen(collector_state)
    tenants = [srv.onboard(f"t{i}", keys, hook.url) for i in range(4)]
    events = 40
    started = time.monotonic()
    for i in range(events):
        publish(srv, tenants[i % 4]["api_key"], traceparent=CALLER if i % 2 else None)
    # Every delivery: its failed first attempt, then delivered (80 attempts).
    hook.wait(lambda a: len({x[0] for x in a if x[2] == 200}) == events, timeout=60,
              what="every delivery")
    took = time.monotonic() - started
    assert len(hook.attempts) == 2 * events
    for t in tenants:
        srv.wait_list(t["api_key"], "status=delivered", events // 4)
    # The exporter is failing (down) or timing out (slow) meanwhile: spans dropped, counted.
    wait_until(lambda: srv.metrics()["sealhook_trace_export_failures_total"] >= 1, 30,
               "a failed export")
    m = srv.metrics()
    dropped = m['sealhook_trace_spans_dropped_total{reason="queue_full"}'] + \
        m['sealhook_trace_spans_dropped_total{reason="export_failed"}']
    assert dropped > 0
    assert m['sealhook_deliveries_total{outcome="delivered"}'] == events
    assert m['sealhook_deliveries_total{outcome="dead"}'] == 0
    # An export that waited on the collector would take >= 1 s per batch of 8 spans.
    assert took < 30, took


def test_with_traces_off_a_callers_traceparent_is_passed_on_through_a_restart(
        start_server, keygen, hooks, tmp_path):
    hook = hooks()
    store = f"sqlite:{tmp_path}/restart"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    srv = start_server("--max-attempts", "25", store=store, env=env)
    t = srv.onboard("t", keygen("off"), hook.url)
    hook.failing.set()
    publish(srv, t["api_key"], traceparent=CALLER)
    hook.wait(lambda a: len(a) >= 1)
    assert "sealhook_trace_spans_exported_total" not in srv.metrics()
    srv.proc.stop()  # the delivery stays in the sqlite queue file, with its traceparent
    hook.failing.clear()
    start_server("--max-attempts", "25", store=store, env=env)
    hook.wait(lambda a: any(x[2] == 200 for x in a))
    assert {tp for _, tp, _ in hook.attempts} == {CALLER}


@pytest.mark.parametrize("queue", ["memory", "kafka"])
def test_each_queue_carries_the_trace_context_to_the_retry(
        start_server, keygen, collector, hooks, queue, request):
    """The memory and kafka queues (sqlite: the restart test; redis: the worker test) carry a
    delivery's trace context to its first attempt and to its retry (kafka: through its retries
    topic)."""
    otlp, hook = collector(), hooks(fail_first=True)
    args = ("--queue", "memory")
    if queue == "kafka":
        from test_kafka_queue import kafka_args
        brokers = request.getfixturevalue("kafka_brokers")
        args = kafka_args(brokers, "e2e-traces-" + os.urandom(6).hex(), partitions=1)
    srv = start_server(*args, *FAST_EXPORT, env=otel_env(otlp.base))
    t = srv.onboard("t", keygen(queue), hook.url)
    publish(srv, t["api_key"], traceparent=CALLER)
    hook.wait(lambda a: [x[2] for x in a] == [500, 200], what="a 500, then delivered")
    otlp.wait(lambda c: sum(s.kind == Span.SPAN_KIND_CLIENT for _, s in c.trace(TRACE_ID)) == 2
              and any(s.kind == Span.SPAN_KIND_PRODUCER for _, s in c.trace(TRACE_ID)),
              what="both attempts' spans")
    spans = [s for _, s in otlp.trace(TRACE_ID)]
    enqueue = [s for s in spans if s.kind == Span.SPAN_KIND_PRODUCER][0]
    attempts = [s for s in spans if s.kind == Span.SPAN_KIND_CLIENT]
    assert all(a.parent_span_id == enqueue.span_id for a in attempts)
    with hook.cond:
        sent = sorted(tp for _, tp, _ in hook.attempts)
    assert sent == sorted(f"00-{TRACE_ID}-{a.span_id.hex()}-01" for a in attempts)
