"""`sealhook worker` against a real redis-server and one store shared with `serve`:
workers deliver what serve accepts, answer only their ops routes, refuse queues they cannot
share, lose nothing when SIGKILLed mid-run together with serve (on a SQLite file and on
PostgreSQL), and finish what they have in flight on SIGTERM."""
import signal
import subprocess
import time

import pytest
import requests

from conftest import Proc
from test_durability import (delivered_events, list_all, pending_all, publish_all,
                             stop_and_count_duplicates, wait_until)
from test_redis_queue import onboard, redis_url  # noqa: F401 (the fixture)

# serve's start_server adds the same retry and timeout flags.
COMMON = ("--retry-base-ms", "50", "--retry-max-delay-ms", "400", "--attempt-timeout-ms", "5000",
          "--allow-private-networks", "--max-attempts", "25")


class Worker:
    def __init__(self, proc, port):
        self.proc, self.port = proc, port
        self.base = f"http://127.0.0.1:{port}"

    def get(self, path, method="GET"):
        return requests.request(method, self.base + path, timeout=10)

    def metrics(self):
        out = {}
        for line in self.get("/metrics").text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out

    def delivered(self):
        return int(self.metrics()['sealhook_deliveries_total{outcome="delivered"}'])


@pytest.fixture
def start_worker(binary):
    procs = []

    def start(url, store, *extra, queue=None, cwd=None, env=None):
        """A worker on the redis queue at `url`, or on the queue `queue` (its flags) says."""
        args = [binary, "worker", *(queue or ("--redis", url)), "--store", store,
                "--metrics-listen", "127.0.0.1:0", *COMMON, *extra]
        proc = Proc(args, cwd=cwd, env=env)
        procs.append(proc)
        m = proc.wait_line(r"/healthz /readyz /metrics on http://127\.0\.0\.1:(\d+)")
        return Worker(proc, int(m.group(1)))

    yield start
    for p in procs:
        p.stop()


def test_worker_delivers_beside_serve_and_serves_only_its_ops_routes(
        start_server, start_worker, start_receiver, keygen, redis_url, tmp_path):
    store = f"sqlite:{tmp_path}/shared.db"
    srv = start_server("--queue", "redis", "--redis", redis_url, store=store)
    keys = keygen("worker")
    receivers, tenants = onboard(srv, keys, start_receiver, 3, "--delay-ms", "5",
                                 "--threads", "4")
    # Started after the onboarding: catalog changes reaching a running worker is another step.
    worker = start_worker(redis_url, store)
    assert worker.get("/healthz").json() == {"status": "ok"}
    assert worker.get("/readyz").json() == {"status": "ready"}
    assert "sealhook_attempts_inflight" in worker.metrics()
    for path in ("/v1/tenants", "/v1/events", "/openapi.json", "/publish", "/"):
        r = worker.get(path)
        assert r.status_code == 404, (path, r.status_code)
        assert r.json()["error"]["code"] == "not_found"
    assert worker.get("/metrics", "POST").status_code == 405

    accepted = publish_all(srv, tenants, 600, 0)
    assert len(accepted) == 600
    wait_until(lambda: set(accepted) <= set(delivered_events(receivers)), 60,
               "every accepted event delivered")
    got = delivered_events(receivers)
    assert all(got[e] == n for e, n in accepted.items())
    by_worker = worker.delivered()
    by_serve = int(srv.metrics()['sealhook_deliveries_total{outcome="delivered"}'])
    assert by_worker > 0, "the worker delivered nothing"
    assert by_worker + by_serve >= len(accepted)
    # The worker's records are in the store serve reads: none is left pending.
    wait_until(lambda: pending_all(srv, tenants) == [], 30, "no pending record")
    print(f"\nworker {by_worker}, serve {by_serve} of {len(accepted)} deliveries")
    # A worker has no API, so it never makes or prints an admin token.
    assert not any("admin token" in line for line in worker.proc.out_lines)


@pytest.mark.parametrize("args,message", [
    (("--queue", "memory"), "--queue memory"),
    (("--queue", "sqlite"), "--queue sqlite"),
    (("--queue", "kafka"), "--kafka-brokers"),
    (("--redis", "redis://127.0.0.1:1/0", "--store", "sqlite::memory:"), "sqlite::memory:"),
])
def test_worker_refuses_what_it_cannot_share(binary, tmp_path, args, message):
    r = subprocess.run([binary, "worker", "--store", f"sqlite:{tmp_path}/s.db", *args],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert message in r.stderr, r.stderr


def test_crash_of_a_worker_and_serve_mid_run_loses_no_accepted_event(
        start_server, start_worker, start_receiver, keygen, redis_url, shared_store):
    started = time.monotonic()
    store = shared_store  # a SQLite file, and PostgreSQL
    # Owners named, so that each restarted process takes its last run's leases back at once.
    # Two attempts at once per endpoint, all processes together, and two receiver threads that
    # take 100 ms each: 10 x 20 deliveries/s, slower than publishing, so a backlog is queued and
    # leased when the kills land, and no attempt waits at a receiver long enough to time out
    # (a timed-out attempt that still arrives would be a duplicate the crash did not cause).
    per_endpoint = ("--max-inflight-per-endpoint", "2")
    # A short --reconcile-after-ms: a delivery acknowledged in Redis whose record a kill kept
    # from the store is recorded once reconcile sees the queue no longer holds it.
    per_endpoint = (*per_endpoint, "--reconcile-after-ms", "2000")
    serve = ("--queue", "redis", "--redis", redis_url, "--redis-owner", "e2e-serve",
             "--max-attempts", "25", *per_endpoint)
    srv = start_server(*serve, store=store)
    keys = keygen("crash")
    receivers, tenants = onboard(srv, keys, start_receiver, 10, "--delay-ms", "100",
                                 "--threads", "2")
    workers = [start_worker(redis_url, store, "--redis-owner", f"e2e-worker{i}", *per_endpoint)
               for i in range(2)]

    # SIGKILL serve once 800 publishes were accepted (publishes in flight then fail), and then
    # a worker while it has attempts in flight.
    accepted = publish_all(srv, tenants, 2000, 0, kill_after=800)
    srv.proc.p.wait()
    held = {}

    def worker_busy():
        m = workers[0].metrics()
        held.update(inflight=int(m["sealhook_attempts_inflight"]),
                    depth=int(m['sealhook_queue_depth{queue="redis"}']))
        return held["inflight"] > 0
    wait_until(worker_busy, 10, "worker 0 has attempts in flight")
    workers[0].proc.p.send_signal(signal.SIGKILL)
    workers[0].proc.p.wait()
    at_kill = len(delivered_events(receivers))
    assert 800 <= len(accepted) < 2000, len(accepted)
    assert held["depth"] >= held["inflight"] > 0, held  # its leases were in the queue
    srv = start_server(*serve, store=store)
    workers[0] = start_worker(redis_url, store, "--redis-owner", "e2e-worker0", *per_endpoint)
    accepted.update(publish_all(srv, tenants, 2000, max(accepted.values()) + 1))
    assert len(accepted) >= 1950, len(accepted)  # a few were in flight at the kill

    wait_until(lambda: set(accepted) <= set(delivered_events(receivers)), 60,
               "every accepted event delivered after the restarts")
    got = delivered_events(receivers)
    assert all(got[e] == n for e, n in accepted.items())
    wait_until(lambda: int(srv.metrics()['sealhook_queue_depth{queue="redis"}']) == 0, 30, "queue empty")
    wait_until(lambda: pending_all(srv, tenants) == [], 30, "no pending record")
    lost = [d for t in tenants for d in list_all(srv, t["api_key"], "status=lost")]
    assert lost == [], "a delivery acknowledged before a kill was recorded as lost"
    per_worker = [w.delivered() for w in workers]
    dups = stop_and_count_duplicates(receivers)
    took = time.monotonic() - started
    print(f"\nworker crash: {len(accepted)} accepted, {at_kill} delivered before the kill "
          f"(worker 0 had {held['inflight']} in flight, {held['depth']} queued), "
          f"{len(got)} delivered, {dups} duplicates, after the restart workers delivered "
          f"{per_worker}, {took:.1f} s")
    assert took < 60, took


def test_sigterm_finishes_the_attempts_in_flight_and_exits_0(
        start_server, start_worker, start_receiver, keygen, redis_url, tmp_path):
    store = f"sqlite:{tmp_path}/term.db"
    srv = start_server("--queue", "redis", "--redis", redis_url, store=store)
    keys = keygen("term")
    receivers, tenants = onboard(srv, keys, start_receiver, 3, "--delay-ms", "1500",
                                 "--threads", "16")
    worker = start_worker(redis_url, store, "--drain-timeout-ms", "10000")
    accepted = publish_all(srv, tenants, 60, 0)
    assert len(accepted) == 60
    inflight = {}

    def worker_busy():
        inflight["n"] = int(worker.metrics()["sealhook_attempts_inflight"])
        return inflight["n"] > 0
    wait_until(worker_busy, 30, "the worker has attempts in flight")
    sent = time.monotonic()
    worker.proc.p.send_signal(signal.SIGTERM)
    assert worker.proc.p.wait(15) == 0
    took = time.monotonic() - sent
    worker.proc.wait_line(r"stopped: every attempt in flight finished")
    m = worker.proc.wait_line(r"stopped \(delivered (\d+), dead 0\)")
    # What it had in flight was sent, answered (each takes 1.5 s) and settled before the exit.
    assert int(m.group(1)) >= inflight["n"], (m.group(1), inflight["n"])
    assert took < 10, took
    wait_until(lambda: set(accepted) <= set(delivered_events(receivers)), 60,
               "every accepted event delivered")
    # Settled, not abandoned: nothing the worker had was handed out again after its lease.
    assert stop_and_count_duplicates(receivers) == 0


def test_worker_reads_a_toml_config_like_serve(binary, start_server, redis_url, tmp_path):
    store = f"sqlite:{tmp_path}/toml.db"
    start_server("--queue", "redis", "--redis", redis_url, store=store)
    good = tmp_path / "worker.toml"
    good.write_text(f'redis = "{redis_url}"\nstore = "{store}"\nmetrics_listen = "127.0.0.1:0"\n'
                    'reconcile-after-ms = 5000\nredis-owner = "toml-worker"\n')
    proc = Proc([binary, "worker", "--config", str(good)])
    try:
        m = proc.wait_line(r"as (\S+); /healthz /readyz /metrics on http://127\.0\.0\.1:(\d+)")
        assert m.group(1) == "toml-worker"
        assert Worker(proc, int(m.group(2))).get("/readyz").status_code == 200
    finally:
        assert proc.stop() == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(f'redis = "{redis_url}"\nlisten = "127.0.0.1:0"\n')
    r = subprocess.run([binary, "worker", "--config", str(bad)], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2, r.stderr
    assert "unknown option 'listen'" in r.stderr, r.stderr
