#!/usr/bin/env python3
"""A loopback OTLP/HTTP traces sink for bench/run.py --otlp-collector: answers 200 `{}` to every
POST /v1/traces (keep-alive, as a collector does) and counts requests, bytes and spans (the
`"spanId"` members of the JSON body: sealhook exports OTLP/HTTP JSON; the body is not otherwise
decoded, so the sink stays cheap beside the measured processes). GET /stats answers the counts
as JSON; DELETE /stats zeroes them. It prints `otlp sink listening on port N` once bound.

  bench/otlp_sink.py [--listen 127.0.0.1:0]
"""
import argparse
import http.server
import json
import sys
import threading


class Counts:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = self.spans = self.bytes = 0


def handler_for(counts):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the exporter keeps its connection
        # The answer in one write (head and body buffered, flushed after each request), without
        # Nagle: answered in two small writes, the second waits for the exporter's delayed ACK
        # (~40 ms a batch, so that the exporter's bounded queue overflows at a few 10k spans/s).
        wbufsize = 64 * 1024
        disable_nagle_algorithm = True

        def _answer(self, code, body):
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path != "/v1/traces":
                return self._answer(404, b"{}")
            with counts.lock:
                counts.requests += 1
                counts.bytes += len(body)
                counts.spans += body.count(b'"spanId"')
            self._answer(200, b"{}")

        def do_GET(self):
            with counts.lock:
                body = json.dumps({"requests": counts.requests, "spans": counts.spans,
                                   "bytes": counts.bytes}).encode()
            self._answer(200, body)

        def do_DELETE(self):
            with counts.lock:
                counts.requests = counts.spans = counts.bytes = 0
            self._answer(200, b"{}")

        def log_message(self, *args):
            pass

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--listen", default="127.0.0.1:0")
    a = p.parse_args()
    host, port = a.listen.rsplit(":", 1)
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("otlp_sink: loopback only")
    server = http.server.ThreadingHTTPServer((host, int(port)), handler_for(Counts()))
    print(f"otlp sink listening on port {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
