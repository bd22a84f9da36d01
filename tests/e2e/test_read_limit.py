"""--tenant-read-rate: a tenant reading its deliveries faster than its rate is answered 429
rate_limited with Retry-After before any store work; other tenants, other routes and the
tenant itself once the Retry-After has passed are served."""
import time


def test_a_tenant_polling_past_its_read_rate_gets_429_and_no_other_is_held(start_server):
    srv = start_server("--tenant-read-rate", "1", "--tenant-read-burst", "3")
    poller = srv.ok("POST", "/v1/tenants", body={"name": "poller"}, status=201)["api_key"]
    quiet = srv.ok("POST", "/v1/tenants", body={"name": "quiet"}, status=201)["api_key"]

    def read(path, key):
        return srv.call("GET", path, key, wait_429=False)

    assert [read("/v1/deliveries", poller).status_code for _ in range(3)] == [200] * 3
    r = read("/v1/deliveries?limit=5", poller)
    assert r.status_code == 429, r.text
    assert r.json()["error"]["code"] == "rate_limited"
    assert r.headers["Retry-After"] == "1"  # a token a second, the next one under a second away
    assert read("/v1/deliveries/dlv_unknown", poller).status_code == 429  # one delivery too
    assert read("/v1/deliveries", None).status_code == 401  # no credential: not counted, refused
    assert read("/v1/deliveries", quiet).status_code == 200
    assert read("/v1/endpoints", poller).status_code == 200  # only delivery reads are limited
    assert srv.metrics()["sealhook_api_reads_limited_total"] == 2
    time.sleep(float(r.headers["Retry-After"]))  # what the answer told the client to do
    assert read("/v1/deliveries", poller).status_code == 200


def test_a_read_rate_of_zero_is_no_limit(start_server):
    srv = start_server("--tenant-read-rate", "0", "--tenant-read-burst", "1")
    key = srv.ok("POST", "/v1/tenants", body={"name": "t"}, status=201)["api_key"]
    codes = {srv.call("GET", "/v1/deliveries", key, wait_429=False).status_code for _ in range(20)}
    assert codes == {200}
    assert srv.metrics()["sealhook_api_reads_limited_total"] == 0
