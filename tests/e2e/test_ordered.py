"""Ordered endpoints: publish order kept against a flaky receiver; a failing head blocks that
endpoint only, while another tenant's healthy endpoint keeps receiving."""


def test_ordered_endpoint_keeps_publish_order_and_stalls_only_itself(start_server, start_receiver, keygen):
    srv = start_server("--retry-base-ms", "100", "--retry-max-delay-ms", "200")
    ka, kb = keygen("ordered"), keygen("healthy", "x25519")
    flaky = start_receiver(ka, "--fail-rate", "0.5", "--seed", "3")
    healthy = start_receiver(kb)
    a = srv.onboard("ordered", ka, flaky.url, event_types=["seq.*"], ordering="ordered", max_attempts=50)
    b = srv.onboard("healthy", kb, healthy.url, event_types=["other.*"])
    flaky.set_secret(a["endpoint"]["secret"])
    healthy.set_secret(b["endpoint"]["secret"])
    assert a["endpoint"]["id"] and srv.ok("GET", f"/v1/endpoints/{a['endpoint']['id']}", a["api_key"])["ordering"] == "ordered"

    n = 20
    for i in range(n):
        srv.ok("POST", "/v1/events", body={"type": "seq.step", "payload": i})
    for i in range(n):
        srv.ok("POST", "/v1/events", body={"type": "other.ping", "payload": i})

    # The healthy tenant gets everything while the ordered endpoint is still stalled on its
    # failing heads (each failure there waits 100-200 ms before the head is tried again).
    got_b = healthy.wait_count(n, timeout=30)
    assert sorted(e["event"]["data"] for e in got_b) == list(range(n))
    assert len(flaky.events()) < n, "the ordered endpoint should still be working through retries"

    got_a = flaky.wait_count(n, timeout=120)
    assert [e["event"]["data"] for e in got_a] == list(range(n))  # publish order, no gaps
    retried = [d for d in srv.wait_list(a["api_key"], "status=delivered&limit=100", n)["data"]
               if d["attempt_count"] > 1]
    assert retried, "fail-rate 0.5 must have forced retries on the ordered endpoint"
