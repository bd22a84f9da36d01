"""--log-format json: one JSON object a line, a line per attempt and per state change of a
delivery (retry scheduled, delivered, dead-lettered) with its event, delivery, endpoint and
tenant ids and the publish's trace id; never the payload, an API key, the admin token or an
endpoint's secret; the asynchronous log dropped nothing at this rate."""
import collections
import json
import os

from conftest import ADMIN
from test_durability import wait_until
from test_traces import CALLER, TRACE_ID, hooks  # noqa: F401 (the fixture)

MARK = "payload-marker-7f3a9c"


def log_lines(proc):
    with proc.lock:
        return [json.loads(line) for line in proc.out_lines if line.startswith('{"time"')]


def test_json_lines_per_attempt_and_state_change_without_payloads_or_secrets(
        start_server, keygen, hooks):
    flaky, dead = hooks(fail_first=True), hooks()
    dead.failing.set()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    srv = start_server("--log-format", "json", env=env)
    keys = keygen("logs")
    a = srv.onboard("a", keys, flaky.url)
    b = srv.onboard("b", keys, dead.url, max_attempts=2)
    r = srv.call("POST", "/v1/events", body={"type": "order.created", "payload": {"m": MARK}},
                 headers={"traceparent": CALLER})
    assert r.status_code == 202 and r.json()["deliveries"] == 2, r.text
    event_id = r.json()["event_id"]

    def by_msg():
        return collections.Counter(line["msg"] for line in log_lines(srv.proc))
    wait_until(lambda: by_msg()["delivered"] == 1 and by_msg()["dead_lettered"] == 1, 30,
               "the delivered and the dead-lettered lines")
    lines = log_lines(srv.proc)
    for line in lines:
        assert line["time"].endswith("Z") and line["level"] in ("info", "warning", "error")
    counts = by_msg()
    assert counts["attempt"] == 4 and counts["retry_scheduled"] == 2, counts
    endpoints = {a["endpoint"]["id"]: a, b["endpoint"]["id"]: b}
    ours = [x for x in lines if "delivery_id" in x]
    assert {x["msg"] for x in ours} == {"attempt", "retry_scheduled", "delivered",
                                        "dead_lettered"}
    for x in ours:
        assert x["event_id"] == event_id and x["trace_id"] == TRACE_ID
        assert x["delivery_id"].startswith("msg_") and x["endpoint_id"] in endpoints
        assert x["tenant_id"] == endpoints[x["endpoint_id"]]["tenant"]["id"]
    attempts = sorted((x["endpoint_id"] == b["endpoint"]["id"], x["attempt"], x["status"],
                       x["outcome"]) for x in ours if x["msg"] == "attempt")
    assert attempts == [(False, 1, 500, "retry"), (False, 2, 200, "delivered"),
                        (True, 1, 500, "retry"), (True, 2, 500, "dead")]
    assert all(x["error"] == "http 500" for x in ours if x["msg"] == "attempt" and
               x["status"] == 500)
    gone = [x for x in ours if x["msg"] == "dead_lettered"][0]
    assert gone["level"] == "warning" and gone["endpoint_id"] == b["endpoint"]["id"]
    delivered = [x for x in ours if x["msg"] == "delivered"][0]
    assert delivered["endpoint_id"] == a["endpoint"]["id"] and delivered["attempt"] == 2
    # Nothing secret in anything the process wrote.
    with srv.proc.lock:
        everything = "\n".join(srv.proc.out_lines + srv.proc.err_lines)
    for secret in (MARK, ADMIN, a["api_key"], b["api_key"], a["endpoint"]["secret"],
                   b["endpoint"]["secret"], "whsec_"):
        assert secret not in everything, secret
    assert srv.metrics()["sealhook_log_lines_dropped_total"] == 0


def test_warn_level_leaves_out_the_per_attempt_lines(start_server, keygen, hooks):
    hook = hooks()
    srv = start_server("--log-format", "json", "--log-level", "warn")
    t = srv.onboard("t", keygen("warn"), hook.url)
    r = srv.call("POST", "/v1/events", t["api_key"], body={"type": "x", "payload": 1})
    assert r.status_code == 202
    srv.wait_list(t["api_key"], "status=delivered", 1)
    assert not [x for x in log_lines(srv.proc) if x["msg"] in ("attempt", "delivered")]
