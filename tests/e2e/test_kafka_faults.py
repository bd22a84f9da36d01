"""The kafka queue when its broker goes away: a broker of the test's own (scripts/start-kafka.sh)
stopped cleanly, or SIGKILLed, mid-run (deliveries in flight, a backlog queued, publishes under
way) and started again on its data. While it is away, publish answers 503 within the push bound
and `/readyz` says so; once it is back, serve resumes by itself and every event accepted before,
during and after is delivered, none pending, none lost."""
import datetime
import os
import re
import signal
import subprocess
import threading
import time

import pytest

from conftest import ROOT
from test_durability import (delivered_events, list_all, pending_all, publish_all,
                             stop_and_count_duplicates, wait_until)
from test_kafka_queue import kafka_args
from test_redis_queue import onboard


def gone(pid):
    """Whether process `pid` has exited (a zombie not yet reaped counts: it holds no port,
    no file and no lock)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


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

    def kill(self):
        """SIGKILLs the broker's JVM (no clean shutdown: its logs are recovered on the next
        start) and returns once it is gone; the data stays."""
        with open(os.path.join(self.env["KAFKA_DIR"], "kafka.pid")) as f:
            pid = int(f.read())
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: gone(pid), 10, f"the SIGKILLed broker (pid {pid}) gone")

    def restart(self):
        self._start("--dir", self.env["KAFKA_DIR"], "--port", self.env["KAFKA_PORT"],
                    "--controller-port", self.env["KAFKA_CONTROLLER_PORT"])

    def recovered(self, prefix):
        """Whether the broker's log says it recovered a partition of `prefix`'s deliveries
        topic on a start (what it does after an unclean shutdown, not after a clean one)."""
        with open(os.path.join(self.env["KAFKA_DIR"], "kafka.log")) as f:
            return re.search(rf"partition={re.escape(prefix)}\.deliveries-\d+.*"
                             "Recovering unflushed segment", f.read()) is not None

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


class Publisher:
    """Publishes one event after another, round-robin over tenants, payload numbers from
    `first`, until stopped: each answer as (started, seconds, status), the 202s as
    {event_id: n}. After a refusal it backs off 50 ms. A publish that raises (no answer within
    the client's 30 s) ends it, kept in `error`."""

    def __init__(self, srv, tenants, first):
        self.answers, self.accepted, self.error = [], {}, None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(srv, tenants, first))
        self._thread.start()

    def _run(self, srv, tenants, n):
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                r = publish_one(srv, tenants[n % len(tenants)], n)
                self.answers.append((started, time.monotonic() - started, r.status_code))
                if r.status_code == 202:
                    self.accepted[r.json()["event_id"]] = n
                else:  # a refusal: a publisher backs off a little before its next try
                    self._stop.wait(0.05)
                n += 1
        except Exception as e:  # noqa: BLE001 (the test asserts there was none)
            self.error = e

    def answered_since(self, t, status):
        return any(s >= t and code == status for s, _, code in self.answers)

    def stop(self):
        self._stop.set()
        self._thread.join()


def said_between(srv, since, until):
    """serve's log lines stamped between two times (time.time()), a repeated line once."""
    out = []
    for line in srv.proc.out_lines + srv.proc.err_lines:
        try:
            stamp = datetime.datetime.strptime(line[1:24], "%Y-%m-%d %H:%M:%S.%f").timestamp()
        except ValueError:
            continue
        if since <= stamp <= until and (not out or out[-1][26:] != line[26:]):
            out.append(line)
    return "\n".join(out)


def readyz(srv):
    """/readyz's status; a serve that died meanwhile fails the test with its last words."""
    code = srv.proc.p.poll()
    assert code is None, f"serve exited {code}:\n" + "\n".join(
        (srv.proc.out_lines + srv.proc.err_lines)[-40:])
    return srv.call("GET", "/readyz", token=None).status_code


def broker_away_mid_run(start_server, start_receiver, keygen, broker, tmp_path, name, go_away,
                        back_within):
    """A run through an outage, `go_away()` the broker's end (a clean stop, a SIGKILL): it lands
    on deliveries in flight, a backlog behind them and publishes under way; the broker is then
    started again on its data and must serve again within `back_within` seconds. Checks every
    claim of the module and returns the run's figures."""
    timeout_ms = 2000
    srv = start_server(*kafka_args(broker.brokers, name), "--kafka-timeout-ms", str(timeout_ms),
                       store=f"sqlite:{tmp_path}/{name}")
    keys = keygen(f"kafka-{name}")
    # Receivers of 100 ms (4 x 2 threads: 80/s at most, far slower than publishing): a backlog
    # is queued when the broker goes.
    receivers, tenants = onboard(srv, keys, start_receiver, 4, "--delay-ms", "100",
                                 "--threads", "2", "--fail-rate", "0.1")
    before = publish_all(srv, tenants, 400, 0)
    assert len(before) == 400
    publisher = Publisher(srv, tenants, 10_000)
    try:
        wait_until(lambda: int(srv.metrics()["sealhook_attempts_inflight"]) > 0, 30,
                   "deliveries in flight")
        at_outage = len(delivered_events(receivers))
        backlog = len(before) + len(publisher.accepted) - at_outage
        went, went_wall = time.monotonic(), time.time()
        go_away()
        # Away: a refusal, said at once or within the push bound (checked below), and /readyz.
        wait_until(lambda: publisher.answered_since(went, 503), 30,
                   "publish refused while the broker is away")
        wait_until(lambda: readyz(srv) == 503, 30,
                   "/readyz reports the outage")
        back = time.monotonic()
        broker.restart()
        wait_until(lambda: readyz(srv) == 200,
                   back_within, "/readyz ready again")
        restarted = time.monotonic() - back
        ready = time.monotonic()
        wait_until(lambda: publisher.answered_since(ready, 202), 30, "publish accepted again")
    finally:
        publisher.stop()
    assert publisher.error is None, f"a publish got no answer: {publisher.error!r}"
    # Every publish answered, each a 202 or a 503 (a refusal said: the publisher retries, never
    # a loss), and within the push bound while the broker was away or coming back.
    assert {code for _, _, code in publisher.answers} <= {202, 503}
    away = [(s, took, code) for s, took, code in publisher.answers
            if s + took >= went and s < ready]
    slowest = max(took for _, took, _ in away)
    bound = timeout_ms / 1000 + 1
    assert slowest < bound, (
        f"publishes over {bound} s: " + "; ".join(
            f"{took:.2f} s for a {code} started at {s - went:+.2f} s" for s, took, code in away
            if took >= bound) + f" (the outage at 0, the restart begun at {back - went:.2f} s, "
        f"ready at {ready - went:.2f} s); serve said meanwhile:\n" +
        said_between(srv, went_wall - 1, went_wall + slowest + 1))
    assert backlog >= 50, f"a backlog of {backlog} at the outage only"

    after = publish_all(srv, tenants, 800, 400)
    # Answered, all of them: a 503 is a refusal said (the publisher retries), never a loss.
    assert len(after) >= 390, len(after)
    accepted = {**before, **publisher.accepted, **after}
    wait_until(lambda: set(accepted) <= set(delivered_events(receivers)), 180,
               "every accepted event delivered after the restart")
    got = delivered_events(receivers)
    assert all(got[e] == n for e, n in accepted.items())
    wait_until(lambda: int(srv.metrics()['sealhook_queue_depth{queue="kafka"}']) == 0, 60, "queue empty")
    wait_until(lambda: pending_all(srv, tenants) == [], 30, "no record left pending")
    lost = [d for t in tenants for d in list_all(srv, t["api_key"], "status=lost")]
    assert lost == [], lost[:5]
    return {"accepted": len(accepted), "during": len(publisher.accepted),
            "refused": sum(code == 503 for _, _, code in away), "backlog": backlog,
            "delivered": len(got), "duplicates": stop_and_count_duplicates(receivers),
            "slowest_ms": slowest * 1000, "restart_s": restarted}


def print_figures(what, f):
    print(f"\nkafka {what}: {f['accepted']} accepted ({f['during']} while publishing through "
          f"the outage), {f['backlog']} not yet delivered at the outage, {f['delivered']} "
          f"delivered, "
          f"{f['duplicates']} duplicates, {f['refused']} answered 503 while away, slowest "
          f"publish while away {f['slowest_ms']:.0f} ms, ready {f['restart_s']:.1f} s after the "
          f"restart began")


def test_broker_restart_mid_run_loses_nothing_and_publish_never_hangs(
        start_server, start_receiver, keygen, broker, tmp_path):
    figures = broker_away_mid_run(start_server, start_receiver, keygen, broker, tmp_path,
                                  "restart", broker.stop, 60)
    assert not broker.recovered("restart")  # stopped cleanly: nothing to recover
    print_figures("restart", figures)


def test_broker_sigkilled_mid_run_loses_nothing_and_publish_never_hangs(
        start_server, start_receiver, keygen, broker, tmp_path):
    # After a SIGKILL the broker recovers its logs (an unclean shutdown) before it serves.
    figures = broker_away_mid_run(start_server, start_receiver, keygen, broker, tmp_path,
                                  "sigkill", broker.kill, 90)
    assert broker.recovered("sigkill"), "the broker recovered no log after the SIGKILL"
    print_figures("sigkill", figures)
