#!/usr/bin/env python3
"""sealhook receiver kit for Python (http.server, PyPI standardwebhooks and jwcrypto).

Verify the Standard Webhooks signature, then decrypt the JWE with the key its kid
names, dedupe by webhook-id, store the event, and only then answer 2xx.

    python receiver.py --port N --host H --key FILE [--key FILE ...] \\
                       --secret-file PATH --out FILE.jsonl

--key: a private key, JWK or PEM (`sealhook keygen` writes both); repeat it while
you rotate keys. --secret-file: one whsec_ secret a line, read on every request
(any of them may verify: secret rotation is a file edit).
stdout: {"listening": PORT} once ready. FILE.jsonl: one line
{"webhook_id", "kid", "event"} per new event, fsynced before the 2xx.
Status: 204 stored or duplicate; 401 bad or stale signature (nothing is
decrypted); 400 unknown kid or undecryptable body; 413 body too large;
500 not stored (the server retries).
"""
import argparse
import json
import os
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from jwcrypto import jwe, jwk
from standardwebhooks import Webhook

MAX_BODY = 4 * 1024 * 1024  # a 1 MiB payload is about 1.4 MiB of JWE


# <doc:keys>
def load_key(path):
    """(kid, (key, alg)). The kid is the RFC 7638 thumbprint of the public key, as
    the server computes it (whatever "kid" the file has); the key type alone
    decides the algorithm allowed."""
    with open(path, "rb") as f:
        data = f.read()
    if data.lstrip().startswith(b"{"):
        key = jwk.JWK.from_json(data)
    else:
        key = jwk.JWK.from_pem(data)
    alg = "RSA-OAEP-256" if key.get("kty") == "RSA" else "ECDH-ES+A256KW"
    return key.thumbprint(), (key, alg)
# </doc:keys>


# <doc:store>
class Store:
    """The out file is the store: the dedupe set is rebuilt from it on start."""

    def __init__(self, path):
        self.seen, self.lock, text = set(), threading.Lock(), b""
        if os.path.exists(path):
            with open(path, "rb") as f:
                text = f.read()
            for line in text.splitlines():
                try:
                    self.seen.add(json.loads(line)["webhook_id"])
                except ValueError:
                    pass  # a torn last line
        self.file = open(path, "ab")
        if text and not text.endswith(b"\n"):
            self.file.write(b"\n")

    def add(self, webhook_id, kid, event):
        with self.lock:
            if webhook_id in self.seen:  # a retry raced us here: stored once
                return
            line = json.dumps({"webhook_id": webhook_id, "kid": kid, "event": event})
            self.file.write(line.encode() + b"\n")
            self.file.flush()
            os.fsync(self.file.fileno())  # on disk before the 2xx
            self.seen.add(webhook_id)
# </doc:store>


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every answer has a length

    # <doc:receive>
    def receive(self, body):
        # 1. Authenticity first: anyone holding your public key can encrypt a forged
        #    event. json_parse=False: the body is a JWE, not JSON. Catch everything:
        #    a malformed header raises ValueError, not only WebhookVerificationError.
        with open(self.server.secret_file) as f:
            secrets = [line.strip() for line in f if line.strip()]
        headers = dict(self.headers.items())
        for secret in secrets:
            try:
                Webhook(secret).verify(body, headers, json_parse=False)  # also: ±5 min tolerance
                break
            except Exception:
                continue
        else:
            return 401
        webhook_id = self.headers["webhook-id"]
        if webhook_id in self.server.store.seen:  # at-least-once delivery: a retry
            return 204

        # 2. Then decrypt, with the key the JWE header names, allowing only its algorithm.
        try:
            token = jwe.JWE()
            token.deserialize(body.decode("ascii"))
            kid = token.jose_header.get("kid")
            if kid not in self.server.keys:
                return 400  # unknown kid
            key, alg = self.server.keys[kid]
            token.allowed_algs = [alg, "A256GCM"]
            token.decrypt(key)
            event = json.loads(token.payload)
        except Exception:
            return 400
        self.server.store.add(webhook_id, kid, event)  # 3. Stored, then acknowledged.
        return 204
    # </doc:receive>

    def do_POST(self):
        length = self.headers.get("Content-Length", "")
        if not length.isdigit():  # sealhook always sends a length (no chunked bodies)
            self.close_connection = True
            return self.reply(411)
        if int(length) > MAX_BODY:
            self.close_connection = True
            return self.reply(413)
        try:
            status = self.receive(self.rfile.read(int(length)))
        except Exception:  # e.g. the store failed: not stored, so not acknowledged
            status = 500
        self.reply(status)

    def do_GET(self):
        self.reply(405)

    def reply(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    p = argparse.ArgumentParser(description="sealhook receiver kit (Python)")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--key", action="append", required=True, help="private key, JWK or PEM (repeatable)")
    p.add_argument("--secret-file", required=True, help="whsec_ secrets, one a line")
    p.add_argument("--out", required=True, help="the JSON Lines file events are stored in")
    args = p.parse_args()

    server = ThreadingHTTPServer((args.host, args.port), Receiver)
    server.daemon_threads = True
    server.keys = dict(load_key(path) for path in args.key)
    server.secret_file = args.secret_file
    server.store = Store(args.out)
    # shutdown() waits for serve_forever(), so it runs on a thread of its own.
    stop = lambda *_: threading.Thread(target=server.shutdown).start()  # noqa: E731
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(json.dumps({"listening": server.server_address[1]}), flush=True)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
