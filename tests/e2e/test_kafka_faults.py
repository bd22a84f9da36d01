"""The kafka queue when its broker goes away: a broker of the test's own (scripts/start-kafka.sh)
stopped mid-run and started again on its data. While it is away, publish answers 503 at once
and `/readyz` says so; once it is back, serve resumes by itself and every event accepted before,
during and after is delivered."""
import os
import subprocess
import time

import pytest

from conftest import ROOT
from test_durability import delivered_events, pending_all, publish_all, wait_until
from test_kafka_queue import kafka_args
from test_redis_queue import onboard


class KafkaBroker:
    def __init__(self, tmp_path):
        self.env_file = str(tmp_path / "kafka.env")
        self.env = self._start("--env-file", self.env_file)
        self.brokers = self.env["KAFKA_BROKERS"]

    @staticmethod
    def _start(*args):
        out = subprocess.run([os.path.join(ROOT, "scripts", "start-kafka.sh"), *args],
                             check=True, capture_output=True, text=True).stdout
        return dict(line.split("=", 1) for line in out.split() if "=" in line)

    def stop(self):
        """A clean stop that keeps the data."""
        subprocess.run([os.path.join(ROOT, "scripts", "stop-kafka.sh"), "--keep",
                        self.env["KAFKA_DIR"]], check=True, capture_output=True)

    def restart(self):
        self._start("--dir", self.env["KAFKA_DIR"], "--port", self.env["KAFKA_PORT"],
                    "--controller-port", self.env["KAFKA_CONTROLLER_PORT"])

    def remove(self):
        subprocess.run([os.path.join(ROOT, "scripts", "stop-kafka.sh"), self.env["KAFKA_DIR"]],
                       check=True, capture_output=True)


@pytest.fixture
def broker(tmp_path):
    b = KafkaBroker(tmp_path)
    yield b
    b.remove()


def publish_one(srv, tenant, n):
    return srv.call("POST", "/v1/events", body={"type": "order.created", "payload": {"n": n},
                                                "tenant": tenant["tenant"]["id"]})


def test_broker_restart_mid_run_loses_nothing_and_publish_never_hangs(
        start_server, start_receiver, keygen, broker, tmp_path):
    timeout_ms = 2000
    srv = start_server(*kafka_args(broker.brokers, "restart"), "--kafka-timeout-ms",
                       str(timeout_ms), store=f"sqlite:{tmp_path}/restart")
    keys = keygen("kafka-restart")
    # Receivers of 20 ms: a backlog is queued when the broker goes.
    receivers, tenants = onboard(srv, keys, start_receiver, 4, "--delay-ms", "20",
                                 "--threads", "2", "--fail-rate", "0.1")
    accepted = publish_all(srv, tenants, 400, 0)
    assert len(accepted) == 400
    broker.stop()

    # Away: the answer is a 503, and it comes within the push bound, never later.
    slowest = 0.0
    for i in range(5):
        started = time.monotonic()
        r = publish_one(srv, tenants[0], 10_000 + i)
        slowest = max(slowest, time.monotonic() - started)
        if r.status_code == 202:  # taken by the client's buffer before the outage was known
            accepted[r.json()["event_id"]] = 10_000 + i
        else:
            assert r.status_code == 503, r.text
    assert slowest < timeout_ms / 1000 + 1, slowest
    wait_until(lambda: publish_one(srv, tenants[0], 20_000).status_code == 503, 30,
               "publish refused while the broker is away")
    wait_until(lambda: srv.call("GET", "/readyz", token=None).status_code == 503, 30,
               "/readyz reports the outage")

    broker.restart()
    wait_until(lambda: srv.call("GET", "/readyz", token=None).status_code == 200, 60,
               "/readyz ready again")
    wait_until(lambda: publish_one(srv, tenants[0], 30_000).status_code == 202, 30,
               "publish accepted again")
    after = publish_all(srv, tenants, 800, 400)
    # Answered, all of them: a 503 is a refusal said (the publisher retries), never a loss.
    assert len(after) >= 390, len(after)
    accepted.update(after)
    wait_until(lambda: set(accepted) <= set(delivered_events(receivers)), 180,
               "every accepted event delivered after the restart")
    got = delivered_events(receivers)
    assert all(got[e] == n for e, n in accepted.items())
    wait_until(lambda: int(srv.metrics()["sealhook_queue_depth"]) == 0, 60, "queue empty")
    wait_until(lambda: pending_all(srv, tenants) == [], 30, "no record left pending")
    print(f"\nkafka restart: {len(accepted)} accepted, slowest publish while away "
          f"{slowest * 1000:.0f} ms")
