"""The catalog through the API: lists page by id with `next` cursors, skipping nothing and
repeating nothing, also after deletes and after a restart on the same store."""
from conftest import ADMIN


def pages(srv, path, token, limit):
    """Every id of a list, following `next` until it is null."""
    ids, cursor = [], None
    for _ in range(100):
        page = srv.ok("GET", f"{path}?limit={limit}" + (f"&cursor={cursor}" if cursor else ""), token)
        assert len(page["data"]) <= limit
        ids += [item["id"] for item in page["data"]]
        cursor = page["next"]
        if cursor is None:
            return ids
        assert cursor == ids[-1]
    raise AssertionError("the list never ended")


def test_tenants_and_endpoints_page_by_id_across_deletes_and_a_restart(start_server, tmp_path):
    store = f"sqlite:{tmp_path}/catalog"
    srv = start_server("--store", store)
    tenants = [srv.ok("POST", "/v1/tenants", body={"name": f"t{i}"}, status=201) for i in range(7)]
    key = tenants[0]["api_key"]
    endpoints = [srv.ok("POST", "/v1/endpoints", key, {"url": f"http://127.0.0.1:9/h{i}"}, status=201)["id"]
                 for i in range(9)]
    srv.ok("DELETE", f"/v1/endpoints/{endpoints[4]}", key, status=204)
    srv.ok("DELETE", f"/v1/tenants/{tenants[6]['id']}", status=204)
    want_endpoints = sorted(endpoints[:4] + endpoints[5:])
    want_tenants = sorted(t["id"] for t in tenants[:6])

    for limit in (1, 3, 100):
        assert pages(srv, "/v1/endpoints", key, limit) == want_endpoints
        assert pages(srv, "/v1/tenants", ADMIN, limit) == want_tenants
    assert pages(srv, "/v1/endpoints", tenants[1]["api_key"], 3) == []  # only a tenant's own
    assert srv.call("GET", "/v1/endpoints", tenants[6]["api_key"]).status_code == 401  # its key went with it

    srv.proc.stop()
    again = start_server("--store", store)
    assert pages(again, "/v1/endpoints", key, 2) == want_endpoints
    assert pages(again, "/v1/tenants", ADMIN, 4) == want_tenants
