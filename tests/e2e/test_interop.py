"""Interop, proven: real deliveries from `sealhook serve` are verified and decrypted by
third-party libraries — npm `jose` + `standardwebhooks` and PyPI `jwcrypto` + `standardwebhooks` —
for an RSA tenant and an X25519 tenant."""
import json
import os
import sys

import pytest

from conftest import ROOT, Proc

NODE_RX = os.path.join(ROOT, "tests", "interop", "node", "receiver.mjs")
PY_RX = os.path.join(ROOT, "tests", "interop", "python", "receiver.py")


class ThirdPartyReceiver:
    def __init__(self, argv, key_dir, secret_file):
        self.secret_file = secret_file
        self.proc = Proc(argv + ["--port", "0", "--key", os.path.join(key_dir, "private.jwk"),
                                 "--secret-file", secret_file])
        m = self.proc.wait_line(r'"listening":\s*(\d+)')
        self.url = f"http://127.0.0.1:{m.group(1)}/webhook"

    def set_secret(self, secret):
        with open(self.secret_file, "w") as f:
            f.write(secret)

    def events(self, n):
        self.proc.wait_for(lambda p: sum('"webhook_id"' in l for l in p.out_lines) >= n, 60, f"{n} events")
        with self.proc.lock:
            return [json.loads(l) for l in self.proc.out_lines if '"webhook_id"' in l]


@pytest.mark.parametrize("kind,alg", [("rsa", "RSA-OAEP-256"), ("x25519", "ECDH-ES+A256KW"),
                                      ("p256", "ECDH-ES+A256KW")])
def test_third_party_libraries_verify_and_decrypt_real_deliveries(start_server, keygen, tmp_path, kind, alg):
    srv = start_server()
    keys = keygen(f"interop-{kind}", kind)
    node = ThirdPartyReceiver(["node", NODE_RX], keys, str(tmp_path / "node-secret"))
    py = ThirdPartyReceiver([sys.executable, PY_RX], keys, str(tmp_path / "py-secret"))
    try:
        t = srv.onboard(f"interop-{kind}", keys, node.url, event_types=["interop.*"])
        second = srv.ok("POST", "/v1/endpoints", t["api_key"], {"url": py.url}, status=201)
        node.set_secret(t["endpoint"]["secret"])
        py.set_secret(second["secret"])
        payloads = [{"n": 1, "text": "héllo"}, {"n": 2, "big": "y" * 5000}, [1, 2, {"deep": None}]]
        ids = [srv.ok("POST", "/v1/events", body={"type": "interop.test", "payload": p})["event_id"]
               for p in payloads]
        for rx in (node, py):
            got = rx.events(len(payloads))
            assert [e["event"]["id"] for e in sorted(got, key=lambda e: ids.index(e["event"]["id"]))] == ids
            for e in got:
                assert e["alg"] == alg and e["kid"] == t["kid"]
                assert e["event"]["data"] == payloads[ids.index(e["event"]["id"])]
                assert e["event"]["tenant"] == t["tenant"]["id"] and e["event"]["type"] == "interop.test"
                assert isinstance(e["event"]["timestamp"], int)
    finally:
        node.proc.stop()
        py.proc.stop()
