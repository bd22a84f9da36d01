"""Below every resource, a path no route has is 404 (never 405, nor 403 for a credential the
resource would refuse) for every method and either credential; the start-up
banner says what serve is bound to and a URL that reaches it."""
import requests

from conftest import ADMIN

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def test_sub_paths_of_every_resource_are_404_for_every_method(start_server, keygen, tmp_path):
    srv = start_server()
    keys = keygen("routes", "x25519")
    t = srv.onboard("routes", keys, "http://127.0.0.1:9/hook")
    ep, kid, tn = t["endpoint"]["id"], t["kid"], t["tenant"]["id"]
    d = srv.ok("POST", "/v1/events", body={"type": "a", "payload": 1}, status=202)
    msg = srv.ok("GET", "/v1/deliveries", t["api_key"])["data"][0]["id"]
    key_id = srv.ok("GET", f"/v1/tenants/{tn}/api-keys")["data"][0]["id"]
    tenant_paths = [f"/v1/endpoints/{ep}/anything", f"/v1/endpoints/{ep}/secret",
                    f"/v1/endpoints/{ep}/anything/else", "/v1/endpoints/ep_nope/anything",
                    f"/v1/keys/{kid}/anything", "/v1/subscriptions/anything",
                    "/v1/subscriptions/a/b", f"/v1/deliveries/{msg}/anything",
                    f"/v1/deliveries/{msg}/replay/anything", "/v1/events/anything",
                    "/v1/anything", f"/v1/tenants/{tn}/anything"]
    admin_paths = [f"/v1/tenants/{tn}/anything", f"/v1/tenants/{tn}/api-keys/{key_id}/anything",
                   f"/v1/tenants/{tn}/anything/else", "/v1/events/anything", "/v1/anything",
                   f"/v1/endpoints/{ep}/anything", f"/v1/deliveries/{msg}/anything"]
    for token, paths in ((t["api_key"], tenant_paths), (ADMIN, admin_paths)):
        for path in paths:
            for method in METHODS:
                r = srv.call(method, path, token, body={} if method != "GET" else None)
                assert r.status_code == 404, (method, path, r.status_code, r.text)
                assert r.json()["error"]["code"] == "not_found" and "Allow" not in r.headers
    assert d["deliveries"] == 1


def test_the_banner_says_what_serve_is_bound_to_and_a_reachable_url(start_server):
    srv = start_server("--listen", "0.0.0.0:0")
    m = srv.proc.wait_line(r"listening on 0\.0\.0\.0:(\d+) \(all interfaces\), reachable at "
                           r"(http://127\.0\.0\.1:(\d+))$")
    assert m.group(1) == m.group(3) == str(srv.port)
    assert requests.get(m.group(2) + "/healthz", timeout=10).status_code == 200
    one = start_server()
    one.proc.wait_line(rf"listening on 127\.0\.0\.1:{one.port}, reachable at http://127\.0\.0\.1:{one.port}$")
