"""`--queue kafka` against the run's real Kafka broker (conftest.kafka_brokers; each test has
topics and a consumer group of its own): serve alone delivers every event, and serve with three
`sealhook worker`s in one group loses nothing when a worker is SIGKILLed mid-run, keeps
`ordered` endpoints in publish order, and says in its log that the group rebalanced."""
import re
import signal
import uuid

import pytest

from test_durability import delivered_events, list_all, pending_all, publish_all, wait_until
from test_redis_queue import delivers_every_event, onboard
from test_worker import start_worker  # noqa: F401 (the fixture)

# A SIGKILLed member is noticed by the broker after the session timeout (its minimum is 6 s).
SESSION = ("--kafka-session-timeout-ms", "6000")


def kafka_args(brokers, prefix, partitions=6):
    return ("--queue", "kafka", "--kafka-brokers", brokers, "--kafka-topic-prefix", prefix,
            "--kafka-partitions", str(partitions), *SESSION, "--reconcile-after-ms", "2000")


@pytest.fixture
def prefix():
    return "e2e-" + uuid.uuid4().hex[:12]


@pytest.fixture
def start_kafka_worker(start_worker):
    def start(brokers, prefix, store, *extra):
        return start_worker(None, store, *extra, queue=kafka_args(brokers, prefix))
    return start


def log_lines(proc, regex):
    """The lines of `proc`'s output (both streams) that match `regex`."""
    return [line for line in proc.out_lines + proc.err_lines if re.search(regex, line)]


def first_arrivals(rx):
    """The payload numbers of each event's first arrival at `rx`, in arrival order."""
    seen, out = set(), []
    for e in rx.events():
        if e["event"]["id"] not in seen:
            seen.add(e["event"]["id"])
            out.append(e["event"]["data"]["n"])
    return out


def test_kafka_queue_delivers_every_event(start_server, start_receiver, keygen, kafka_brokers,
                                          prefix):
    delivers_every_event(start_server, kafka_args(kafka_brokers, prefix), start_receiver,
                         keygen("kafka"))


def test_three_workers_one_killed_lose_nothing_and_keep_order(
        start_server, start_kafka_worker, start_receiver, keygen, kafka_brokers, prefix,
        tmp_path):
    store = f"sqlite:{tmp_path}/shared.db"
    # serve publishes and delivers little (one attempt at a time): the workers do the most.
    # A publish is answered 503 once --kafka-timeout-ms passes without the broker's ack; this
    # test is about the kill, on a machine that may be loaded (CI builds beside it): a bound
    # that a slow broker round trip does not reach.
    srv = start_server(*kafka_args(kafka_brokers, prefix), "--max-inflight", "1",
                       "--kafka-timeout-ms", "15000", store=store)
    keys = keygen("kafka-workers")
    # 20 endpoints, one per tenant; every fourth is ordered. Receivers of 50 ms: 20 x 40/s, slower
    # than publishing, so a backlog is queued when the kill lands. Two attempts at once per
    # endpoint and two receiver threads each: no attempt waits at a receiver long enough to
    # time out (one that did, and arrived all the same, would be a duplicate not the kill's).
    receivers, tenants = [], []
    for i in range(20):
        rx = start_receiver(keys, "--delay-ms", "50", "--threads", "2", "--fail-rate", "0.1")
        t = srv.onboard(f"kw{i}", keys, rx.url, **({"ordering": "ordered"} if i % 4 == 0 else {}))
        rx.set_secret(t["endpoint"]["secret"])
        receivers.append(rx)
        tenants.append(t)
    per_endpoint = ("--max-inflight-per-endpoint", "2")
    workers = [start_kafka_worker(kafka_brokers, prefix, store, "--redis-owner", f"kw{i}",
                                  *per_endpoint) for i in range(3)]
    # Each worker owns partitions (6 partitions, serve and three workers in the group).
    wait_until(lambda: all(log_lines(w.proc, r"kafka: rebalance: partitions \[") for w in workers),
               60, "every worker assigned partitions")

    refused = []
    times = {}  # n: (sent, answered)
    accepted = publish_all(srv, tenants, 1500, 0, refused=refused, times=times)
    assert len(accepted) == 1500, refused[:5]

    def worker_busy():
        return int(workers[0].metrics()["sealhook_attempts_inflight"]) > 0
    wait_until(worker_busy, 30, "worker 0 has attempts in flight")
    workers[0].proc.p.send_signal(signal.SIGKILL)
    workers[0].proc.p.wait()
    at_kill = len(delivered_events(receivers))
    accepted.update(publish_all(srv, tenants, 3000, 1500, refused=refused, times=times))
    assert len(accepted) == 3000, refused[:5]

    wait_until(lambda: set(accepted) <= set(delivered_events(receivers)), 180,
               "every accepted event delivered after the kill")
    got = delivered_events(receivers)
    assert all(got[e] == n for e, n in accepted.items())
    # Ordered endpoints: first arrivals in publish order (a duplicate may repeat an earlier one).
    # Publishes run four at a time: an event is published before another only if its 202 came
    # before the other was sent (the server orders what it has, not what is still on its way).
    for i in range(0, 20, 4):
        arrivals = first_arrivals(receivers[i])
        inverted = [(a, b) for k, a in enumerate(arrivals) for b in arrivals[k + 1:]
                    if b < a and times[b][1] < times[a][0]]
        if inverted:
            late = inverted[0][0]
            said = [f"{name}: {line}" for name, p in
                    [("serve", srv.proc)] + [(f"worker {n}", w.proc) for n, w in enumerate(workers)]
                    for line in log_lines(p, r"warn|error|rebalance")]
            pytest.fail(f"endpoint {i} out of order: {late} arrived before its predecessor; "
                        f"first arrivals {arrivals}; the kafka logs said:\n" + "\n".join(said))
    # The survivors took the dead worker's partitions: their logs say so.
    assert any(len(log_lines(w.proc, r"kafka: rebalance: partitions \[")) >= 2 for w in workers[1:])
    wait_until(lambda: int(srv.metrics()['sealhook_queue_depth{queue="kafka"}']) == 0, 60, "queue empty")
    wait_until(lambda: pending_all(srv, tenants) == [], 30, "no pending record")
    lost = [d for t in tenants for d in list_all(srv, t["api_key"], "status=lost")]
    assert lost == []
    for rx in receivers:
        rx.proc.stop()
    dups = sum(int(line.split(" events, ")[1].split()[0]) for rx in receivers
               for line in rx.proc.err_lines if " duplicates" in line)
    per_worker = [w.delivered() for w in workers[1:]]
    print(f"\nkafka workers: {len(accepted)} accepted, {at_kill} delivered at the kill, "
          f"{dups} duplicates, survivors delivered {per_worker}")


# held: the bound of what one partition holds in memory. With 20, the failing endpoint's 50
# waiting retries would fill it and pause the partition if they waited in place: they move to
# the retries topic instead, and the deliveries partition goes on.
@pytest.mark.parametrize("held", [None, 20])
def test_a_failing_endpoint_never_holds_back_the_healthy_ones_of_its_partition(
        start_server, start_receiver, keygen, kafka_brokers, prefix, held):
    # One partition: every endpoint shares it with the failing one.
    args = kafka_args(kafka_brokers, prefix, partitions=1)
    if held is not None:
        args += ("--kafka-held-per-partition", str(held))
    # A retry schedule of about a minute (1, 2, 4, ... s, 8 attempts) for the failing endpoint.
    srv = start_server(*args, "--retry-base-ms", "1000", "--retry-max-delay-ms", "16000")
    keys = keygen("kafka-stall")
    failing_rx = start_receiver(keys, "--fail-rate", "1.0")
    failing = srv.onboard("stall-failing", keys, failing_rx.url, max_attempts=8)
    healthy, receivers = [], []
    for i in range(4):
        rx = start_receiver(keys)
        t = srv.onboard(f"stall-healthy{i}", keys, rx.url)
        rx.set_secret(t["endpoint"]["secret"])
        healthy.append(t)
        receivers.append(rx)
    bad = publish_all(srv, [failing], 50, 0)
    good = publish_all(srv, healthy, 600, 0)
    assert len(bad) == 50 and len(good) == 600
    wait_until(lambda: set(good) <= set(delivered_events(receivers)), 30,
               "every healthy delivery")
    # Done while the failing endpoint's deliveries are all still inside their retry schedule.
    waiting = list_all(srv, failing["api_key"], "status=pending")
    dead = list_all(srv, failing["api_key"], "status=dead")
    assert len(waiting) == 50 and dead == [], (len(waiting), len(dead))
    # With held 20, what the failing endpoint is sent after its first failures past a quarter of
    # the bound spills to the retries topic before its first attempt: those may not be tried yet.
    least = 1 if held is None else 0
    assert all(least <= d["attempt_count"] < 8 for d in waiting)
    assert any(d["attempt_count"] >= 1 for d in waiting)
