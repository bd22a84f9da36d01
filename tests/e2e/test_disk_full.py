"""A data directory that fills up: publishes that cannot be made durable answer 503 and leave
nothing behind, /readyz says so, and once space returns everything accepted is delivered.
The data directory is a small tmpfs, mounted for the test and unmounted after it."""
import os
import subprocess
import threading
import time

import pytest

from conftest import ADMIN


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    assert r.returncode == 0, f"this test needs to mount a tmpfs (root): {r.stderr}"
    state = {"stop": []}
    yield mnt, state
    for stop in state["stop"]:
        stop()
    subprocess.run(["umount", "-l", str(mnt)], check=True)


def test_full_disk_refuses_publishes_honestly_and_recovers(start_server, start_receiver, keygen,
                                                          small_disk):
    mnt, state = small_disk
    srv = start_server("--attempt-timeout-ms", "20000", "--retry-base-ms", "200",
                       "--retry-max-delay-ms", "1000", "--max-attempts", "50",
                       store=f"sqlite:{mnt}/data")
    state["stop"].append(lambda: srv.proc.stop())
    keys = keygen("full")
    rx = start_receiver(keys, "--delay-ms", "1500", "--threads", "8")
    t = srv.onboard("full", keys, rx.url)
    rx.set_secret(t["endpoint"]["secret"])
    assert srv.call("GET", "/readyz", token=None).status_code == 200

    filler = "x" * 48 * 1024
    accepted, refused = set(), set()
    for n in range(200):
        r = srv.call("POST", "/v1/events", body={"type": "a", "payload": {"n": n, "pad": filler}})
        if r.status_code == 202:
            accepted.add(n)
        else:
            assert r.status_code == 503, (r.status_code, r.text)
            assert r.json()["error"]["code"] in ("store_unavailable", "queue_full"), r.text
            refused.add(n)
            if len(refused) >= 5:
                break
    assert accepted and len(refused) >= 5, (len(accepted), len(refused))
    print(f"\ndisk full: {len(accepted)} publishes accepted, then {len(refused)} refused with 503")

    # While the disk is full the server says it is not ready.
    deadline = time.monotonic() + 30
    while srv.call("GET", "/readyz", token=None).status_code != 503:
        assert time.monotonic() < deadline, "readyz stayed 200 on a full disk"
        time.sleep(0.1)

    # Space comes back: everything resumes.
    subprocess.run(["mount", "-o", "remount,size=256m", str(mnt)], check=True)
    deadline = time.monotonic() + 60
    while srv.call("GET", "/readyz", token=None).status_code != 200:
        assert time.monotonic() < deadline, "readyz never recovered"
        time.sleep(0.1)
    rx.wait_count(len(accepted), timeout=120)
    got = {e["event"]["data"]["n"] for e in rx.events()}
    assert got == accepted  # every 202 delivered, nothing refused delivered
    # And a publish works again.
    srv.ok("POST", "/v1/events", body={"type": "a", "payload": {"n": 1000}}, status=202)
    rx.wait_count(len(accepted) + 1, timeout=60)
    srv.proc.stop()
