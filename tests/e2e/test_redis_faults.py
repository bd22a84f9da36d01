"""The redis queue through Redis's faults, against the real binary and a real redis-server
(redis_faults.py): a SIGKILL and restart with the AOF, a restart without persistence (its data
gone), a 10 s SIGSTOP, and a serve started while Redis is down. No intervention in any."""
import os
import signal
import subprocess
import time

from redis_faults import (Publisher, await_status, publish, redis_serve_args,  # noqa: F401
                          redis_server, status)
from test_durability import delivered_events, list_all, pending_all, wait_until
from test_redis_queue import onboard

RESETS = 'sealhook_queue_resets_total{queue="redis"}'
LOST = 'sealhook_lost_deliveries{queue="redis"}'  # counted every --metrics-refresh-ms


def test_redis_killed_and_restarted_on_its_aof_loses_nothing_accepted(
        start_server, start_receiver, keygen, redis_server):
    redis = redis_server(aof=True)
    srv = start_server(*redis_serve_args(redis.url, "--max-attempts", "50"))
    keys = keygen("aof")
    receivers, tenants = onboard(srv, keys, start_receiver, 3, "--delay-ms", "5")
    pub = Publisher(srv, tenants)
    accepted, codes = pub.accepted, pub.codes
    wait_until(lambda: len(accepted) >= 150, 30, "150 accepted before the kill")
    redis.kill()
    wait_until(lambda: 503 in codes, 10, "publish answers 503 while Redis is gone")
    redis.start_again()
    n_at_restart = len(accepted)
    wait_until(lambda: len(accepted) >= n_at_restart + 150, 30, "publishing resumed")
    pub.stop()
    assert set(codes) <= {202, 503}, set(codes)
    wait_until(lambda: set(accepted) <= set(delivered_events(receivers)), 60,
               "every accepted event delivered after the restart")
    wait_until(lambda: pending_all(srv, tenants) == [], 30, "no record left pending")
    m = srv.metrics()
    assert m[RESETS] == 0  # the AOF kept the queue: nothing reset
    assert m.get(LOST, 0) == 0
    print(f"\nredis AOF restart: {len(accepted)} accepted, {codes.count(503)} answered 503 "
          f"during the outage, 0 lost")


def test_redis_restarted_without_its_data_recovers_and_counts_the_lost(
        start_server, start_receiver, keygen, redis_server):
    redis = redis_server(aof=False)
    srv = start_server(*redis_serve_args(redis.url, "--metrics-refresh-ms", "200"))
    keys = keygen("noaof")
    # A slow receiver, so that much of what is accepted is still queued when Redis loses it.
    receivers, tenants = onboard(srv, keys, start_receiver, 1, "--delay-ms", "100",
                                 "--threads", "1")
    before = [publish(srv, tenants[0], i)[2] for i in range(60)]
    assert all(before)
    redis.kill()
    redis.start_again()  # empty: no AOF, no snapshot
    await_status(srv, "/readyz", 200, 15)
    wait_until(lambda: srv.metrics()[RESETS] == 1, 15,
               "the reset is counted")
    wait_until(lambda: srv.metrics().get(LOST, 0) > 0, 15,
               "the deliveries Redis lost are marked lost")
    after = [publish(srv, tenants[0], 100 + i)[2] for i in range(20)]
    assert all(after)
    wait_until(lambda: set(after) <= set(delivered_events(receivers)), 30,
               "events published after the reset delivered")
    # Nothing pretends to be pending for ever: each is delivered or marked lost.
    wait_until(lambda: pending_all(srv, tenants) == [], 30, "no record left pending")
    lost = len(list_all(srv, tenants[0]["api_key"], "status=lost"))
    wait_until(lambda: srv.metrics()[LOST] == lost, 15, "the lost gauge counts what is lost")
    delivered_before = len(set(before) & set(delivered_events(receivers)))
    assert lost + delivered_before >= len(before)
    print(f"\nredis restart without data: 60 queued, {lost} marked lost, "
          f"{delivered_before} delivered; 20 published after, all delivered")


def test_hung_redis_answers_503_fast_and_everything_resumes(
        start_server, start_receiver, keygen, redis_server):
    redis = redis_server()
    srv = start_server(*redis_serve_args(redis.url))
    keys = keygen("hung")
    receivers, tenants = onboard(srv, keys, start_receiver, 1)
    assert publish(srv, tenants[0], 0)[0] == 202
    redis.pause()
    latencies, ready = [], []
    end = time.monotonic() + 10
    i = 1
    while time.monotonic() < end:
        code, took, _, r = publish(srv, tenants[0], i)
        assert code == 503, (code, r.text)
        assert r.json()["error"]["code"] == "queue_unavailable" or "unavailable" in r.text
        latencies.append(took)
        ready.append(status(srv, "/readyz"))
        i += 1
        time.sleep(0.2)
    redis.resume()
    assert max(latencies) < 1.0, max(latencies)
    assert set(ready) == {503}, ready
    await_status(srv, "/readyz", 200, 10)
    code, _, eid, _ = publish(srv, tenants[0], 999)
    assert code == 202
    wait_until(lambda: eid in delivered_events(receivers), 15, "delivered after SIGCONT")
    lat = sorted(latencies)
    print(f"\nredis SIGSTOP 10 s: {len(lat)} publishes, all 503; latency median "
          f"{lat[len(lat) // 2] * 1000:.1f} ms, max {lat[-1] * 1000:.1f} ms")


def test_serve_started_while_redis_is_down_becomes_ready_when_it_is_up(
        start_server, start_receiver, keygen, redis_server):
    redis = redis_server()
    redis.stop()
    srv = start_server(*redis_serve_args(redis.url))
    assert status(srv, "/readyz") == 503
    assert status(srv, "/healthz") == 200
    redis.start_again()
    await_status(srv, "/readyz", 200, 10)
    keys = keygen("late")
    receivers, tenants = onboard(srv, keys, start_receiver, 1)
    code, _, eid, _ = publish(srv, tenants[0], 1)
    assert code == 202
    wait_until(lambda: eid in delivered_events(receivers), 15, "delivered")


def redis_cli(redis, *args):
    return subprocess.run(["redis-cli", "-p", str(redis.port), *args], check=True,
                          capture_output=True, text=True).stdout.strip()


def test_redis_refusing_writes_answers_503_not_500(start_server, start_receiver, keygen,
                                                    redis_server):
    redis = redis_server()
    srv = start_server(*redis_serve_args(redis.url))
    receivers, tenants = onboard(srv, keygen("oom"), start_receiver, 1)
    redis_cli(redis, "CONFIG", "SET", "maxmemory-policy", "noeviction")
    redis_cli(redis, "CONFIG", "SET", "maxmemory", "1")  # every write now answers OOM
    code, _, _, r = publish(srv, tenants[0], 1)
    assert code == 503, (code, r.text)
    assert "OOM" in r.json()["error"]["message"], r.text
    redis_cli(redis, "CONFIG", "SET", "maxmemory", "0")
    code, _, eid, _ = publish(srv, tenants[0], 2)
    assert code == 202
    wait_until(lambda: eid in delivered_events(receivers), 15, "delivered once Redis takes writes")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_idle_serve_on_redis_uses_under_one_percent_cpu(start_server, keygen, start_receiver,
                                                         redis_server):
    redis = redis_server()
    srv = start_server(*redis_serve_args(redis.url))
    receivers, tenants = onboard(srv, keygen("idle"), start_receiver, 1)
    assert publish(srv, tenants[0], 1)[0] == 202
    receivers[0].wait_count(1, timeout=15)
    t0, c0 = time.monotonic(), cpu_seconds(srv.proc.p.pid)
    r0 = cpu_seconds(redis.pid)
    time.sleep(5)  # the measurement itself: idle, nothing to wait for
    share = (cpu_seconds(srv.proc.p.pid) - c0) / (time.monotonic() - t0)
    redis_share = (cpu_seconds(redis.pid) - r0) / (time.monotonic() - t0)
    print(f"\nidle serve on redis: {share * 100:.2f} % CPU (redis-server {redis_share * 100:.2f} %)")
    assert share < 0.01, share


def test_an_ack_refused_while_redis_is_down_is_retried_not_dropped(
        start_server, start_receiver, keygen, redis_server):
    redis = redis_server(aof=True)
    srv = start_server(*redis_serve_args(redis.url))
    # The attempt outlasts the outage's start: its ack meets a Redis that is gone.
    receivers, tenants = onboard(srv, keygen("ack"), start_receiver, 1, "--delay-ms", "1500")
    code, _, eid, r = publish(srv, tenants[0], 1)
    assert code == 202
    wait_until(lambda: srv.metrics()["sealhook_attempts_started_total"] >= 1, 10, "attempt started")
    redis.kill()
    receivers[0].wait_count(1, timeout=10)  # delivered while Redis is down; the ack is refused
    time.sleep(0.5)  # the outage goes on a little after the receipt (a fault, not a sync)
    redis.start_again()
    key = tenants[0]["api_key"]
    page = srv.wait_list(key, "status=delivered", 1, timeout=10)  # well inside the 15 s lease
    delivery_id = page["data"][0]["id"]
    assert page["data"][0]["attempt_count"] == 1, page
    assert srv.metrics()["sealhook_attempts_started_total"] == 1  # not handed out again
    assert srv.ok("GET", f"/v1/deliveries/{delivery_id}", key)["status"] == "delivered"


def test_data_redis_lost_while_no_process_ran_is_marked_lost_not_delivered(
        start_server, start_receiver, keygen, redis_server, tmp_path):
    """No process is connected to see the reset: serve is SIGKILLed, then Redis restarts
    without its data, then serve starts again. The queue's generation differs from the one the
    store recorded, so the records Redis took with it are lost, not taken for acknowledged
    (which is what a pending record a durable queue no longer holds would otherwise mean)."""
    redis = redis_server(aof=False)
    store = f"sqlite:{tmp_path}/generation"
    # Every attempt fails and its retry is a minute away: the deliveries sit in Redis, pending.
    args = redis_serve_args(redis.url, "--reconcile-after-ms", "1000", "--retry-base-ms", "60000")
    srv = start_server(*args, store=store)
    keys = keygen("generation")
    receivers, tenants = onboard(srv, keys, start_receiver, 1, "--fail-rate", "1")
    ids = {publish(srv, tenants[0], i)[2] for i in range(10)}
    assert None not in ids
    key = tenants[0]["api_key"]
    wait_until(lambda: len([d for d in list_all(srv, key, "status=pending")
                            if d["attempt_count"] >= 1]) == 10, 30, "every delivery tried once")
    srv.proc.stop(signal.SIGKILL)
    redis.kill()
    redis.start_again()  # empty
    srv = start_server(*args, store=store)
    await_status(srv, "/readyz", 200, 15)
    # Records unchanged for --reconcile-after-ms are settled: all ten, as lost.
    wait_until(lambda: pending_all(srv, tenants) == [], 20, "no record left pending")
    lost = {d["event_id"] for d in list_all(srv, key, "status=lost")}
    assert lost == ids, (len(lost), len(ids))
    assert list_all(srv, key, "status=delivered") == []
