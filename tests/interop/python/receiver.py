#!/usr/bin/env python3
"""Third-party interop receiver for sealhook deliveries.

Written only with the standard library's http.server, ``jwcrypto`` and
``standardwebhooks``, exactly as a customer would, to prove that sealhook's wire
format (PRODUCT.md section 4) is readable by mainstream libraries.

    python receiver.py --port 0 --key DIR/private.jwk --secret-file PATH [--host 127.0.0.1]

stdout: {"listening": <port>} once, then one line per accepted delivery:
        {"webhook_id": ..., "alg": ..., "kid": ..., "event": <decrypted JSON>}
stderr: {"error": "..."} for every refused request.
Status: 204 accepted; 401 bad/missing signature (nothing is decrypted);
        400 kid mismatch or undecryptable body; 503 secret file missing;
        405 not a POST; 413 body too large.
The secret file is read on every request (it may appear or change later).
No dedupe: every accepted attempt (including retries) prints a line.
"""

import argparse
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from jwcrypto import jwe, jwk
from standardwebhooks import Webhook

MAX_BODY = 16 * 1024 * 1024
_out_lock = threading.Lock()


def emit(stream, obj):
    with _out_lock:
        stream.write(json.dumps(obj) + "\n")
        stream.flush()


def load_key(path):
    with open(path, encoding="utf-8") as f:
        key = jwk.JWK.from_json(f.read())
    # sealhook's kid is the RFC 7638 thumbprint; keygen writes it into private.jwk.
    kid = key.get("kid") or key.thumbprint()
    # The key type decides the only acceptable algorithm: never let the message pick.
    # (jwcrypto's default allow-list would also accept RSA-OAEP, A*CBC-HS*, PBES2, ...)
    alg = "RSA-OAEP-256" if key.get("kty") == "RSA" else "ECDH-ES+A256KW"
    return key, kid, alg


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every response carries a length
    server_version = "sealhook-interop-python"

    def log_message(self, format, *args):  # keep stderr for {"error": ...} lines
        pass

    def _reply(self, status, error=None):
        if error is not None:
            emit(sys.stderr, {"error": error, "status": status})
            body = json.dumps({"error": error}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(status)
            if status != 204:
                self.send_header("Content-Length", "0")
            self.end_headers()

    def _read_body(self):
        """Return the body bytes, or None if it is over MAX_BODY."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, size = [], 0
            while True:
                line = self.rfile.readline(1024).split(b";", 1)[0].strip()
                n = int(line, 16)
                if n == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                size += n
                if size > MAX_BODY:
                    self.close_connection = True
                    return None
                chunks.append(self.rfile.read(n))
                self.rfile.readline(1024)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length", "0") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            return None
        return self.rfile.read(length)

    def _not_post(self):
        self._read_body()
        self._reply(405, "method not allowed")

    do_GET = do_PUT = do_DELETE = do_PATCH = _not_post

    def do_POST(self):
        try:
            body = self._read_body()
        except (ValueError, OSError) as e:
            self.close_connection = True
            return self._reply(400, f"bad request body: {e}")
        if body is None:
            return self._reply(413, "body too large")

        cfg = self.server.cfg
        try:
            with open(cfg.secret_file, encoding="utf-8") as f:
                secret = f.read().strip()
        except OSError:
            secret = ""
        if not secret:
            return self._reply(503, "secret file missing or empty")

        # 1. Authenticity first. json_parse=False: the body is a JWE string, not
        #    JSON. Catch everything: a malformed header raises ValueError or
        #    binascii.Error rather than WebhookVerificationError.
        headers = {k: v for k, v in self.headers.items()}
        try:
            Webhook(secret).verify(body, headers, json_parse=False)
        except Exception as e:  # noqa: BLE001
            return self._reply(401, f"signature verification failed: {type(e).__name__}: {e}")

        # 2. Only then decrypt.
        key, key_kid, key_alg = self.server.key
        try:
            token = jwe.JWE(algs=[key_alg, "A256GCM"])
            token.deserialize(body.decode("ascii").strip())
            header = token.jose_header
        except Exception as e:  # noqa: BLE001
            return self._reply(400, f"not a JWE: {type(e).__name__}: {e}")
        if header.get("kid") != key_kid:
            return self._reply(400, f"unknown kid {header.get('kid')!r} (have {key_kid})")
        try:
            token.decrypt(key)
            event = json.loads(token.payload)
        except Exception as e:  # noqa: BLE001
            return self._reply(400, f"decryption failed: {type(e).__name__}: {e}")

        # Print before acknowledging, so "sealhook saw 2xx" implies "the line is out".
        emit(sys.stdout, {
            "webhook_id": self.headers.get("webhook-id"),
            "alg": header.get("alg"),
            "kid": header.get("kid"),
            "event": event,
        })
        self._reply(204)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--key", required=True, help="private JWK (DIR/private.jwk)")
    p.add_argument("--secret-file", required=True, help="file holding the whsec_ secret")
    cfg = p.parse_args()

    server = ThreadingHTTPServer((cfg.host, cfg.port), Handler)
    server.daemon_threads = True
    server.cfg = cfg
    server.key = load_key(cfg.key)

    def stop(signum, frame):
        # shutdown() waits for serve_forever() to return, so it must not run
        # on the thread that is inside serve_forever().
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    emit(sys.stdout, {"listening": server.server_address[1]})
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
