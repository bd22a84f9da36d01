#!/usr/bin/env python3
"""End-to-end benchmark of `sealhook serve` (release build, SQLite store in a temp dir).

  bench/run [--scenario one|fifty|fanout1000|dead|endpoints|backlog|all[,...]]
            [--payload-bytes 1024[,...]] [--key-type rsa|rsa4096|x25519[,...]] [--events N]
            [--connections C] [--rate R] [--runs K] [--decrypting-sink]
            [--endpoints 1,100,10000] [--backlog 1000,1000000]
            [--queue memory,sqlite,redis,kafka] [--workers 0,1,2]

--queue compares queue backends in one session (each case runs on each backend in turn); with
redis, every run gets a fresh redis-server; with kafka, one broker serves the session and each run
has topics of its own; --workers N adds N `sealhook worker` processes on the same store and queue.
Redis runs also report redis-server's CPU and INFO commandstats per delivery, kafka runs the
broker's CPU per delivery.

For every combination of scenario x payload x key it starts a fresh `serve`, onboards tenants,
keys, subscriptions and endpoints through the HTTP API, points the endpoints at a sink, publishes
N events with the native load generator (`sealhook-bench load`: keep-alive connections, as fast as
possible or at --rate events/s), waits until the sink has every delivery, and prints one JSON line:
events/s accepted, deliveries/s, publish latency, publish->delivery latency (each webhook-id mapped
to its event through GET /v1/deliveries, then arrival_ns - publish answer_ns), serve's CPU seconds
and peak RSS (/proc), and `wrk`'s ceiling against the same sink. With --runs K it prints K lines
and then their median. See bench/README.md.

The sink is `sealhook-bench sink` (acknowledges without decrypting) or, with --decrypting-sink,
`sealhook receive` (verifies the signature and decrypts, one JSON line per event on stdout).

Two sweeps measure how the cost grows with the work: `endpoints` (1 tenant with N endpoints, each
event delivered to exactly one of them: same deliveries/s expected for every N) and `backlog`
(B deliveries queued behind a paused sink: serve's RSS per queued delivery, then deliveries/s
while draining them).
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADMIN = "bench-admin-token-0123456789abcdef"
# Fields added to every endpoint the bench creates for its tenants (--endpoint-json).
ENDPOINT_EXTRA = {}
CLK_TCK = os.sysconf("SC_CLK_TCK")

# scenario -> (tenants, live endpoints per tenant, dead endpoint?, default events)
SCENARIOS = {
    "one": (1, 1, False, 20000),
    "fifty": (1, 50, False, 1000),
    "fanout1000": (1000, 1, False, 100),
    "dead": (1, 1, True, 20000),
    # the measured tenant beside a noisy one whose 100 endpoints never answer (NOISY_EVENTS
    # events published to them first, so they hold every slot they are allowed)
    "noisy": (1, 1, False, 20000),
}
NOISY_ENDPOINTS, NOISY_EVENTS = 100, 50
# sweeps: scenario -> default events (endpoints; backlog publishes B events per configuration)
SWEEPS = {"endpoints": 20000, "backlog": None}
KEYS = {"rsa": ["--type", "rsa", "--bits", "2048"], "rsa2048": ["--type", "rsa", "--bits", "2048"],
        "rsa4096": ["--type", "rsa", "--bits", "4096"], "x25519": ["--type", "x25519"]}


def log(*a):
    print("[bench]", *a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# /proc helpers

def proc_cpu_s(pid):
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_threads_cpu(pid):
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                raw = f.read()
            comm = raw[raw.index("(") + 1:raw.rindex(")")]
            fields = raw.rsplit(")", 1)[1].split()
            out[tid] = (comm, (int(fields[11]) + int(fields[12])) / CLK_TCK)
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
    return out


def proc_hwm_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmHWM:\s*(\d+)", f.read()).group(1)) / 1024


def proc_mem_kib(pid):
    """VmRSS and VmHWM of a process, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        text = f.read()
    return (int(re.search(r"VmRSS:\s*(\d+)", text).group(1)),
            int(re.search(r"VmHWM:\s*(\d+)", text).group(1)))


def machine_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]  # idle + iowait
    return sum(v[:8]), idle


def wait_quiet(limit_s, busy_pct=15):
    """Waits (up to limit_s) for a second in which the machine is less than busy_pct busy."""
    deadline = time.monotonic() + limit_s
    while True:
        t0 = machine_ticks()
        time.sleep(1)
        t1 = machine_ticks()
        busy = 100 * (1 - (t1[1] - t0[1]) / max(1, t1[0] - t0[0]))
        if busy < busy_pct:
            return
        if time.monotonic() > deadline:
            log(f"machine still {busy:.0f} % busy after {limit_s} s: measuring anyway")
            return


def pct(values, p):
    """Nearest-rank percentile (the same definition as sealhook-bench)."""
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(p / 100 * (len(v) - 1) + 0.5))]


def ms(ns):
    return None if ns is None else round(ns / 1e6, 3)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for_line(path, pattern, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path) as f:
                m = re.search(pattern, f.read())
            if m:
                return m
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    raise RuntimeError(f"{path}: no line matching {pattern!r} (exit code {proc.poll()}):\n" +
                       (open(path).read()[-2000:] if os.path.exists(path) else ""))


def wait_for_count(count, expected, settle_s, what="deliveries arrived", step_s=0.02):
    """Polls count() until it reaches `expected` or stops growing for `settle_s`; returns it."""
    last_count, last_change = -1, time.monotonic()
    while True:
        n = count()
        if n >= expected:
            return n
        if n != last_count:
            last_count, last_change = n, time.monotonic()
        elif time.monotonic() - last_change > settle_s:
            log(f"gave up waiting: {n} of {expected} {what}")
            return n
        time.sleep(step_s)


def stop(proc, timeout=15):
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------------------------------------
# processes

class FastSink:
    """`sealhook-bench sink`: also the hang listener of the dead-endpoint scenario."""

    def __init__(self, tool, tmp, threads, expect):
        self.out = f"{tmp}/sink.out"
        self.proc = subprocess.Popen([tool, "sink", "--listen", "127.0.0.1:0", "--threads", str(threads),
                                      "--hang-listen", "127.0.0.1:0", "--expect", str(expect)],
                                     stdout=open(self.out, "w"), stderr=subprocess.STDOUT)
        self.port = int(wait_for_line(self.out, r"sink listening on port (\d+)", self.proc).group(1))
        self.hang_port = int(wait_for_line(self.out, r"hang listening on port (\d+)", self.proc).group(1))
        self.http = requests.Session()
        self.tmp = tmp

    def url(self, i):
        return f"http://127.0.0.1:{self.port}/hook/{i}"

    def count(self):
        return self.http.get(f"http://127.0.0.1:{self.port}/stats?summary=1").json()["count"]

    def stats(self):
        return self.http.get(f"http://127.0.0.1:{self.port}/stats?summary=1").json()

    def arrivals(self):
        path = f"{self.tmp}/arrivals.txt"
        self.http.get(f"http://127.0.0.1:{self.port}/stats", params={"out": path}).raise_for_status()
        out = {}
        with open(path) as f:
            for line in f:
                wid, ns = line.split()
                out[wid] = int(ns)
        return out

    def reset(self):
        self.http.delete(f"http://127.0.0.1:{self.port}/stats").raise_for_status()

    def pause(self):
        """From now on the sink holds every delivery unanswered (until resume)."""
        self.http.post(f"http://127.0.0.1:{self.port}/pause").raise_for_status()

    def resume(self):
        """Answers the held deliveries and stops holding; returns how many were held."""
        r = self.http.post(f"http://127.0.0.1:{self.port}/resume")
        r.raise_for_status()
        return r.json()["released"]


class DecryptingSink:
    """`sealhook receive`: verifies, decrypts, prints one JSON line per new event; a reader
    thread stamps each line with the wall clock when it reads it."""

    def __init__(self, binary, tmp, port, key_file, secrets, threads):
        self.port = port
        self.lines = []  # (ns, raw line)
        self.err = f"{tmp}/receive.err"
        args = [binary, "receive", "--listen", f"127.0.0.1:{port}", "--key", key_file,
                "--threads", str(threads)]
        for s in secrets:
            args += ["--secret", s]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=open(self.err, "w"))
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        wait_for_line(self.err, r"listening on port (\d+)", self.proc)

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append((time.time_ns(), line))

    def count(self):
        return len(self.lines)

    def arrivals_and_events(self):
        arrivals, event_of = {}, {}
        for ns, raw in list(self.lines):
            d = json.loads(raw)
            arrivals[d["webhook_id"]] = ns
            event_of[d["webhook_id"]] = d["event"]["id"]
        return arrivals, event_of


class Serve:
    def __init__(self, binary, tmp, extra, store=None, env=None):
        self.out = f"{tmp}/serve.out"
        self.err = f"{tmp}/serve.err"
        args = [binary, "serve", "--listen", "127.0.0.1:0", "--store", store or f"sqlite:{tmp}/store",
                "--admin-token", ADMIN, "--allow-private-networks", "--queue-capacity", "10000000",
                "--queue-max-bytes", str(64 << 30), "--log-level", "warn", "--drain-timeout-ms", "0"] + extra
        self.proc = subprocess.Popen(args, stdout=open(self.out, "w"), stderr=open(self.err, "w"),
                                     env=env)
        m = wait_for_line(self.out, r"listening on [\d.]+:(\d+)", self.proc)
        self.port = int(m.group(1))
        self.base = f"http://127.0.0.1:{self.port}"

    def metrics(self):
        text = requests.get(self.base + "/metrics").text
        out = {}
        for line in text.splitlines():
            m = re.match(r'sealhook_(\w+?)(?:\{outcome="(\w+)"\}|\{queue="\w+"\})? ([\d.e+]+)$', line)
            if m:
                out[m.group(1) + ("_" + m.group(2) if m.group(2) else "")] = float(m.group(3))
        return out


class Redis:
    """A fresh redis-server for one measurement (scripts/start-redis.sh: loopback, free port, AOF
    everysec), with its CPU and INFO commandstats read before and after."""

    def __init__(self, tmp):
        self.env_file = f"{tmp}/redis.env"
        out = subprocess.run([os.path.join(ROOT, "scripts", "start-redis.sh"), "--dir", f"{tmp}/redis",
                              "--env-file", self.env_file], check=True, capture_output=True,
                             text=True).stdout
        env = dict(line.split("=", 1) for line in out.split())
        self.url, self.port, self.pid = env["REDIS_URL"], env["REDIS_PORT"], int(env["REDIS_PID"])

    def commandstats(self):
        """command -> calls, from INFO commandstats."""
        out = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", self.port, "info", "commandstats"],
                             check=True, capture_output=True, text=True).stdout
        calls = {}
        for m in re.finditer(r"^cmdstat_([\w|]+):calls=(\d+),usec=(\d+)", out, re.M):
            calls[m.group(1)] = int(m.group(2))
            calls["usec:" + m.group(1)] = int(m.group(3))
        return calls

    def stop(self):
        subprocess.run([os.path.join(ROOT, "scripts", "stop-redis.sh"), "--env-file", self.env_file],
                       capture_output=True)


class Kafka:
    """One Kafka broker for the whole bench session (scripts/start-kafka.sh; its start takes
    seconds), each measurement on topics and a group of its own (a fresh prefix)."""

    def __init__(self, tmp):
        self.env_file = f"{tmp}/kafka.env"
        out = subprocess.run([os.path.join(ROOT, "scripts", "start-kafka.sh"), "--env-file",
                              self.env_file], check=True, capture_output=True, text=True).stdout
        env = dict(line.split("=", 1) for line in out.split() if "=" in line)
        self.brokers, self.pid = env["KAFKA_BROKERS"], int(env["KAFKA_PID"])
        self.runs = 0

    def args(self):
        """The queue flags of one more measurement (its own topics and group)."""
        self.runs += 1
        return ["--queue", "kafka", "--kafka-brokers", self.brokers, "--kafka-topic-prefix",
                f"bench-{os.getpid()}-{self.runs}"]

    def stop(self):
        subprocess.run([os.path.join(ROOT, "scripts", "stop-kafka.sh"), "--env-file", self.env_file],
                       capture_output=True)


class Postgres:
    """One PostgreSQL server for the whole bench session (scripts/start-postgres.sh, fsync on),
    each measurement on a database of its own. Its CPU: the postmaster's and its children's,
    those that exited (reaped: the postmaster's cutime) and those still running."""

    def __init__(self, tmp):
        self.env_file = f"{tmp}/postgres.env"
        out = subprocess.run([os.path.join(ROOT, "scripts", "start-postgres.sh"), "--env-file",
                              self.env_file], check=True, capture_output=True, text=True).stdout
        env = dict(line.split("=", 1) for line in out.split() if "=" in line)
        self.url, self.pid = env["POSTGRES_URL"], int(env["POSTGRES_PID"])
        self.runs = 0

    def spec(self):
        """The store flag's value for one more measurement: a fresh database."""
        self.runs += 1
        name = f"bench_{os.getpid()}_{self.runs}"
        subprocess.run(["psql", "-X", "-q", "-d", self.url, "-c", f"CREATE DATABASE {name}"],
                       check=True, capture_output=True)
        return self.url.rsplit("/", 1)[0] + "/" + name

    def cpu_s(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total = sum(int(x) for x in fields[11:15]) / CLK_TCK  # utime stime cutime cstime
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.pid:  # a backend, the WAL writer, the checkpointer...
                total += (int(fields[11]) + int(fields[12])) / CLK_TCK
        return total

    def stop(self):
        subprocess.run([os.path.join(ROOT, "scripts", "stop-postgres.sh"), "--env-file",
                        self.env_file], capture_output=True)


class Worker:
    """`sealhook worker` on the serve's store and Redis queue; ready once its /readyz says so."""

    def __init__(self, binary, tmp, i, extra, store=None, env=None):
        self.port = free_port()
        args = [binary, "worker", "--store", store or f"sqlite:{tmp}/store", "--allow-private-networks",
                "--metrics-listen", f"127.0.0.1:{self.port}", "--log-level", "warn",
                "--drain-timeout-ms", "0"] + extra
        self.proc = subprocess.Popen(args, stdout=open(f"{tmp}/worker{i}.out", "w"),
                                     stderr=open(f"{tmp}/worker{i}.err", "w"), env=env)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {i} exited: {open(f'{tmp}/worker{i}.err').read()[-500:]}")
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/readyz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker {i} not ready in 30 s")
            time.sleep(0.05)


class OtlpSink:
    """--otlp-collector: bench/otlp_sink.py on a loopback port for the session (answers 200 to
    POST /v1/traces, counts requests and spans); serve and its workers export to it."""

    def __init__(self, tmp):
        self.out = f"{tmp}/otlp-sink.out"
        self.proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "bench", "otlp_sink.py"),
                                      "--listen", "127.0.0.1:0"],
                                     stdout=open(self.out, "w"), stderr=subprocess.STDOUT)
        self.port = int(wait_for_line(self.out, r"otlp sink listening on port (\d+)", self.proc).group(1))
        self.http = requests.Session()

    def env(self):
        """serve's environment: every span sampled, exported to this sink."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        env.update({"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{self.port}",
                    "OTEL_TRACES_SAMPLER": "always_on", "OTEL_SERVICE_NAME": "sealhook-bench"})
        return env

    def stats(self):
        return self.http.get(f"http://127.0.0.1:{self.port}/stats").json()

    def reset(self):
        self.http.delete(f"http://127.0.0.1:{self.port}/stats").raise_for_status()

    def settle(self, quiet_s=6.0, limit_s=30.0):
        """Waits until no span arrived for quiet_s (longer than the exporter's 5 s batch delay):
        the spans of the window's last batch."""
        last, since, deadline = self.stats()["spans"], time.monotonic(), time.monotonic() + limit_s
        while time.monotonic() - since < quiet_s and time.monotonic() < deadline:
            time.sleep(0.25)
            n = self.stats()["spans"]
            if n != last:
                last, since = n, time.monotonic()
        return self.stats()

    def stop(self):
        stop(self.proc)


def trace_metrics(base):
    """serve's exporter counters (sealhook_trace_spans_*)."""
    out = {}
    for line in requests.get(base + "/metrics").text.splitlines():
        m = re.match(r'sealhook_trace_spans_(exported|dropped)_total(?:\{reason="(\w+)"\})? ([\d.e+]+)$', line)
        if m:
            out[m.group(1) + ("_" + m.group(2) if m.group(2) else "")] = int(float(m.group(3)))
    return out


def queue_args(queue, redis, kafka=None):
    """serve's (and workers') flags for the queue under test."""
    if queue == "redis":
        return ["--queue", "redis", "--redis", redis.url]
    if queue == "kafka":
        return kafka.args()
    return ["--queue", queue] if queue else []


# ---------------------------------------------------------------------------------------------
# onboarding

_local = threading.local()


def session():
    if not hasattr(_local, "s"):
        _local.s = requests.Session()
    return _local.s


def call(method, url, token, body=None, expect=(200, 201, 202)):
    """One API call; a GET answered 429 (serve's --tenant-read-rate) waits its Retry-After."""
    while True:
        r = session().request(method, url, json=body, headers={"Authorization": f"Bearer {token}"})
        if r.status_code != 429 or method != "GET":
            break
        time.sleep(float(r.headers.get("Retry-After", "1")))
    if r.status_code not in expect:
        raise RuntimeError(f"{method} {url}: {r.status_code} {r.text[:300]}")
    return r.json()


def onboard_tenant(base, i, public_jwk, urls):
    t = call("POST", base + "/v1/tenants", ADMIN, {"name": f"bench-{i}"})
    key = t["api_key"]
    call("POST", base + "/v1/keys", key, {"public_key": public_jwk})
    call("PUT", base + "/v1/subscriptions", key, {"event_types": ["*"]})
    secrets = [call("POST", base + "/v1/endpoints", key, {"url": u, **ENDPOINT_EXTRA})["secret"]
               for u in urls]
    return {"id": t["id"], "key": key, "secrets": secrets}


def onboard_noisy(serve, hang_port, public_jwk):
    """A second tenant with NOISY_ENDPOINTS endpoints that accept and never answer, and
    NOISY_EVENTS events published to it, waited for until its attempts are in flight."""
    t = call("POST", serve.base + "/v1/tenants", ADMIN, {"name": "noisy"})
    key = t["api_key"]
    call("POST", serve.base + "/v1/keys", key, {"public_key": public_jwk})
    call("PUT", serve.base + "/v1/subscriptions", key, {"event_types": ["noisy.*"]})
    for j in range(NOISY_ENDPOINTS):
        call("POST", serve.base + "/v1/endpoints", key,
             {"url": f"http://127.0.0.1:{hang_port}/hook/noisy{j}"})
    for i in range(NOISY_EVENTS):
        call("POST", serve.base + "/v1/events", key, {"type": "noisy.x", "payload": {"i": i}})
    # Until the noisy tenant holds all it may: its leased count stops growing.
    leased, since, deadline = -1, time.monotonic(), time.monotonic() + 30
    while time.monotonic() < deadline and time.monotonic() - since < 1.0:
        now = serve.metrics().get("queue_leased") or 0
        if now != leased:
            leased, since = now, time.monotonic()
        time.sleep(0.05)
    log(f"noisy: {NOISY_ENDPOINTS} hanging endpoints, {NOISY_EVENTS * NOISY_ENDPOINTS} deliveries "
        f"queued, {int(leased)} leased")


def create_endpoints_native(tool, base, key, n, url_template, types_template, connections=8):
    """n endpoints of one tenant through POST /v1/endpoints, sent by `sealhook-bench load` over
    keep-alive connections ({k} = 0..n-1 in both templates); much faster than Python for
    thousands. The secrets are not kept (the fast sink checks no signature)."""
    body = json.dumps({"url": url_template, "event_types": [types_template]})
    out = subprocess.run([tool, "load", "--url", base + "/v1/endpoints", "--token", key,
                          "--connections", str(connections), "--events", str(n),
                          "--body-template", body, "--expect-status", "201"],
                         capture_output=True, text=True)
    lines = out.stdout.strip().splitlines()
    summary = json.loads(lines[-1]) if lines else {}
    if summary.get("accepted") != n:
        raise RuntimeError(f"creating {n} endpoints: {summary or out.stderr[-2000:]}")


def map_events(base, tenants):
    """webhook-id -> event_id for every delivery of these tenants (GET /v1/deliveries pages)."""

    def one(tenant):
        out, cursor = {}, None
        while True:
            q = "limit=100" + (f"&cursor={cursor}" if cursor else "")
            page = call("GET", f"{base}/v1/deliveries?{q}", tenant["key"])
            for d in page["data"]:
                out[d["id"]] = d["event_id"]
            cursor = page["next"]
            if not cursor:
                return out

    event_of = {}
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        for part in ex.map(one, tenants):
            event_of.update(part)
    return event_of


# ---------------------------------------------------------------------------------------------
# one measured run

class Pollers:
    """N connections polling GET /v1/deliveries in a loop (a tenant watching its deliveries),
    as a client should: a 429 is waited out for its Retry-After seconds."""

    def __init__(self, n, base, key):
        self.stop_flag, self.count, self.lock = threading.Event(), 0, threading.Lock()
        self.limited = 0  # polls answered 429 (over serve's --tenant-read-rate)
        self.cpu_s = 0.0  # the pollers' own CPU (this machine's cores are shared with serve)
        self.threads = [threading.Thread(target=self._run, args=(base, key), daemon=True)
                        for _ in range(n)]
        for t in self.threads:
            t.start()

    def _run(self, base, key):
        # http.client on one keep-alive connection: a third of requests' CPU per poll, which
        # here comes out of the cores serve runs on (a tenant's poller runs elsewhere).
        host, _, port = base.removeprefix("http://").partition(":")
        conn, t0 = http.client.HTTPConnection(host, int(port), timeout=30), time.thread_time()
        headers = {"Authorization": f"Bearer {key}"}
        while not self.stop_flag.is_set():
            conn.request("GET", "/v1/deliveries?limit=100", headers=headers)
            r = conn.getresponse()
            r.read()
            with self.lock:
                if r.status == 429:
                    self.limited += 1
                else:
                    self.count += 1
            if r.status == 429:
                self.stop_flag.wait(float(r.getheader("Retry-After", "1")))
        conn.close()
        with self.lock:
            self.cpu_s += time.thread_time() - t0

    def stop(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join()
        return self.count


def run_wrk(sink_port, seconds, tmp, body_bytes=1024):
    script = f"{tmp}/post-{body_bytes}.lua"
    with open(script, "w") as f:
        f.write(f'wrk.method = "POST"\nwrk.body = string.rep("x", {body_bytes})\n'
                'wrk.headers["Content-Type"] = "application/jose"\n')
    out = subprocess.run(["wrk", "-t1", "-c32", f"-d{seconds:g}s", "-s", script,
                          f"http://127.0.0.1:{sink_port}/hook/wrk"], capture_output=True, text=True)
    m = re.search(r"Requests/sec:\s*([\d.]+)", out.stdout)
    if not m:
        log("wrk failed:", out.stdout, out.stderr)
        return None
    return float(m.group(1))


def run_load(a, tool, serve, tmp, events, payload_bytes, types_rr=0, records=True):
    """Runs `sealhook-bench load`; returns its summary (plus its CPU) and, with records,
    event_id -> wall-clock ns of its 202. types_rr > 0: event k has type bench.e<k % types_rr>."""
    out = f"{tmp}/load.txt"
    args = [tool, "load", "--url", serve.base + "/v1/events", "--token", ADMIN,
            "--connections", str(a.connections), "--events", str(events),
            "--payload-bytes", str(payload_bytes)]
    args += ["--types-round-robin", str(types_rr)] if types_rr else ["--type", "bench.event"]
    if records:
        args += ["--out", out]
    if a.rate:
        args += ["--rate", str(a.rate)]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    stdout = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    summary = json.loads(stdout.strip().splitlines()[-1])
    summary["cpu_s"] = round(ru.ru_utime + ru.ru_stime, 2)
    published = {}
    if not records:
        return summary, published
    with open(out) as f:
        for line in f:
            eid, answer_ns, _lat, code = line.split()
            if code == "202":
                published[eid] = int(answer_ns)
    return summary, published


def shape(a, scenario, param):
    """What one case onboards and publishes: tenants, live endpoints per tenant, whether a dead
    endpoint is added, events, round-robin event types (endpoint j of the endpoints scenario
    takes only bench.e<j>), deliveries per accepted event, serve flags."""
    if scenario == "endpoints":
        n = param  # 1 tenant, n endpoints, endpoint j takes only bench.e<j>: 1 delivery per event
        return {"tenants": 1, "eps": n, "dead": False, "events": a.events or SWEEPS["endpoints"],
                "types_rr": n, "per_event": 1,
                "serve": ["--max-endpoints-per-tenant", str(n)]}
    tenants_n, eps_n, dead, default_events = SCENARIOS[scenario]
    return {"tenants": tenants_n, "eps": eps_n, "dead": dead, "events": a.events or default_events,
            "types_rr": 0, "per_event": tenants_n * eps_n, "serve": []}


def warm_up(a, serve, fast_sink, per_event, types_rr):
    """A fresh serve's first deliveries are slow (a broker's first produce waits for the new
    topics' leaders, the group's first fetch for its assignment: about a second on kafka), so
    --warmup-events are delivered before the measured window opens, on every queue alike."""
    if not a.warmup_events or types_rr or a.decrypting_sink:
        return
    fast_sink.reset()  # shared by the cases of a session: counted from here
    for i in range(a.warmup_events):
        call("POST", serve.base + "/v1/events", ADMIN, {"type": "bench.event", "payload": {"warmup": i}})
    wait_for_count(fast_sink.count, a.warmup_events * per_event, a.settle_s, "warm-up deliveries arrived")


def measure(a, case, tmp, key_dir, with_dead, tool, fast_sink):
    """Fresh serve, onboarding, load, wait, collect. Returns the summary dict."""
    scenario, payload_bytes, key_type, param = case
    sh = shape(a, scenario, param)
    tenants_n, eps_n, events = sh["tenants"], sh["eps"], sh["events"]
    run_dir = tempfile.mkdtemp(prefix="run-", dir=tmp)
    extra = sh["serve"] + list(a.serve_arg)
    if a.attempt_timeout_ms or scenario == "dead":
        extra += ["--attempt-timeout-ms", str(a.attempt_timeout_ms or 2000)]
    redis = Redis(run_dir) if a.cur_queue == "redis" else None
    qargs = queue_args(a.cur_queue, redis, a.kafka)
    # The queue's server, whose CPU is counted beside sealhook's (redis-server, the broker's JVM).
    server_pid = redis.pid if redis else a.kafka.pid if a.cur_queue == "kafka" else None
    store = a.postgres.spec() if a.cur_store == "postgres" else None
    env = a.otlp.env() if a.otlp else None
    serve = Serve(a.binary, run_dir, extra + qargs, store, env)
    workers = []
    dec = None
    try:
        workers = [Worker(a.binary, run_dir, i, qargs + list(a.worker_arg), store, env)
                   for i in range(a.cur_workers)]
        others = [w.proc.pid for w in workers]  # CPU counted beside serve's
        public_jwk = json.load(open(f"{key_dir}/public.jwk"))
        if a.decrypting_sink:
            rport = free_port()
            live_urls = [f"http://127.0.0.1:{rport}/hook/{j}" for j in range(eps_n)]
        else:
            live_urls = [fast_sink.url(j) for j in range(eps_n)]
        t0, onboarding_cpu0 = time.monotonic(), proc_cpu_s(serve.proc.pid)
        if scenario == "endpoints":  # 1 tenant; its endpoints sent by the native tool
            tenants = [onboard_tenant(serve.base, 0, public_jwk, [])]
            create_endpoints_native(tool, serve.base, tenants[0]["key"], eps_n,
                                    fast_sink.url("{k}"), "bench.e{k}")
        else:
            with concurrent.futures.ThreadPoolExecutor(8 if tenants_n > 1 else 1) as ex:
                tenants = list(ex.map(lambda i: onboard_tenant(serve.base, i, public_jwk, live_urls),
                                      range(tenants_n)))
        warm_up(a, serve, fast_sink, sh["per_event"], sh["types_rr"])
        if with_dead:
            call("POST", serve.base + "/v1/endpoints", tenants[0]["key"],
                 {"url": f"http://127.0.0.1:{fast_sink.hang_port}/hook/dead"})
        if scenario == "noisy":
            onboard_noisy(serve, fast_sink.hang_port, public_jwk)
        onboarding_s = time.monotonic() - t0
        onboarding_serve_cpu_s = proc_cpu_s(serve.proc.pid) - onboarding_cpu0
        if a.decrypting_sink:
            dec = DecryptingSink(a.binary, run_dir, rport, f"{key_dir}/private.jwk",
                                 [s for t in tenants for s in t["secrets"]], a.sink_threads)
        sink = dec or fast_sink
        if not a.decrypting_sink:
            fast_sink.reset()
        otlp_cpu0 = 0
        if a.otlp:
            a.otlp.settle(quiet_s=1.0)  # the warm-up's spans, as far as they are sent by now
            a.otlp.reset()
            otlp_cpu0 = proc_cpu_s(a.otlp.proc.pid)

        if a.wait_quiet:
            wait_quiet(a.wait_quiet)
        perf = None
        if a.perf:
            perf = subprocess.Popen(["perf", "record", "-F", "999", "-g", "-p", str(serve.proc.pid),
                                     "-o", f"{a.perf}.{scenario}{'' if param is None else '-' + str(param)}"
                                           f"{'-dead' if with_dead else ''}"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        cpu0, threads0 = proc_cpu_s(serve.proc.pid), proc_threads_cpu(serve.proc.pid)
        sink_cpu0 = proc_cpu_s(sink.proc.pid)
        workers_cpu0 = sum(proc_cpu_s(pid) for pid in others)
        redis_cpu0 = proc_cpu_s(server_pid) if server_pid else 0
        pg_cpu0 = a.postgres.cpu_s() if store else 0
        cmds0 = redis.commandstats() if redis else {}
        mt0 = machine_ticks()
        log(f"{scenario}{'' if param is None else ' ' + str(param)} {payload_bytes} B {key_type}"
            f"{' +dead' if with_dead else ''}: onboarded {tenants_n} tenant(s) x {eps_n} endpoint(s) "
            f"in {onboarding_s:.1f} s; publishing {events} events")
        pollers = Pollers(a.pollers, serve.base, tenants[0]["key"]) if a.pollers else None
        load, published = run_load(a, tool, serve, run_dir, events, payload_bytes, sh["types_rr"])
        expected = load["accepted"] * sh["per_event"]

        # Wait until the sink has every live delivery, or nothing arrived for --settle-s.
        wait_for_count(sink.count, expected, a.settle_s)
        polls = pollers.stop() if pollers else 0
        cpu1, threads1 = proc_cpu_s(serve.proc.pid), proc_threads_cpu(serve.proc.pid)
        sink_cpu1 = proc_cpu_s(sink.proc.pid)
        workers_cpu = sum(proc_cpu_s(pid) for pid in others) - workers_cpu0
        redis_cpu = proc_cpu_s(server_pid) - redis_cpu0 if server_pid else 0
        pg_cpu = a.postgres.cpu_s() - pg_cpu0 if store else 0
        cmds1 = redis.commandstats() if redis else {}
        mt1 = machine_ticks()
        rss = proc_hwm_mib(serve.proc.pid)
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait()
        metrics = serve.metrics()
        otlp = None
        if a.otlp:
            # the spans that came during the window, then all of them once the exporter's last
            # batch (sent up to 5 s after its first span) is in
            otlp_cpu = proc_cpu_s(a.otlp.proc.pid) - otlp_cpu0
            in_window = a.otlp.stats()["spans"]
            final = a.otlp.settle()
            otlp = {"spans_received": final["spans"], "spans_received_in_window": in_window,
                    "export_requests": final["requests"], "export_bytes": final["bytes"],
                    "collector_cpu_s_in_window": round(otlp_cpu, 2),
                    **{f"serve_spans_{k}": v for k, v in trace_metrics(serve.base).items()}}

        body_bytes = None
        if dec:
            arrivals, event_of = dec.arrivals_and_events()
        else:
            st = fast_sink.stats()
            body_bytes = round(st["webhook_body_bytes"] / st["webhook_posts"]) if st["webhook_posts"] else None
            arrivals = fast_sink.arrivals()
            event_of = map_events(serve.base, tenants)
        e2e = [arrivals[w] - published[e] for w, e in event_of.items() if w in arrivals and e in published]
        delivered = len(arrivals)
        first = load["first_send_ns"]
        last = max(arrivals.values()) if arrivals else first
        window_s = max(1e-9, (last - first) / 1e9)
        busy = 1 - (mt1[1] - mt0[1]) / max(1, mt1[0] - mt0[0])
        busy_cpu_s = ((mt1[0] - mt0[0]) - (mt1[1] - mt0[1])) / CLK_TCK
        threads = sorted(((round(c - threads0.get(t, (n, 0))[1], 2), n) for t, (n, c) in threads1.items()),
                         reverse=True)
        serve_cpu = cpu1 - cpu0
        per = (lambda x: round(x / delivered * 1e6, 1) if delivered else None)
        backend = {"queue": a.cur_queue or "default", "workers": a.cur_workers,
                   "store": a.cur_store}
        if store:
            backend["postgres_cpu_s"] = round(pg_cpu, 2)
            backend["postgres_cpu_us_per_delivery"] = per(pg_cpu)
        if workers:
            backend["workers_cpu_s"] = round(workers_cpu, 2)
            backend["sealhook_cpu_us_per_delivery"] = per(serve_cpu + workers_cpu)
        if redis:
            # the commands the measurement window ran (the onboarding's are before cmds0); the
            # commandstats and this script's INFO calls themselves are left out
            calls = {k: cmds1.get(k, 0) - cmds0.get(k, 0) for k in cmds1}
            usec = {k[5:]: v for k, v in calls.items() if k.startswith("usec:")}
            calls = {k: v for k, v in calls.items()
                     if v > 0 and k not in ("info", "ping") and not k.startswith("usec:")}
            backend["redis_cpu_s"] = round(redis_cpu, 2)
            backend["redis_cpu_us_per_delivery"] = per(redis_cpu)
            backend["redis_commands_per_delivery"] = (round(sum(calls.values()) / delivered, 2)
                                                      if delivered else None)
            # Commands run inside Lua count in commandstats too: the scripts are the round trips.
            scripts = sum(v for k, v in calls.items() if k in ("evalsha", "eval", "fcall"))
            backend["redis_scripts_per_delivery"] = round(scripts / delivered, 2) if delivered else None
            backend["redis_commands"] = dict(sorted(calls.items(), key=lambda kv: -kv[1]))
            # Time Redis reports inside the scripts (commandstats usec of EVALSHA: the script
            # and the commands it runs), per delivery; the rest of its CPU is the event loop,
            # the network and the append-only file.
            script_usec = sum(usec.get(k, 0) for k in ("evalsha", "eval", "fcall"))
            backend["redis_script_us_per_delivery"] = per(script_usec / 1e6)
        if a.cur_queue == "kafka":
            backend["kafka_cpu_s"] = round(redis_cpu, 2)
            backend["kafka_cpu_us_per_delivery"] = per(redis_cpu)
        return {
            **backend,
            "scenario": (f"dead:{'with' if with_dead else 'without'}" if scenario == "dead" else scenario),
            **({"endpoints": eps_n, "event_types_round_robin": sh["types_rr"]}
               if scenario == "endpoints" else {}),
            "tenants": tenants_n, "endpoints_per_tenant": eps_n + (1 if with_dead else 0),
            "payload_bytes": payload_bytes, "key": key_type,
            "sink": "decrypting" if dec else "fast",
            "events": events, "connections": load["connections"], "rate": a.rate or None,
            "accepted": load["accepted"], "non_202": load["non_202"] + load["transport_errors"],
            "events_per_s_accepted": round(load["accepted_per_s"], 1),
            "publish_ms": {k: load["publish_ms"][k] for k in ("p50", "p99")},
            "expected_deliveries": expected, "delivered": delivered,
            "deliveries_per_s": round(delivered / window_s, 1),
            "publish_to_delivery_ms": {"p50": ms(pct(e2e, 50)), "p90": ms(pct(e2e, 90)),
                                       "p99": ms(pct(e2e, 99)), "max": ms(max(e2e) if e2e else None)},
            "latency_samples": len(e2e), "delivery_body_bytes": body_bytes,
            "serve_cpu_s": round(serve_cpu, 2),
            "serve_cpu_us_per_delivery": round(serve_cpu / delivered * 1e6, 1) if delivered else None,
            "serve_peak_rss_mib": round(rss, 1),
            "serve_threads_cpu_s": [c for c, _ in threads if c > 0.0],
            "machine_busy_pct": round(100 * busy, 1),
            "load_cpu_s": load["cpu_s"], "sink_cpu_s": round(sink_cpu1 - sink_cpu0, 2),
            # busy CPU of the whole machine not spent in serve, workers, redis, load or sink: other processes
            # (a concurrent build skews every figure) plus this script.
            "other_cpu_s": round(busy_cpu_s - serve_cpu - workers_cpu - redis_cpu - pg_cpu - load["cpu_s"]
                                 - (sink_cpu1 - sink_cpu0), 2),
            "window_s": round(window_s, 3), "onboarding_s": round(onboarding_s, 2),
            **({"pollers": a.pollers, "polls_per_s": round(polls / window_s, 1),
                "pollers_cpu_s": round(pollers.cpu_s, 2),
                "polls_limited": pollers.limited} if a.pollers else {}),
            "onboarding_serve_cpu_s": round(onboarding_serve_cpu_s, 2),
            "serve_metrics": {k: metrics.get(k) for k in ("attempts_started_total", "deliveries_total_delivered",
                                                          "deliveries_total_retried",
                                                          "deliveries_total_dead", "queue_depth")},
            **({"otlp_collector": otlp} if otlp else {}),
            **({"publish_from_due_ms": load["publish_from_due_ms"]} if "publish_from_due_ms" in load else {}),
            **({"load_first_error": load["first_error"]} if "first_error" in load else {}),
        }
    finally:
        for w in workers:
            stop(w.proc)
        stop(serve.proc)
        if redis:
            redis.stop()
        if dec:
            stop(dec.proc)
        if not a.keep_tmp:
            shutil.rmtree(run_dir, ignore_errors=True)


def wait_serve_idle(pid, limit_s, busy_s=0.05, step_s=0.5):
    """Waits (up to limit_s) for a step_s interval in which serve uses < busy_s CPU seconds
    (its write-behind journal has caught up); returns the time waited."""
    t0 = time.monotonic()
    c0 = proc_cpu_s(pid)
    while time.monotonic() - t0 < limit_s:
        time.sleep(step_s)
        c1 = proc_cpu_s(pid)
        if c1 - c0 < busy_s:
            break
        c0 = c1
    return time.monotonic() - t0


def measure_backlog(a, case, tmp, key_dir, tool, fast_sink):
    """1 tenant x 1 endpoint on the fast sink, paused: publish B events, wait until serve's
    queue holds all B deliveries, read serve's RSS; resume the sink and time the drain."""
    scenario, payload_bytes, key_type, backlog = case
    run_dir = tempfile.mkdtemp(prefix="run-", dir=tmp)
    # The held attempts must not time out while the backlog builds up (publishing 1M events takes
    # minutes): the longest attempt deadline serve accepts, unless --attempt-timeout-ms says
    # otherwise. The harness's --queue-capacity (10M) already exceeds any sensible B.
    extra = ["--queue-capacity", str(max(10_000_000, backlog + 10_000)),
             "--attempt-timeout-ms", str(a.attempt_timeout_ms or 600_000)] + list(a.serve_arg)
    extra += queue_args(a.cur_queue, None)  # memory or sqlite (main() refuses redis here)
    serve = Serve(a.binary, run_dir, extra, env=a.otlp.env() if a.otlp else None)
    pid = serve.proc.pid
    try:
        public_jwk = json.load(open(f"{key_dir}/public.jwk"))
        t0 = time.monotonic()
        onboard_tenant(serve.base, 0, public_jwk, [fast_sink.url(0)])
        onboarding_s = time.monotonic() - t0
        fast_sink.reset()
        fast_sink.pause()
        wait_serve_idle(pid, 5)
        rss0, _ = proc_mem_kib(pid)
        if a.wait_quiet:
            wait_quiet(a.wait_quiet)
        log(f"backlog {backlog} {payload_bytes} B {key_type}: sink paused, RSS {rss0 / 1024:.1f} MiB; "
            f"publishing {backlog} events")
        pub_cpu0 = proc_cpu_s(pid)
        load, _ = run_load(a, tool, serve, run_dir, backlog, payload_bytes, records=False)
        accepted = load["accepted"]
        if load["non_202"] or load["transport_errors"]:
            log(f"publish: {load['non_202']} non-202, {load['transport_errors']} transport errors: "
                f"{load.get('first_error')}")

        # Wait until every accepted event's delivery is in serve's queue (depth counts waiting,
        # scheduled and leased deliveries), then until serve is idle (journal caught up).
        t_pub_end = time.monotonic()
        depth = wait_for_count(lambda: int(serve.metrics().get("queue_depth", 0)), accepted,
                               a.settle_s, "queued (queue depth)", step_s=0.1)
        settle_s = wait_serve_idle(pid, 60)
        backlog_wait_s = time.monotonic() - t_pub_end
        publish_serve_cpu_s = proc_cpu_s(pid) - pub_cpu0
        rss1, hwm1 = proc_mem_kib(pid)
        held = fast_sink.stats()["held"]
        log(f"backlog {backlog}: queue depth {depth}, {held} held at the sink, "
            f"RSS {rss1 / 1024:.1f} MiB (peak {hwm1 / 1024:.1f}); resuming the sink")
        restart = {}
        if a.kill_restart:
            # A durable queue's restart: SIGKILL with the backlog queued, start again on the
            # same data directory, time until it serves; the drain below is the new process's.
            serve.proc.send_signal(signal.SIGKILL)
            serve.proc.wait()
            t_restart = time.monotonic()
            serve = Serve(a.binary, run_dir, extra, env=a.otlp.env() if a.otlp else None)
            pid = serve.proc.pid
            restart["restart_s"] = round(time.monotonic() - t_restart, 2)
            restart["queue_depth_after_restart"] = int(serve.metrics().get("queue_depth", 0))
            restart["rss_mib_after_restart"] = round(proc_mem_kib(pid)[0] / 1024, 1)
            log(f"backlog {backlog}: killed and restarted in {restart['restart_s']} s, "
                f"queue depth {restart['queue_depth_after_restart']}, "
                f"RSS {restart['rss_mib_after_restart']} MiB")

        if a.wait_quiet:
            wait_quiet(a.wait_quiet)
        perf = None
        if a.perf:
            perf = subprocess.Popen(["perf", "record", "-F", "999", "-g", "-p", str(pid),
                                     "-o", f"{a.perf}.backlog-{backlog}"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        cpu0, threads0 = proc_cpu_s(pid), proc_threads_cpu(pid)
        sink_cpu0 = proc_cpu_s(fast_sink.proc.pid)
        mt0 = machine_ticks()
        resume_ns = time.time_ns()
        fast_sink.resume()

        # Wait until the sink has every delivery and serve's queue is empty.
        wait_for_count(fast_sink.count, accepted, a.settle_s)
        deadline = time.monotonic() + 10
        while int(serve.metrics().get("queue_depth", 0)) > 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        cpu1, threads1 = proc_cpu_s(pid), proc_threads_cpu(pid)
        sink_cpu1 = proc_cpu_s(fast_sink.proc.pid)
        mt1 = machine_ticks()
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait()
        rss_end, hwm2 = proc_mem_kib(pid)
        # serve returns freed memory to the system every 10 s: the lowest RSS seen in the 12 s
        # after the drain (sooner once back within 64 MiB of the RSS before publishing).
        rss2, deadline = rss_end, time.monotonic() + 12
        while rss2 > rss0 + 64 * 1024 and time.monotonic() < deadline:
            time.sleep(0.5)
            rss2 = min(rss2, proc_mem_kib(pid)[0])
        metrics = serve.metrics()
        st = fast_sink.stats()
        delivered = st["count"]
        drain_s = max(1e-9, (st["last_ns"] - resume_ns) / 1e9) if delivered else None
        busy = 1 - (mt1[1] - mt0[1]) / max(1, mt1[0] - mt0[0])
        busy_cpu_s = ((mt1[0] - mt0[0]) - (mt1[1] - mt0[1])) / CLK_TCK
        threads = sorted(((round(c - threads0.get(t, (n, 0))[1], 2), n) for t, (n, c) in threads1.items()),
                         reverse=True)
        serve_cpu = cpu1 - cpu0
        sink_cpu = sink_cpu1 - sink_cpu0
        return {
            "queue": a.cur_queue or "default",
            "scenario": "backlog", "backlog": backlog,
            "tenants": 1, "endpoints_per_tenant": 1,
            "payload_bytes": payload_bytes, "key": key_type, "sink": "fast",
            "events": backlog, "connections": load["connections"], "rate": a.rate or None,
            "accepted": accepted, "non_202": load["non_202"] + load["transport_errors"],
            "events_per_s_accepted": round(load["accepted_per_s"], 1),
            "publish_ms": {k: load["publish_ms"][k] for k in ("p50", "p99")},
            "publish_s": round(load["elapsed_s"], 2),
            "publish_serve_cpu_s": round(publish_serve_cpu_s, 2),
            "queue_depth_at_backlog": depth, "held_at_sink": held,
            "backlog_wait_s": round(backlog_wait_s, 2), "idle_wait_s": round(settle_s, 2),
            "rss_mib_before_publish": round(rss0 / 1024, 1),
            "rss_mib_at_backlog": round(rss1 / 1024, 1),
            "hwm_mib_at_backlog": round(hwm1 / 1024, 1),
            "rss_bytes_per_queued_delivery": round((rss1 - rss0) * 1024 / accepted) if accepted else None,
            **restart,
            "expected_deliveries": accepted, "delivered": delivered,
            "deliveries_per_s": round(delivered / drain_s, 1) if delivered else 0.0,
            "drain_s": round(drain_s, 3) if drain_s else None,
            "delivery_body_bytes": round(st["webhook_body_bytes"] / st["webhook_posts"])
            if st["webhook_posts"] else None,
            "serve_cpu_s": round(serve_cpu, 2),
            "serve_cpu_us_per_delivery": round(serve_cpu / delivered * 1e6, 1) if delivered else None,
            "serve_threads_cpu_s": [c for c, _ in threads if c > 0.0],
            "serve_peak_rss_mib": round(hwm2 / 1024, 1),
            "rss_mib_at_drain_end": round(rss_end / 1024, 1),
            "rss_mib_after_drain": round(rss2 / 1024, 1),
            "machine_busy_pct": round(100 * busy, 1),
            "load_cpu_s": load["cpu_s"], "sink_cpu_s": round(sink_cpu, 2),
            "other_cpu_s": round(busy_cpu_s - serve_cpu - sink_cpu, 2),
            "onboarding_s": round(onboarding_s, 2),
            "serve_metrics": {k: metrics.get(k) for k in ("attempts_started_total", "deliveries_total_delivered",
                                                          "deliveries_total_retried",
                                                          "deliveries_total_dead", "queue_depth")},
            **({"load_first_error": load["first_error"]} if "first_error" in load else {}),
        }
    finally:
        stop(serve.proc)
        try:
            fast_sink.resume()  # never leave the shared sink paused (e.g. after an error)
        except requests.RequestException:
            pass
        if not a.keep_tmp:
            shutil.rmtree(run_dir, ignore_errors=True)


def one_run(a, case, tmp, key_dir, tool):
    scenario, payload_bytes, _, param = case
    if scenario == "backlog":
        expect = param
        dead = False
    else:
        sh = shape(a, scenario, param)
        expect, dead = sh["per_event"] * sh["events"], sh["dead"]
    fast_sink = FastSink(tool, tmp, a.sink_threads, expect)
    try:
        if scenario == "backlog":
            result = ref = measure_backlog(a, case, tmp, key_dir, tool, fast_sink)
        elif dead:
            without = measure(a, case, tmp, key_dir, False, tool, fast_sink)
            with_ = measure(a, case, tmp, key_dir, True, tool, fast_sink)
            result = {"scenario": "dead", "without_dead": without, "with_dead": with_,
                      "live_deliveries_per_s_with_vs_without":
                          round(with_["deliveries_per_s"] / without["deliveries_per_s"], 3)
                          if without["deliveries_per_s"] else None}
            ref = with_
        else:
            result = ref = measure(a, case, tmp, key_dir, False, tool, fast_sink)
        if a.ceiling_s > 0:
            ceiling = run_wrk(fast_sink.port, a.ceiling_s, tmp)
            result["wrk_ceiling_rps"] = ceiling
            result["deliveries_vs_ceiling"] = round(ref["deliveries_per_s"] / ceiling, 3) if ceiling else None
            size = ref.get("delivery_body_bytes")
            if size and size > 4096:  # large deliveries: also a ceiling with bodies of their size
                same = run_wrk(fast_sink.port, a.ceiling_s, tmp, size)
                result["wrk_ceiling_same_size_rps"] = same
                result["deliveries_vs_same_size_ceiling"] = round(ref["deliveries_per_s"] / same, 3) if same else None
        return result
    finally:
        stop(fast_sink.proc)


def median_of(runs):
    """Median of every numeric leaf; other leaves from the first run."""
    first = runs[0]
    if isinstance(first, dict):
        return {k: median_of([r.get(k) for r in runs]) for k in first}
    if isinstance(first, bool) or not isinstance(first, (int, float)):
        return first
    vals = [v for v in runs if isinstance(v, (int, float))]
    if all(v == vals[0] for v in vals):  # e.g. the configuration (endpoints, backlog): as is
        return vals[0]
    m = statistics.median(vals)
    return round(m, 3) if isinstance(m, float) else m


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenario", default="one",
                   help="one, fifty, fanout1000, dead, endpoints, backlog, or all (= one, fifty, "
                        "fanout1000, dead); comma-separated for several")
    p.add_argument("--payload-bytes", default="1024", help="e.g. 256,1024,65536")
    p.add_argument("--key-type", default="rsa", help="rsa (2048), rsa4096, x25519; comma-separated")
    p.add_argument("--events", type=int, default=0,
                   help="events per run (default per scenario: one 20000, fifty 1000, "
                        "fanout1000 100, dead 20000, endpoints 20000; backlog publishes B)")
    p.add_argument("--endpoints", default="1,100,10000",
                   help="endpoints scenario: endpoint counts, comma-separated (one run each)")
    p.add_argument("--backlog", default="1000,1000000",
                   help="backlog scenario: queued deliveries B, comma-separated (one run each)")
    p.add_argument("--connections", "--concurrency", type=int, default=32, help="keep-alive publish connections")
    p.add_argument("--rate", type=float, default=0, help="events/s overall (default: as fast as possible)")
    p.add_argument("--kill-restart", action="store_true",
                   help="backlog scenario: SIGKILL serve with the backlog queued, restart it on the "
                        "same data directory (timed), then drain")
    p.add_argument("--pollers", type=int, default=0,
                   help="connections polling GET /v1/deliveries in a loop during the measurement")
    p.add_argument("--warmup-events", type=int, default=50,
                   help="events delivered after onboarding, before the measured window (0: none)")
    p.add_argument("--runs", type=int, default=1, help="repeat each case and also print the medians")
    p.add_argument("--decrypting-sink", action="store_true",
                   help="deliver to `sealhook receive` (verify + decrypt) instead of the fast sink")
    p.add_argument("--sink-threads", type=int, default=1, help="threads of the sink (either kind)")
    p.add_argument("--ceiling-s", type=float, default=5, help="wrk duration; 0 skips the ceiling")
    p.add_argument("--attempt-timeout-ms", type=int, default=0,
                   help="serve's --attempt-timeout-ms (default: serve's own; 2000 in the dead scenario)")
    p.add_argument("--settle-s", type=float, default=30,
                   help="stop waiting for deliveries after this long without progress")
    p.add_argument("--serve-arg", action="append", default=[],
                   help="extra flag for serve, e.g. --serve-arg=--io-threads=4 (repeatable)")
    p.add_argument("--wait-quiet", type=float, default=0, metavar="S",
                   help="before each measurement, wait up to S s for the machine to be < 15 %% busy")
    p.add_argument("--perf", metavar="PREFIX",
                   help="record `perf record -g` of serve during each measurement to PREFIX.<scenario>")
    p.add_argument("--json-out", help="also append every summary line to this file")
    p.add_argument("--keep-tmp", action="store_true", help="keep the temp directory (logs, stores)")
    p.add_argument("--queue", default="",
                   help="serve's --queue: memory, sqlite, redis (a fresh redis-server per run, from "
                        "scripts/start-redis.sh), kafka (one broker for the session, from "
                        "scripts/start-kafka.sh; topics of their own per run); comma-separated to "
                        "compare them in one session "
                        "(default: serve's default)")
    p.add_argument("--store", default="sqlite",
                   help="the store of serve and its workers: sqlite (a file in the run's "
                        "directory), postgres (one server for the session, from "
                        "scripts/start-postgres.sh, a database of its own per run); "
                        "comma-separated to compare them in one session")
    p.add_argument("--workers", default="0",
                   help="with --queue redis or kafka: `sealhook worker` processes beside serve, on "
                        "its store and queue; comma-separated counts (e.g. 0,1,2), one run each")
    p.add_argument("--worker-arg", action="append", default=[],
                   help="extra flag for each worker (repeatable)")
    p.add_argument("--otlp-collector", action="store_true",
                   help="trace every delivery: serve (and workers) export OTLP/HTTP to a loopback "
                        "sink (bench/otlp_sink.py) with OTEL_TRACES_SAMPLER=always_on; the summary "
                        "reports the spans it received")
    p.add_argument("--endpoint-json", default="",
                   help="a JSON object merged into every endpoint of the measured tenants, e.g. "
                        "'{\"rate_limit\": {\"per_second\": 1000000, \"burst\": 1000000}}'")
    p.add_argument("--binary", default=os.path.join(ROOT, "build", "sealhook"))
    p.add_argument("--tool", default=os.path.join(ROOT, "build", "sealhook-bench"))
    a = p.parse_args()

    if a.endpoint_json:
        try:
            ENDPOINT_EXTRA.update(json.loads(a.endpoint_json))
        except (ValueError, TypeError, AttributeError) as e:
            p.error(f"--endpoint-json must be a JSON object: {e}")
    scenarios = list(SCENARIOS) if a.scenario == "all" else a.scenario.split(",")
    keys = a.key_type.split(",")
    payloads = [int(x) for x in a.payload_bytes.split(",")]
    params = {"endpoints": [int(x) for x in a.endpoints.split(",")],
              "backlog": [int(x) for x in a.backlog.split(",")]}
    for s in scenarios:
        if s not in SCENARIOS and s not in SWEEPS:
            p.error(f"unknown scenario {s!r}")
        if s in SWEEPS and a.decrypting_sink:
            p.error(f"--decrypting-sink is not supported by the {s} scenario")
    if any(n < 1 or n > 100_000 for n in params["endpoints"]):
        p.error("--endpoints: each count must be 1..100000 (serve's --max-endpoints-per-tenant bound)")
    if any(b < 1 for b in params["backlog"]):
        p.error("--backlog: each B must be at least 1")
    if "backlog" in scenarios and a.rate:
        log("note: --rate also paces the backlog scenario's publishing")
    queues = a.queue.split(",") if a.queue else [""]
    worker_counts = [int(x) for x in a.workers.split(",")]
    for q in queues:
        if q not in ("", "memory", "sqlite", "redis", "kafka"):
            p.error(f"unknown queue {q!r} (memory, sqlite, redis, kafka)")
    if any(w < 0 or w > 16 for w in worker_counts):
        p.error("--workers: each count must be 0..16")
    stores = a.store.split(",")
    for st in stores:
        if st not in ("sqlite", "postgres"):
            p.error(f"unknown store {st!r} (sqlite, postgres)")
    if "postgres" in stores and "backlog" in scenarios:
        p.error("the backlog scenario does not support --store postgres")
    if ("redis" in queues or "kafka" in queues) and "backlog" in scenarios:
        p.error("the backlog scenario does not support --queue redis or kafka")
    if "redis" in queues and not shutil.which("redis-server"):
        p.error("redis-server is not installed (scripts/install-deps.sh)")
    for k in keys:
        if k not in KEYS:
            p.error(f"unknown key type {k!r}")
    for path in (a.binary, a.tool):
        if not os.access(path, os.X_OK):
            p.error(f"{path} is missing: run bench/run (it builds both), or pass --binary/--tool")
    if a.ceiling_s > 0 and not shutil.which("wrk"):
        p.error("wrk is not installed (apt-get install wrk), or pass --ceiling-s 0")

    tmp = tempfile.mkdtemp(prefix="sealhook-bench-")
    a.kafka = a.postgres = a.otlp = None  # started below when a kafka or postgres run is asked for
    out_file = open(a.json_out, "a") if a.json_out else None

    def emit(obj):
        line = json.dumps(obj)
        print(line, flush=True)
        if out_file:
            out_file.write(line + "\n")
            out_file.flush()

    try:
        key_dirs = {}
        for k in keys:
            key_dirs[k] = f"{tmp}/keys-{k}"
            subprocess.run([a.binary, "keygen", *KEYS[k], "--out", key_dirs[k]], check=True,
                           capture_output=True)
        cases = [(s, pb, k, param) for s in scenarios for pb in payloads for k in keys
                 for param in params.get(s, [None])]
        # Workers only share a Redis or Kafka queue: with another only the 0-worker run is made.
        backends = [(q, w, st) for q in queues for w in worker_counts for st in stores
                    if w == 0 or q in ("redis", "kafka")]
        a.kafka = Kafka(tmp) if "kafka" in queues else None
        a.postgres = Postgres(tmp) if "postgres" in stores else None
        a.otlp = OtlpSink(tmp) if a.otlp_collector else None
        for case in cases:
            # The backends of one case run one after the other, so that their figures come from
            # the same minutes of the machine (each run first, then the next repeat).
            results = {b: [] for b in backends}
            for i in range(a.runs):
                for b in backends:
                    a.cur_queue, a.cur_workers, a.cur_store = b
                    r = one_run(a, case, tmp, key_dirs[case[2]], a.tool)
                    if a.runs > 1:
                        r = {"run": i + 1, **r}
                    results[b].append(r)
                    emit(r)
            if a.runs > 1:
                for b in backends:
                    med = median_of(results[b])
                    med.pop("run", None)
                    emit({"median_of": a.runs, **med})
    finally:
        if a.kafka:
            a.kafka.stop()
        if a.postgres:
            a.postgres.stop()
        if a.otlp:
            a.otlp.stop()
        if not a.keep_tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log("kept", tmp)


if __name__ == "__main__":
    main()
