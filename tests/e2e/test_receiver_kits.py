"""The receiver kits (examples/receivers/{node,python,go}), each against a live `sealhook serve`,
for an RSA, an X25519 and a P-256 tenant: a key rotation (a second key uploaded mid-run), a secret
rotation, tampered, stale and duplicate deliveries, a restart; every event each kit stored is
checked against what was published. Deliveries reach the kit through a recording relay, so that
the test can send a real captured delivery again, altered or not. Also: a kit restarts on a file
torn by a crash, and docs/receiving.md shows the kits' code as it is."""
import base64
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from jwcrypto import jwe, jwk
from standardwebhooks import Webhook

from conftest import ROOT, Proc

KITS = os.path.join(ROOT, "examples", "receivers")
DOC = os.path.join(ROOT, "docs", "receiving.md")


@pytest.fixture(scope="session")
def go_kit(tmp_path_factory):
    """The Go kit, built from the module cache alone (scripts/install-deps.sh fills it)."""
    out = str(tmp_path_factory.mktemp("go-kit") / "receiver")
    env = {**os.environ, "GOPROXY": "off", "GOFLAGS": "-mod=readonly -buildvcs=false"}
    go = shutil.which("go") or "/usr/local/go/bin/go"
    r = subprocess.run([go, "build", "-o", out, "."], cwd=os.path.join(KITS, "go"), env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


def kit_command(name, go_kit):
    return {"node": ["node", os.path.join(KITS, "node", "receiver.mjs")],
            "python": [sys.executable, os.path.join(KITS, "python", "receiver.py")],
            "go": [go_kit]}[name]


class Kit:
    """One kit process; its store is the out file."""

    def __init__(self, argv, keys, secret_file, out):
        self.argv = argv + [a for k in keys for a in ("--key", k)] + [
            "--secret-file", secret_file, "--out", out, "--host", "127.0.0.1", "--port", "0"]
        self.out = out
        self.start()

    def start(self):
        self.proc = Proc(self.argv)
        self.port = int(self.proc.wait_line(r'^\{"listening": ?(\d+)\}$').group(1))
        self.url = f"http://127.0.0.1:{self.port}/webhooks"

    def restart(self):
        assert self.proc.stop() == 0
        self.start()

    def stored(self):
        """The complete lines of the out file (the last may be being written)."""
        if not os.path.exists(self.out):
            return []
        with open(self.out) as f:
            return [json.loads(line) for line in f.read().split("\n")[:-1]]

    def wait_stored(self, n, timeout=30):
        deadline = time.monotonic() + timeout
        while len(self.stored()) < n:
            assert time.monotonic() < deadline, f"{len(self.stored())} of {n} stored"
            time.sleep(0.02)  # polling a file, with a deadline
        return self.stored()

    def post(self, headers, body):
        return requests.post(self.url, data=body, headers=headers, timeout=10).status_code


class Relay:
    """Loopback HTTP relay in front of a kit: records every delivery (headers, body, the kit's
    status, marked if the event was not in the kit's file when it answered) and answers with the
    kit's status."""

    def __init__(self):
        relay = self
        self.target, self.captured, self.cond = None, [], threading.Condition()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k: v for k, v in self.headers.items() if k.lower().startswith("webhook-")}
                headers["Content-Type"] = self.headers["Content-Type"]
                conn = http.client.HTTPConnection("127.0.0.1", relay.target.port, timeout=10)
                conn.request("POST", "/webhooks", body, headers)
                status = conn.getresponse().status
                conn.close()
                # An acknowledged event is in the kit's store already.
                on_file = status == 204 and any(s["webhook_id"] == headers["webhook-id"]
                                                for s in relay.target.stored())
                with relay.cond:
                    relay.captured.append((headers, body, status if on_file else (status, "not on file")))
                    relay.cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_captured(self, n, timeout=30):
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.captured) >= n, timeout), len(self.captured)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def signed(secret, webhook_id, body, when=None):
    """Standard Webhooks headers made with the official library, at `when` (default now)."""
    when = when or datetime.now(timezone.utc)
    return {"webhook-id": webhook_id, "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": Webhook(secret).sign(webhook_id, when, body.decode()),
            "Content-Type": "application/jose"}


def flip(body, part):
    """The JWE with one character of its `part` (0-4) changed."""
    parts = body.decode().split(".")
    parts[part] = ("B" if parts[part][5] == "A" else "A").join([parts[part][:5], parts[part][6:]])
    return ".".join(parts).encode()


def write_secrets(path, *secrets):
    with open(path + ".tmp", "w") as f:
        f.write("".join(s + "\n" for s in secrets))
    os.replace(path + ".tmp", path)


@pytest.mark.parametrize("kind", ["rsa", "x25519", "p256"])
@pytest.mark.parametrize("kit_name", ["node", "python", "go"])
def test_kit_against_a_live_server(request, start_server, keygen, tmp_path, kit_name, kind):
    go_kit = request.getfixturevalue("go_kit") if kit_name == "go" else None
    srv = start_server()
    first, second = keygen(f"{kit_name}-1", kind), keygen(f"{kit_name}-2", kind)
    relay = Relay()
    try:
        t = srv.onboard(f"kit-{kit_name}-{kind}", first, relay.url, event_types=["kit.*"])
        api, ep = t["api_key"], t["endpoint"]
        secret_file = str(tmp_path / "secrets")
        write_secrets(secret_file, ep["secret"])
        # Both keys from the start, as a customer deploys before uploading: the first as the PEM
        # keygen wrote, the second as a JWK whose "kid" is a label of the customer's own (the
        # server's kid is the thumbprint, whatever the file says).
        with open(os.path.join(second, "private.jwk")) as f:
            labelled = {**json.load(f), "kid": "customer-label-2"}
        (tmp_path / "second.jwk").write_text(json.dumps(labelled))
        kit = Kit(kit_command(kit_name, go_kit),
                  [os.path.join(first, "private.pem"), str(tmp_path / "second.jwk")],
                  secret_file, str(tmp_path / "events.jsonl"))
        relay.target = kit
        published = {}  # event id -> (payload, kid it is sealed to)

        def publish(n, kid):
            for i in range(n):
                payload = {"n": len(published), "text": "héllo", "pad": "x" * (37 * i)}
                r = srv.ok("POST", "/v1/events", body={"type": "kit.test", "payload": payload}, status=202)
                published[r["event_id"]] = (payload, kid)
            kit.wait_stored(len(published))
            relay.wait_captured(len(published))  # the relay records once the kit has answered

        # Key rotation: events sealed with the first key, then with the second once uploaded.
        publish(3, t["kid"])
        with open(os.path.join(second, "public.jwk")) as f:
            kid2 = srv.ok("POST", "/v1/keys", api, {"public_key": json.load(f)}, status=201)["kid"]
        assert kid2 != t["kid"]
        publish(3, kid2)

        # Secret rotation: during the grace, deliveries carry both signatures and the kit still
        # holds the old secret only; then it holds both, the old one stops signing, and the new
        # one verifies alone.
        path = f"/v1/endpoints/{ep['id']}"
        new_secret = srv.ok("POST", path + "/secret/rotate", api, status=200)["secret"]
        publish(2, kid2)
        assert all(len(h["webhook-signature"].split()) == 2 for h, _, _ in relay.captured[-2:])
        write_secrets(secret_file, ep["secret"], new_secret)
        assert srv.call("DELETE", path + "/secret/previous", api).status_code == 204
        publish(2, kid2)
        assert all(len(h["webhook-signature"].split()) == 1 for h, _, _ in relay.captured[-2:])
        write_secrets(secret_file, new_secret)  # the old one is of no more use
        assert [status for _, _, status in relay.captured] == [204] * len(published)
        count = len(kit.stored())

        # Attacks and accidents, with a real captured delivery, straight to the kit.
        headers, body, _ = relay.captured[-1]
        assert kit.post(headers, body) == 204  # a duplicate: answered, not stored again
        assert kit.post(headers, flip(body, 3)) == 401  # body changed, signature kept
        sig = base64.b64decode(headers["webhook-signature"].split(",")[1])
        forged = "v1," + base64.b64encode(bytes([sig[0] ^ 1]) + sig[1:]).decode()
        assert kit.post({**headers, "webhook-signature": forged}, body) == 401
        now = datetime.now(timezone.utc)
        for skew in (-400, 400):  # outside ±5 min: refused, though the signature is good
            assert kit.post(signed(new_secret, f"msg_stale{skew}", body, now + timedelta(seconds=skew)),
                            body) == 401
        assert kit.post(signed(ep["secret"], "msg_old_secret", body), body) == 401  # dropped secret
        assert kit.post(signed(new_secret, "msg_bad_cipher", flip(body, 3)), flip(body, 3)) == 400
        stranger = jwk.JWK.generate(kty="RSA", size=2048)
        token = jwe.JWE(b'{"forged": true}', json.dumps(
            {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": stranger.thumbprint()}))
        token.add_recipient(stranger)
        other = token.serialize(compact=True).encode()
        assert kit.post(signed(new_secret, "msg_unknown_kid", other), other) == 400
        # Sealed to the kit's own key, but with an algorithm other than the key's or the server's:
        # the key decides what is allowed, not the message.
        with open(os.path.join(second, "public.jwk")) as f:
            ours = jwk.JWK.from_json(f.read())
        right = "RSA-OAEP-256" if kind == "rsa" else "ECDH-ES+A256KW"
        for alg, enc in (("RSA-OAEP" if kind == "rsa" else "ECDH-ES+A128KW", "A256GCM"), (right, "A128GCM")):
            token = jwe.JWE(b'{"forged": true}', json.dumps({"alg": alg, "enc": enc, "kid": kid2}))
            token.add_recipient(ours)
            odd = token.serialize(compact=True).encode()
            assert kit.post(signed(new_secret, f"msg_{alg}_{enc}", odd), odd) == 400, (alg, enc)
        assert kit.post(signed(new_secret, "msg_big", b"a" * (4 << 20 | 1)), b"a" * (4 << 20 | 1)) == 413
        assert requests.get(kit.url, timeout=10).status_code == 405
        assert len(kit.stored()) == count  # nothing refused was stored
        # The control: the same body signed now, under a fresh id, is taken (so the refusals
        # above are the kit's checks, not a signing mistake of this test).
        assert kit.post(signed(new_secret, "msg_resent", body), body) == 204
        assert len(kit.wait_stored(count + 1)) == count + 1

        # The dedupe set survives a restart.
        kit.restart()
        assert kit.post(headers, body) == 204
        assert kit.post(signed(new_secret, "msg_resent", body), body) == 204
        stored = kit.stored()
        assert len(stored) == count + 1

        # Every event stored once, as published, with the kid it was sealed to.
        ids = [s["webhook_id"] for s in stored]
        assert len(set(ids)) == len(ids)
        assert set(ids) == {h["webhook-id"] for h, _, _ in relay.captured} | {"msg_resent"}
        by_event = {}
        for s in stored:
            by_event.setdefault(s["event"]["id"], []).append(s)
        assert set(by_event) == set(published)
        for event_id, (payload, kid) in published.items():
            for s in by_event[event_id]:
                assert s["kid"] == kid, s
                assert s["event"]["data"] == payload and s["event"]["type"] == "kit.test"
                assert s["event"]["tenant"] == t["tenant"]["id"] and isinstance(s["event"]["timestamp"], int)
        assert [len(v) for v in by_event.values()].count(2) == 1  # msg_resent only
        assert kit.proc.stop() == 0
    finally:
        relay.close()
        if relay.target:
            relay.target.proc.stop()


@pytest.mark.parametrize("kit_name", ["node", "python", "go"])
def test_kit_restarts_on_a_torn_file(request, keygen, tmp_path, kit_name):
    """After a crash mid-line: the complete lines still dedupe, the torn one is passed over, and
    the next event goes on a line of its own."""
    go_kit = request.getfixturevalue("go_kit") if kit_name == "go" else None
    keys, secret = keygen(f"torn-{kit_name}", "x25519"), "whsec_" + base64.b64encode(os.urandom(24)).decode()
    write_secrets(str(tmp_path / "secrets"), secret)
    out = tmp_path / "events.jsonl"
    out.write_text('{"webhook_id": "msg_old", "kid": "k", "event": {}}\n{"webhook_id": "msg_to')
    kit = Kit(kit_command(kit_name, go_kit), [os.path.join(keys, "private.jwk")],
              str(tmp_path / "secrets"), str(out))
    try:
        with open(os.path.join(keys, "public.jwk")) as f:
            public = jwk.JWK.from_json(f.read())
        token = jwe.JWE(b'{"id": "ev_1"}', json.dumps(
            {"alg": "ECDH-ES+A256KW", "enc": "A256GCM", "kid": public.thumbprint()}))
        token.add_recipient(public)
        body = token.serialize(compact=True).encode()
        assert kit.post(signed(secret, "msg_old", body), body) == 204  # stored before the crash
        assert kit.post(signed(secret, "msg_new", body), body) == 204
        lines = out.read_text().split("\n")
        assert lines[0] == '{"webhook_id": "msg_old", "kid": "k", "event": {}}'
        assert lines[1] == '{"webhook_id": "msg_to' and lines[3] == ""
        assert json.loads(lines[2]) == {"webhook_id": "msg_new", "kid": public.thumbprint(),
                                        "event": {"id": "ev_1"}}
    finally:
        kit.proc.stop()


def kit_regions():
    """{(file, name): text} of every `<doc:NAME>` ... `</doc:NAME>` region of the kits."""
    regions = {}
    for rel in ("node/receiver.mjs", "python/receiver.py", "go/receive.go", "go/store.go"):
        with open(os.path.join(KITS, rel)) as f:
            text = f.read()
        for m in re.finditer(r"\n[^\n]*<doc:(\w+)>\n(.*?\n)\n*[^\n]*</doc:\1>", text, re.S):
            regions[(f"examples/receivers/{rel}", m.group(1))] = m.group(2)
    return regions


def test_the_guide_shows_the_tested_code():
    """Each code block of docs/receiving.md marked `<!-- kit: FILE#NAME -->` is that region of the
    kit file, verbatim, and every region of every kit is shown (write_guide() puts them there)."""
    with open(DOC) as f:
        doc = f.read()
    shown = {(m.group(1), m.group(2)): m.group(3) for m in re.finditer(
        r"<!-- kit: (\S+)#(\w+) -->\n```\w*\n(.*?\n)```", doc, re.S)}
    regions = kit_regions()
    assert len(regions) == 9
    assert set(shown) == set(regions)
    for where, text in regions.items():
        assert shown[where] == text, f"{where} in docs/receiving.md differs from the kit"


def write_guide():
    """Puts each kit region into docs/receiving.md after its `<!-- kit: FILE#NAME -->` line."""
    regions = kit_regions()
    lang = {"mjs": "js", "py": "python", "go": "go"}
    with open(DOC) as f:
        doc = f.read()

    def block(m):
        text = regions[(m.group(1), m.group(2))]
        return f"<!-- kit: {m.group(1)}#{m.group(2)} -->\n```{lang[m.group(1).rsplit('.', 1)[1]]}\n{text}```"

    doc = re.sub(r"<!-- kit: (\S+)#(\w+) -->(?:\n```\w*\n.*?\n```)?", block, doc, flags=re.S)
    with open(DOC, "w") as f:
        f.write(doc)


if __name__ == "__main__":  # after a change to a kit: python tests/e2e/test_receiver_kits.py
    write_guide()
