"""`make demo` on the Redis and the Kafka queue: the original's demo (100 events, a receiver
failing 20 % of requests) with `serve` and a `sealhook worker` sharing one queue and one SQLite
store, run through scripts/demo.sh itself so that the README's command is what is tested."""
import os
import re
import socket
import subprocess

import pytest

from conftest import ROOT


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.mark.parametrize("queue", ["redis", "kafka"])
def test_demo_with_a_worker_decrypts_all_hundred_events(binary, tmp_path, queue):
    api, rx, metrics = free_ports(3)
    env = dict(os.environ, BIN=binary, QUEUE=queue, WORKERS="1", DIR=str(tmp_path / "demo"),
               API_PORT=str(api), RX_PORT=str(rx), METRICS_PORT=str(metrics), N="100")
    env["TIMEOUT_S"] = "90"  # the demo gives up (and cleans up) by itself
    out = subprocess.run([os.path.join(ROOT, "scripts", "demo.sh")], env=env, capture_output=True,
                         text=True, timeout=150)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    text = out.stdout
    assert "start sealhook worker 1" in text
    assert "unique events decrypted: 100/100" in text
    m = re.search(r"delivered: (\d+), retries: (\d+), dead: (\d+)", text)
    assert m, text[-1000:]
    delivered, retries, dead = map(int, m.groups())
    # At least once: an attempt made again after a rebalance (kafka) reaches the receiver as a
    # duplicate, which it counts. Every delivered attempt is one of the 100 or one of those.
    tally = re.search(r"(\d+) events, (\d+) duplicates", text)
    assert tally, text[-1000:]
    assert int(tally.group(1)) == 100
    assert delivered == 100 + int(tally.group(2)) and dead == 0
    assert retries > 0, "a receiver failing 20 % of requests must have caused retries"
    by = re.search(r"delivered by serve/worker 1/\.\.\.: ([\d/]+)", text)
    assert by and sum(int(x) for x in by.group(1).split("/")) == delivered
    # The demo stopped its server (the stop scripts remove the pid file, and the env file).
    assert not (tmp_path / "demo" / "redis" / "redis.pid").exists()
    assert not (tmp_path / "demo" / "kafka.env").exists()
