#!/usr/bin/env python3
"""First end-to-end benchmark: `sealhook serve` (release, memory queue, SQLite) publishing N
events to a sink that acknowledges without decrypting. Prints one JSON summary.

  bench/run [--events N] [--concurrency C] [--payload-bytes B] [--key-type rsa|x25519]

Figures: events/s accepted by POST /v1/events, deliveries/s end to end (first publish to last
delivery), publish->delivery latency p50/p90/p99/max (the sink maps each webhook-id to its
publish time through GET /v1/deliveries), serve's CPU seconds and peak RSS (VmHWM).
Load generator and sink share one asyncio loop in this process, on the same 2 cores as serve.
"""
import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADMIN = "bench-admin-token-0123456789abcdef"


async def read_request(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    length, wid = 0, None
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        k = k.strip().lower()
        if k == b"content-length":
            length = int(v)
        elif k == b"webhook-id":
            wid = v.strip().decode()
    if length:
        await reader.readexactly(length)
    return wid


class Sink:
    def __init__(self):
        self.arrivals = {}

    async def handle(self, reader, writer):
        try:
            while True:
                wid = await read_request(reader)
                if wid and wid not in self.arrivals:
                    self.arrivals[wid] = time.monotonic()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


async def publisher(port, bodies, published, lat):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for body in bodies:
        t0 = time.monotonic()
        writer.write(b"POST /v1/events HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer " + ADMIN.encode() +
                     b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() +
                     b"\r\n\r\n" + body)
        head = await reader.readuntil(b"\r\n\r\n")
        m = re.search(rb"(?i)content-length:\s*(\d+)", head)
        resp = await reader.readexactly(int(m.group(1)))
        t1 = time.monotonic()
        assert head.startswith(b"HTTP/1.1 202"), head + resp
        published[json.loads(resp)["event_id"]] = t1
        lat.append(t1 - t0)
    writer.close()


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else None


def proc_stats(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    with open(f"/proc/{pid}/status") as f:
        hwm = int(re.search(r"VmHWM:\s*(\d+)", f.read()).group(1))
    return cpu, hwm / 1024


async def main(a):
    tmp = tempfile.mkdtemp(prefix="sealhook-bench-")
    subprocess.run([a.binary, "keygen", "--type", a.key_type, "--out", f"{tmp}/keys"], check=True,
                   capture_output=True)
    sink = Sink()
    server = await asyncio.start_server(sink.handle, "127.0.0.1", 0)
    sink_port = server.sockets[0].getsockname()[1]
    serve = subprocess.Popen([a.binary, "serve", "--listen", "127.0.0.1:0", "--store", f"sqlite:{tmp}/store",
                              "--admin-token", ADMIN, "--allow-private-networks", "--queue-capacity", "2000000",
                              "--log-level", "warn"], stdout=subprocess.PIPE, text=True)
    port = None
    for line in serve.stdout:
        m = re.search(r"listening on http://[\d.]+:(\d+)", line)
        if m:
            port = int(m.group(1))
            break
    base = f"http://127.0.0.1:{port}"
    H = {"Authorization": f"Bearer {ADMIN}"}
    t = requests.post(base + "/v1/tenants", json={"name": "bench"}, headers=H).json()
    K = {"Authorization": f"Bearer {t['api_key']}"}
    requests.post(base + "/v1/keys", json={"public_key": json.load(open(f"{tmp}/keys/public.jwk"))}, headers=K).raise_for_status()
    requests.put(base + "/v1/subscriptions", json={"event_types": ["*"]}, headers=K).raise_for_status()
    requests.post(base + "/v1/endpoints", json={"url": f"http://127.0.0.1:{sink_port}/hook"}, headers=K).raise_for_status()

    payload = "x" * max(0, a.payload_bytes - 12)
    bodies = [json.dumps({"type": "bench.event", "payload": {"i": i, "p": payload}}).encode()
              for i in range(a.events)]
    published, lat = {}, []
    start = time.monotonic()
    per = (len(bodies) + a.concurrency - 1) // a.concurrency
    await asyncio.gather(*(publisher(port, bodies[i * per:(i + 1) * per], published, lat)
                           for i in range(a.concurrency)))
    publish_done = time.monotonic()
    deadline = publish_done + 300
    while len(sink.arrivals) < a.events and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    end = max(sink.arrivals.values()) if sink.arrivals else time.monotonic()
    cpu, rss = proc_stats(serve.pid)

    # webhook-id -> event id, through the API (newest first, 100 a page).
    event_of, cursor = {}, None
    while True:
        q = "limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = requests.get(base + "/v1/deliveries?" + q, headers=K).json()
        for d in page["data"]:
            event_of[d["id"]] = d["event_id"]
        cursor = page["next"]
        if not cursor:
            break
    e2e = [sink.arrivals[w] - published[e] for w, e in event_of.items() if w in sink.arrivals and e in published]
    serve.terminate()
    serve.wait()
    server.close()
    ms = lambda v: None if v is None else round(v * 1000, 2)
    print(json.dumps({
        "events": a.events, "concurrency": a.concurrency, "payload_bytes": a.payload_bytes, "key": a.key_type,
        "delivered": len(sink.arrivals),
        "events_per_s_accepted": round(a.events / (publish_done - start), 1),
        "deliveries_per_s": round(len(sink.arrivals) / (end - start), 1),
        "publish_ms": {"p50": ms(pct(lat, 50)), "p99": ms(pct(lat, 99))},
        "publish_to_delivery_ms": {"p50": ms(pct(e2e, 50)), "p90": ms(pct(e2e, 90)),
                                   "p99": ms(pct(e2e, 99)), "max": ms(max(e2e) if e2e else None)},
        "serve_cpu_s": round(cpu, 2), "serve_peak_rss_mib": round(rss, 1),
    }, indent=None))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--events", type=int, default=10000)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--payload-bytes", type=int, default=1024)
    p.add_argument("--key-type", default="rsa", choices=["rsa", "x25519"])
    p.add_argument("--binary", default=os.path.join(ROOT, "build", "sealhook"))
    asyncio.run(main(p.parse_args()))
