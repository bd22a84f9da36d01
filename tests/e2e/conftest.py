"""Fixtures that run the real binary: `sealhook serve` and `sealhook receive` on loopback,
a real SQLite store in a temp dir, real HTTP. No mocks."""
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ADMIN = "e2e-admin-token-0123456789abcdef"


def pytest_addoption(parser):
    parser.addoption("--sealhook", default=os.path.join(ROOT, "build", "sealhook"))


@pytest.fixture(scope="session")
def binary(request):
    path = request.config.getoption("--sealhook")
    assert os.access(path, os.X_OK), f"build sealhook first: {path}"
    return path


class Proc:
    """A child process whose stdout and stderr lines are collected by threads."""

    def __init__(self, args, env=None, cwd=None):
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=env, cwd=cwd)
        self.out_lines, self.err_lines = [], []
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.pumps = [threading.Thread(target=self._pump, args=(stream, lines), daemon=True)
                      for stream, lines in ((self.p.stdout, self.out_lines),
                                            (self.p.stderr, self.err_lines))]
        for t in self.pumps:
            t.start()

    def _pump(self, stream, lines):
        for line in stream:
            with self.cond:
                lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, predicate, timeout=30, what="condition"):
        """Waits until predicate(self) is true (re-checked on every new output line)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate(self):
                left = deadline - time.monotonic()
                # Exited, and every line it wrote read (the pumps lag behind the exit).
                ended = self.p.poll() is not None and not any(t.is_alive() for t in self.pumps)
                if left <= 0 or (ended and not predicate(self)):
                    raise AssertionError(f"no {what} (exit {self.p.poll()}); stdout={self.out_lines[-5:]} "
                                         f"stderr={self.err_lines[-5:]}")
                self.cond.wait(min(left, 0.5))

    def wait_line(self, regex, stream="out", timeout=30):
        pat = re.compile(regex)
        found = []

        def pred(s):
            for line in (s.out_lines if stream == "out" else s.err_lines):
                m = pat.search(line)
                if m:
                    found.append(m)
                    return True
            return False

        self.wait_for(pred, timeout, f"/{regex}/ on {stream}")
        return found[0]

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.drain_output()
        return self.p.returncode

    def drain_output(self, timeout=10):
        """After the exit: waits until the pumps have read every line the process wrote."""
        for t in self.pumps:
            t.join(timeout)


class Server:
    def __init__(self, proc, port, store):
        self.proc, self.port, self.store = proc, port, store
        self.base = f"http://127.0.0.1:{port}"
        self.http = requests.Session()

    def call(self, method, path, token=ADMIN, body=None, raw=None, headers=None, wait_429=True):
        """One request; a GET answered 429 (over --tenant-read-rate) is made again after its
        Retry-After, as a client should, unless wait_429 is False."""
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        for _ in range(60):
            r = self.http.request(method, self.base + path, data=data, headers=h, timeout=30)
            if r.status_code != 429 or method != "GET" or not wait_429:
                return r
            time.sleep(float(r.headers["Retry-After"]))
        return r

    def ok(self, method, path, token=ADMIN, body=None, status=None):
        r = self.call(method, path, token, body)
        assert r.status_code < 300, (method, path, r.status_code, r.text)
        if status:
            assert r.status_code == status, (r.status_code, r.text)
        return r.json() if r.content else None

    def onboard(self, name, key_dir, url, event_types=("*",), **endpoint):
        """The whole tenant flow through the API only."""
        tenant = self.ok("POST", "/v1/tenants", body={"name": name}, status=201)
        key = tenant["api_key"]
        with open(os.path.join(key_dir, "public.jwk")) as f:
            jwk = json.load(f)
        uploaded = self.ok("POST", "/v1/keys", key, {"public_key": jwk}, status=201)
        self.ok("PUT", "/v1/subscriptions", key, {"event_types": list(event_types)})
        ep = self.ok("POST", "/v1/endpoints", key, {"url": url, **endpoint}, status=201)
        return {"tenant": tenant, "api_key": key, "kid": uploaded["kid"], "endpoint": ep}

    def metrics(self):
        """The Prometheus text as {name{labels}: value}."""
        out = {}
        for line in self.call("GET", "/metrics", token=None).text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out

    def wait_list(self, api_key, query, count, timeout=60):
        """Polls a delivery list until it holds `count` rows (the ack lands after the receipt)."""
        deadline = time.monotonic() + timeout
        while True:
            page = self.ok("GET", "/v1/deliveries?" + query, api_key)
            if len(page["data"]) >= count:
                return page
            assert time.monotonic() < deadline, f"{query}: {len(page['data'])} of {count}"
            time.sleep(0.05)

    def wait_status(self, api_key, delivery_id, status, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            d = self.ok("GET", f"/v1/deliveries/{delivery_id}", api_key)
            if d["status"] == status:
                return d
            assert time.monotonic() < deadline, f"delivery never became {status}: {d}"
            time.sleep(0.05)


@pytest.fixture
def start_server(binary, tmp_path):
    procs = []

    def start(*extra, env=None, private=True, store=None, cwd=None):
        store = store or f"sqlite:{tmp_path}/data{len(procs)}"
        args = [binary, "serve", "--listen", "127.0.0.1:0", "--store", store,
                "--admin-token", ADMIN, "--retry-base-ms", "50", "--retry-max-delay-ms", "400",
                "--attempt-timeout-ms", "5000", *extra]
        if private:
            args.append("--allow-private-networks")
        proc = Proc(args, env=env, cwd=cwd)
        procs.append(proc)
        m = proc.wait_line(r"listening on [\d.]+:(\d+)")
        return Server(proc, int(m.group(1)), store)

    yield start
    for p in procs:
        p.stop()


@pytest.fixture
def keygen(binary, tmp_path):
    def make(name, kind="rsa", bits=2048):
        d = tmp_path / f"keys-{name}"
        subprocess.run([binary, "keygen", "--type", kind, "--bits", str(bits), "--out", str(d)],
                       check=True, capture_output=True)
        return str(d)
    return make


class HangingReceiver:
    """Accepts connections, reads, never answers; counts the connections."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.accepted = 0
        self.conns = []
        self.cond = threading.Condition()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.cond:
                self.accepted += 1
                self.conns.append(c)
                self.cond.notify_all()

    def wait_accepted(self, n, timeout=30):
        with self.cond:
            assert self.cond.wait_for(lambda: self.accepted >= n, timeout), self.accepted

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


class Receiver:
    def __init__(self, proc, port, secret_file):
        self.proc, self.port, self.secret_file = proc, port, secret_file
        self.url = f"http://127.0.0.1:{port}/hook"

    def set_secret(self, secret):
        tmp = self.secret_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(secret + "\n")
        os.replace(tmp, self.secret_file)

    def events(self):
        with self.proc.lock:
            return [json.loads(line) for line in self.proc.out_lines if line.startswith("{")]

    def wait_count(self, n, timeout=60):
        self.proc.wait_for(lambda p: sum(1 for l in p.out_lines if l.startswith("{")) >= n,
                           timeout, f"{n} events")
        return self.events()


@pytest.fixture
def start_receiver(binary, tmp_path):
    procs = []

    def start(key_dir, *extra):
        secret_file = str(tmp_path / f"secret-{len(procs)}")
        args = [binary, "receive", "--listen", "127.0.0.1:0", "--key",
                os.path.join(key_dir, "private.jwk"), "--secret-file", secret_file, *extra]
        proc = Proc(args)
        procs.append(proc)
        m = proc.wait_line(r"listening on port (\d+)", stream="err")
        return Receiver(proc, int(m.group(1)), secret_file)

    yield start
    for p in procs:
        p.stop()


def _env_assignments(path):
    """The `export NAME=VALUE` (or `NAME=VALUE`) lines of a start script's env file, as a dict."""
    out = {}
    with open(path) as f:
        for line in f:
            name, _, value = line.strip().removeprefix("export ").partition("=")
            if value:
                out[name] = value
    return out


def _shared_service(tmp_path_factory, name, key):
    """What the test service `name` is reached at (the `key` line of its env file), one for the
    whole run, shared: SEALHOOK_TEST_<NAME>, else the env file of the ctest fixture `name`
    (SEALHOOK_TEST_<NAME>_ENV), else one of its own (scripts/start-NAME.sh), started on first use
    and stopped at the end. A generator, for a session fixture to yield from."""
    upper = name.upper()
    if os.environ.get(f"SEALHOOK_TEST_{upper}"):
        yield os.environ[f"SEALHOOK_TEST_{upper}"]
        return
    shared = os.environ.get(f"SEALHOOK_TEST_{upper}_ENV")
    if shared and os.path.exists(shared):
        yield _env_assignments(shared)[key]
        return
    env_file = str(tmp_path_factory.mktemp(name) / f"{name}.env")
    subprocess.run([os.path.join(ROOT, "scripts", f"start-{name}.sh"), "--env-file", env_file],
                   check=True, capture_output=True, text=True)
    try:
        yield _env_assignments(env_file)[key]
    finally:
        subprocess.run([os.path.join(ROOT, "scripts", f"stop-{name}.sh"), "--env-file", env_file],
                       check=True, capture_output=True)


@pytest.fixture(scope="session")
def kafka_brokers(tmp_path_factory):
    """The test Kafka broker's bootstrap address (HOST:PORT), shared (_shared_service). Tests
    that use it keep to topics and groups of their own names."""
    yield from _shared_service(tmp_path_factory, "kafka", "KAFKA_BROKERS")


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    """The test PostgreSQL server's URL (postgres://USER@HOST:PORT/DB), shared
    (_shared_service). Tests that use it make databases of their own (postgres_database)."""
    yield from _shared_service(tmp_path_factory, "postgres", "POSTGRES_URL")


def with_database(url, name):
    """`url` naming the database `name` instead of its own (or of none)."""
    authority = url.find("://") + 3
    query = url.find("?", authority)
    end = len(url) if query < 0 else query
    path = url.find("/", authority, end)
    if path < 0:
        return url[:end] + "/" + name + url[end:]
    return url[:path + 1] + name + url[end:]


_databases = itertools.count()


@pytest.fixture
def postgres_database(postgres_server):
    """A fresh database on the test server, dropped after the test: returns make(), which makes
    one more and gives its URL."""
    made = []

    def psql(sql):
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", postgres_server,
                        "-c", sql], check=True, capture_output=True, text=True)

    def make():
        name = f"sealhook_e2e_{os.getpid()}_{next(_databases)}"
        psql(f"CREATE DATABASE {name}")
        made.append(name)
        return with_database(postgres_server, name)

    yield make
    for name in made:
        # FORCE: a process of the test that is still connected does not keep it.
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgres"])
def shared_store(request, tmp_path):
    """A store every process of a test opens, once per store: one SQLite file, and a database of
    the test's own on the test PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:{tmp_path}/shared.db"
    return request.getfixturevalue("postgres_database")()
