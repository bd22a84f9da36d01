"""The PostgreSQL store through PostgreSQL's faults, against the real binary, a real PostgreSQL
server of the test's own (scripts/start-postgres.sh) and a real redis-server: the server crashes
(SIGQUIT: PostgreSQL's immediate shutdown, no checkpoint, crash recovery at the restart) mid-run
and comes back on its directory and port. No intervention: serve and the worker reconnect,
/readyz tells the outage, catalog writes answer 503 within a second, delivery goes on from the
queue, and every delivery record waits and is written once the store is back."""
import os
import signal
import subprocess
import time

import pytest

from conftest import ROOT
from redis_faults import Publisher, await_status, redis_serve_args, redis_server  # noqa: F401
from test_durability import delivered_events, pending_all, wait_until
from test_redis_queue import onboard
from test_worker import start_worker  # noqa: F401 (a fixture)

SCRIPTS = os.path.join(ROOT, "scripts")


class PostgresServer:
    def __init__(self, tmp_path):
        self.env_file = str(tmp_path / "postgres.env")
        self._start("--fsync", "off", "--env-file", self.env_file)

    def _start(self, *args):
        out = subprocess.run([os.path.join(SCRIPTS, "start-postgres.sh"), *args],
                             check=True, capture_output=True, text=True).stdout
        env = dict(line.split("=", 1) for line in out.split())
        self.url, self.port = env["POSTGRES_URL"], int(env["POSTGRES_PORT"])
        self.pid, self.dir = int(env["POSTGRES_PID"]), env["POSTGRES_DIR"]

    def crash(self):
        """Immediate shutdown: every backend quits at once, nothing is checkpointed."""
        os.kill(self.pid, signal.SIGQUIT)
        deadline = time.monotonic() + 20
        while os.path.exists(f"/proc/{self.pid}"):
            assert time.monotonic() < deadline, "postgres did not stop"
            time.sleep(0.02)

    def start_again(self):
        self._start("--fsync", "off", "--dir", self.dir, "--port", str(self.port))

    def psql(self, sql):
        return subprocess.run(["psql", "-X", "-tA", "-v", "ON_ERROR_STOP=1", "-d", self.url,
                               "-c", sql], check=True, capture_output=True, text=True).stdout

    def close(self):
        subprocess.run([os.path.join(SCRIPTS, "stop-postgres.sh"), "--env-file", self.env_file],
                       capture_output=True)


@pytest.fixture
def postgres_own(tmp_path):
    servers = []

    def make():
        s = PostgresServer(tmp_path)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.close()


def test_postgres_crash_and_restart_mid_run_loses_no_delivery_record(
        start_server, start_worker, start_receiver, keygen, redis_server,  # noqa: F811
        postgres_own, tmp_path):
    pg = postgres_own()
    redis = redis_server(aof=True)
    # A settle whose answer is lost (a redis call timing out on a loaded machine) leaves its
    # record pending while redis no longer holds the delivery: reconcile settles it once it is
    # unchanged for --reconcile-after-ms (60 s by default, longer than this test waits).
    fast = ("--retry-base-ms", "50", "--retry-max-delay-ms", "200", "--reconcile-after-ms", "2000")
    queue = redis_serve_args(redis.url, *fast)
    srv = start_server(*queue, "--redis-owner", "serve", store=pg.url)
    worker = start_worker(redis.url, pg.url, "--redis-owner", "worker", *fast)
    keys = keygen("pgcrash")
    receivers, tenants = onboard(srv, keys, start_receiver, 3, "--delay-ms", "5",
                                 "--fail-rate", "0.1")
    pub = Publisher(srv, tenants, pause=0.002)  # a steady publisher, not a flood
    accepted, codes = pub.accepted, pub.codes
    try:
        wait_until(lambda: len(accepted) >= 200, 30, "200 accepted before the crash")
        pg.crash()
        # The outage is seen: /readyz of serve and of the worker, and a catalog write answers
        # 503 within a second (the store's connect and pool bounds), changing nothing.
        await_status(srv, "/readyz", 503, 10)
        wait_until(lambda: worker.get("/readyz").status_code == 503, 10, "worker /readyz 503")
        t0 = time.monotonic()
        r = srv.call("POST", "/v1/endpoints", token=tenants[0]["api_key"],
                     body={"url": receivers[0].url})
        took = time.monotonic() - t0
        assert r.status_code == 503, (r.status_code, r.text)
        assert r.json()["error"]["code"] == "store_unavailable"
        assert took < 1.5, f"a catalog write took {took:.2f} s to fail"
        # Delivery goes on from the queue meanwhile: events accepted during the outage arrive.
        during = len(delivered_events(receivers))
        wait_until(lambda: len(delivered_events(receivers)) >= during + 50, 30,
                   "deliveries while PostgreSQL is down")
        pg.start_again()
        await_status(srv, "/readyz", 200, 30)
        wait_until(lambda: worker.get("/readyz").status_code == 200, 30, "worker /readyz 200")
        n_at_restart = len(accepted)
        wait_until(lambda: len(accepted) >= n_at_restart + 200, 30, "publishing went on")
    finally:
        pub.stop()
    assert set(codes) <= {202, 503}, set(codes)
    wait_until(lambda: set(accepted) <= set(delivered_events(receivers)), 90,
               "every accepted event delivered")
    wait_until(lambda: pending_all(srv, tenants) == [], 60, "no record left pending")
    # Every delivery made has its record: the store's count of delivered records equals the
    # distinct events the receivers got (one endpoint per tenant, so one delivery per event).
    got = delivered_events(receivers)
    # The delivered records are the worker's and serve's journals', written behind the
    # deliveries: waited for, then counted exactly.
    delivered_records = (lambda: int(pg.psql(
        "SELECT count(*) FROM deliveries WHERE status = 'delivered'")))
    wait_until(lambda: delivered_records() >= len(got), 60, "every delivery recorded")
    records = delivered_records()
    assert records == len(got), f"{records} delivered records for {len(got)} delivered events"
    # A publish answered 503 once its push timed out may still have landed (the publisher
    # retries it as a new event): delivered and recorded, never more than were refused.
    assert len(accepted) <= records <= len(accepted) + codes.count(503), (
        records, len(accepted), codes.count(503))
    print(f"\npostgres crash: {len(accepted)} accepted ({codes.count(503)} answered 503), "
          f"{records} records, all delivered ({records - len(accepted)} of pushes answered 503)")
