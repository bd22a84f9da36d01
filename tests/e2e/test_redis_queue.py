"""`serve --queue redis` against a real redis-server (scripts/start-redis.sh: loopback, a free
port, a temporary directory, AOF on): events published through serve reach a real receiver,
and a SIGKILLed serve restarted on the same Redis delivers what was queued."""
import os
import signal
import subprocess

import pytest

from conftest import ROOT
from redis_faults import TEST_FSYNC
from test_durability import (delivered_events, list_all, pending_all, publish_all,
                             stop_and_count_duplicates, wait_until)


@pytest.fixture
def redis_url(tmp_path):
    env_file = str(tmp_path / "redis.env")
    out = subprocess.run([os.path.join(ROOT, "scripts", "start-redis.sh"), "--env-file", env_file,
                          *TEST_FSYNC], check=True, capture_output=True, text=True).stdout
    url = dict(line.split("=", 1) for line in out.split())["REDIS_URL"]
    yield url
    subprocess.run([os.path.join(ROOT, "scripts", "stop-redis.sh"), "--env-file", env_file],
                   check=True, capture_output=True)


def onboard(srv, keys, start_receiver, n, *rx_args):
    receivers, tenants = [], []
    for i in range(n):
        rx = start_receiver(keys, *rx_args)
        t = srv.onboard(f"redis{i}", keys, rx.url)
        rx.set_secret(t["endpoint"]["secret"])
        receivers.append(rx)
        tenants.append(t)
    return receivers, tenants


# With the default 6 attempts, 300 deliveries failing 20 % each dead-letter one about once in
# fifty runs (300 * 0.2^6, seen in stops 22 and 27); 12 attempts make that 10^-6.
MANY_ATTEMPTS = ("--max-attempts", "12")


def delivers_every_event(start_server, serve_args, start_receiver, keys):
    """300 events to three receivers failing 20 %: every one decrypted with its payload, the
    queue empty after, no record left pending. For any shared queue."""
    srv = start_server(*serve_args, *MANY_ATTEMPTS)
    assert srv.call("GET", "/readyz", token=None).status_code == 200
    receivers, tenants = onboard(srv, keys, start_receiver, 3, "--fail-rate", "0.2")
    accepted = publish_all(srv, tenants, 300, 0)
    assert len(accepted) == 300
    try:
        wait_until(lambda: set(accepted) <= set(delivered_events(receivers)), 120,
                   "every accepted event delivered")
    except AssertionError:
        # What the server says, for the next (with its dead letters, if any).
        missing = set(accepted) - set(delivered_events(receivers))
        m = srv.metrics()
        raise AssertionError(
            f"{len(missing)} of {len(accepted)} never delivered; metrics "
            f"{ {k: v for k, v in m.items() if 'queue' in k or 'inflight' in k or 'deliver' in k} }; "
            f"log {(srv.proc.out_lines + srv.proc.err_lines)[-15:]}")
    got = delivered_events(receivers)
    assert all(got[e] == n for e, n in accepted.items())
    depth = next(k for k in srv.metrics() if k.startswith("sealhook_queue_depth{"))  # its queue's
    wait_until(lambda: int(srv.metrics()[depth]) == 0, 60, "queue empty")
    wait_until(lambda: pending_all(srv, tenants) == [], 30, "no record left pending")


def test_redis_queue_delivers_every_event(start_server, start_receiver, keygen, redis_url):
    delivers_every_event(start_server, ("--queue", "redis", "--redis", redis_url), start_receiver,
                         keygen("redis"))


def test_sigkilled_serve_restarted_on_the_same_redis_delivers_what_was_queued(
        start_server, start_receiver, keygen, redis_url, tmp_path):
    store = f"sqlite:{tmp_path}/redis-crash"
    # A delivery acknowledged in Redis whose record the kill kept from the store stays pending
    # until reconcile finds the queue no longer holds it: a short --reconcile-after-ms for that.
    serve = ("--queue", "redis", "--redis", redis_url, "--retry-base-ms", "200",
             "--max-attempts", "25", "--reconcile-after-ms", "2000",
             # No more attempts at once than the receiver serves: none times out while it waits
             # there, so the duplicates counted are the kill's alone.
             "--max-inflight-per-endpoint", "2")
    srv = start_server(*serve, store=store)
    keys = keygen("redis-crash")
    # A slow receiver, so that most of what is accepted is still queued at the kill.
    receivers, tenants = onboard(srv, keys, start_receiver, 4, "--delay-ms", "50",
                                 "--fail-rate", "0.2", "--threads", "2")
    accepted = publish_all(srv, tenants, 1000, 0, kill_after=400)
    srv.proc.p.wait()
    assert 400 <= len(accepted) < 1000, len(accepted)
    before = len(delivered_events(receivers))
    srv = start_server(*serve, store=store)
    assert before < len(accepted), "nothing was left queued at the kill"
    wait_until(lambda: set(accepted) <= set(delivered_events(receivers)), 180,
               "every accepted event delivered after the restart")
    depth = next(k for k in srv.metrics() if k.startswith("sealhook_queue_depth{"))  # its queue's
    wait_until(lambda: int(srv.metrics()[depth]) == 0, 60, "queue empty")
    wait_until(lambda: pending_all(srv, tenants) == [], 30, "no record left pending")
    lost = [d for t in tenants for d in list_all(srv, t["api_key"], "status=lost")]
    assert lost == [], "a delivery acknowledged before the kill was recorded as lost"
    dups = stop_and_count_duplicates(receivers)
    print(f"\nredis crash: {len(accepted)} accepted, {before} delivered before the kill, "
          f"{dups} duplicates")
