"""Two `serve` processes on one redis-server and one SQLite store: an ordered endpoint keeps
publish order under a 20 %-failing receiver, a dead endpoint does not slow a healthy one, and
--max-inflight-per-endpoint holds across the processes. Everything is onboarded before the
second serve starts (it loads the catalog from the shared store)."""
import http.server
import threading
import time

from redis_faults import publish, redis_serve_args, redis_server  # noqa: F401


def shared_pair(start_server, redis, tmp_path, onboard_fn, *extra, a_extra=()):
    store = f"sqlite:{tmp_path}/shared"
    args = redis_serve_args(redis.url, "--retry-base-ms", "50", "--retry-max-delay-ms", "200",
                            *extra)
    a = start_server(*args, "--redis-owner", "serve-a", *a_extra, store=store)
    state = onboard_fn(a)
    b = start_server(*args, "--redis-owner", "serve-b", store=store)
    return a, b, state


def add_endpoint(srv, tenant, url, **endpoint):
    return srv.ok("POST", "/v1/endpoints", tenant["api_key"], {"url": url, **endpoint},
                  status=201)


def delivered_by(srv):
    return srv.metrics()['sealhook_deliveries_total{outcome="delivered"}']


def seen_after(rx, before, deadline_s=10):
    """Seconds until the receiver has more than `before` events."""
    t0 = time.monotonic()
    while len(rx.events()) <= before:
        assert time.monotonic() - t0 < deadline_s, "not delivered"
        time.sleep(0.002)
    return time.monotonic() - t0


def p99(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * 0.99))]


def test_two_serves_keep_order_and_a_dead_endpoint_slows_no_healthy_one(
        start_server, start_receiver, keygen, redis_server, tmp_path):
    redis = redis_server()
    ko, kh, kl = keygen("ordered"), keygen("healthy", "x25519"), keygen("lone", "x25519")
    flaky = start_receiver(ko, "--fail-rate", "0.2")
    healthy, lone = start_receiver(kh), start_receiver(kl)
    dead = start_receiver(kh, "--fail-rate", "1.0", "--delay-ms", "200")

    def onboard(a):
        o = a.onboard("ordered", ko, flaky.url, ordering="ordered", max_attempts=50)
        h = a.onboard("mixed", kh, healthy.url)
        add_endpoint(a, h, dead.url, max_attempts=50)
        lone_t = a.onboard("lone", kl, lone.url)
        flaky.set_secret(o["endpoint"]["secret"])
        healthy.set_secret(h["endpoint"]["secret"])
        lone.set_secret(lone_t["endpoint"]["secret"])
        return o, h, lone_t

    a, b, (o, h, lone_t) = shared_pair(start_server, redis, tmp_path, onboard)
    n = 40
    for i in range(n):  # one at a time, through either serve: publish order is i
        code, _, _, r = publish((a, b)[i % 2], o, i)
        assert code == 202, r.text
    # The healthy endpoint shares its tenant with one that fails slowly on every attempt.
    near_dead, alone = [], []
    for i in range(40):
        srv = (a, b)[i % 2]
        before = len(healthy.events())
        assert publish(srv, h, i)[0] == 202
        near_dead.append(seen_after(healthy, before))
        before = len(lone.events())
        assert publish(srv, lone_t, i)[0] == 202
        alone.append(seen_after(lone, before))
    got = flaky.wait_count(n, timeout=60)
    assert [e["event"]["data"]["n"] for e in got] == list(range(n))  # publish order, no gaps
    assert delivered_by(a) > 0 and delivered_by(b) > 0, "both serves must deliver"
    assert p99(near_dead) < 0.5, near_dead
    print(f"\nshared: ordered kept over 2 serves; healthy endpoint p99 {p99(near_dead) * 1000:.1f} ms"
          f" next to a dead one, {p99(alone) * 1000:.1f} ms alone")


class CountingHandler(http.server.BaseHTTPRequestHandler):
    lock = threading.Lock()
    now = peak = total = 0
    delay_s = 1.0

    def do_POST(self):
        cls = CountingHandler
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with cls.lock:
            cls.now += 1
            cls.total += 1
            cls.peak = max(cls.peak, cls.now)
        time.sleep(CountingHandler.delay_s)
        with cls.lock:
            cls.now -= 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_max_inflight_per_endpoint_holds_across_two_serves(
        start_server, keygen, redis_server, tmp_path):
    redis = redis_server()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CountingHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/hook"
    keys = keygen("inflight")
    try:
        # Serve A attempts one delivery at a time. Four events are queued before serve B
        # starts: A holds one, and B, free to attempt many, takes the endpoint's second slot and
        # no more (a bound kept per process would let it take all three waiting).
        def onboard_and_queue(a):
            t = a.onboard("inflight", keys, url)
            for i in range(4):
                assert publish(a, t, i)[0] == 202
            return t

        a, b, t = shared_pair(start_server, redis, tmp_path, onboard_and_queue,
                              "--max-inflight-per-endpoint", "2",
                              "--max-inflight-per-tenant", "8", a_extra=("--max-inflight", "1"))
        for i in range(4, 10):
            assert publish((a, b)[i % 2], t, i)[0] == 202
        deadline = time.monotonic() + 30
        while CountingHandler.total < 10:
            assert time.monotonic() < deadline, CountingHandler.total
            time.sleep(0.05)
        assert delivered_by(a) > 0 and delivered_by(b) > 0, "both serves must deliver"
        assert CountingHandler.peak == 2, CountingHandler.peak  # reached, never passed
    finally:
        httpd.shutdown()
