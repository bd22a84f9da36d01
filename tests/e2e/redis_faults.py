"""A redis-server the test can break: started by scripts/start-redis.sh, then SIGKILLed and
started again on its directory and port (its AOF, or nothing without one), SIGSTOPped and
SIGCONTed. Used by test_redis_faults.py and test_redis_shared.py."""
import os
import signal
import subprocess
import threading
import time

import pytest
import requests

from conftest import ROOT

SCRIPTS = os.path.join(ROOT, "scripts")
# The tests' redis-servers leave the AOF's fsync to the kernel. A SIGKILLed redis-server loses
# nothing either way: Redis writes the AOF (write(2)) before it sends the replies. With
# `everysec`, though, the builds that CI runs beside the tests keep the disk so busy that the
# background fsync takes seconds, and Redis's main thread then blocks in write(2) behind it (its
# log: "Asynchronous AOF fsync is taking too long"): clients saw timeouts past 2 s.
TEST_FSYNC = ("--appendfsync", "no")


class RedisServer:
    def __init__(self, tmp_path, aof=True):
        self.aof = aof
        self.env_file = str(tmp_path / "redis.env")
        self._start("--env-file", self.env_file)

    def _start(self, *args):
        out = subprocess.run([os.path.join(SCRIPTS, "start-redis.sh"), *args] +
                             (list(TEST_FSYNC) if self.aof else ["--no-aof"]),
                             check=True, capture_output=True, text=True).stdout
        env = dict(line.split("=", 1) for line in out.split())
        self.url, self.port = env["REDIS_URL"], int(env["REDIS_PORT"])
        self.pid, self.dir = int(env["REDIS_PID"]), env["REDIS_DIR"]

    def kill(self):
        """SIGKILL: no shutdown, no last write (what the AOF has is all there is)."""
        os.kill(self.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while os.path.exists(f"/proc/{self.pid}") and _state(self.pid) != "Z":
            assert time.monotonic() < deadline, "redis-server did not die"
            time.sleep(0.02)

    def start_again(self):
        """On the same directory and port: with AOF, what it had; without, nothing."""
        self._start("--dir", self.dir, "--port", str(self.port))

    def stop(self):
        subprocess.run([os.path.join(SCRIPTS, "stop-redis.sh"), "--keep", self.dir],
                       check=True, capture_output=True)

    def pause(self):
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.pid, signal.SIGCONT)

    def close(self):
        try:
            self.resume()
        except ProcessLookupError:
            pass
        subprocess.run([os.path.join(SCRIPTS, "stop-redis.sh"), "--env-file", self.env_file],
                       capture_output=True)


def _state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"


@pytest.fixture
def redis_server(tmp_path):
    servers = []

    def make(aof=True):
        r = RedisServer(tmp_path, aof)
        servers.append(r)
        return r

    yield make
    for r in servers:
        r.close()


def status(srv, path):
    try:
        return srv.call("GET", path, token=None).status_code
    except requests.RequestException:
        return None


def await_status(srv, path, code, timeout):
    deadline = time.monotonic() + timeout
    while status(srv, path) != code:
        assert time.monotonic() < deadline, f"{path} never answered {code}"
        time.sleep(0.05)


def publish(srv, tenant, n):
    """One event (payload n) to `tenant`: (HTTP status, seconds taken, event id or None)."""
    t0 = time.monotonic()
    r = srv.call("POST", "/v1/events", body={"type": "order.created", "payload": {"n": n},
                                             "tenant": tenant["tenant"]["id"]})
    took = time.monotonic() - t0
    return r.status_code, took, (r.json()["event_id"] if r.status_code == 202 else None), r


class Publisher:
    """A thread publishing to `tenants` in turn until stop(): `accepted` maps each event id
    answered 202 to its payload n, `codes` keeps every answer's status. `pause` s between
    publishes (0: as fast as answers come)."""

    def __init__(self, srv, tenants, pause=0.0):
        self.accepted, self.codes = {}, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(srv, tenants, pause))
        self._thread.start()

    def _run(self, srv, tenants, pause):
        i = 0
        while not self._stop.is_set():
            code, _, eid, _ = publish(srv, tenants[i % len(tenants)], i)
            self.codes.append(code)
            if eid:
                self.accepted[eid] = i
            i += 1
            if pause:
                time.sleep(pause)  # the load's pace, not a synchronisation

    def stop(self):
        self._stop.set()
        self._thread.join()


def redis_serve_args(url, *extra):
    return ("--queue", "redis", "--redis", url, *extra)
