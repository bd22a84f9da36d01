"""Strict HTTP/1.1 at the API's door, over raw sockets: framing that could smuggle a second
request is refused with 400 and the connection closed (RFC 9112 §6), `Expect: 100-continue` is
answered before the body, slow or greedy clients are bounded."""
import json
import socket
import subprocess
import time

import pytest

from conftest import ADMIN


def connect(srv, source="127.0.0.1"):
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10, source_address=(source, 0))
    return s


def read_all(s):
    """Everything the server sends until it closes the connection."""
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return out
        out += chunk


def read_response(s, buf=b""):
    """One response (status, headers, body) and what followed it."""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        assert chunk, f"closed before a response: {buf!r}"
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = s.recv(65536)
        assert chunk, "closed inside a body"
        rest += chunk
    return status, headers, rest[:length], rest[length:]


def error_code(body):
    doc = json.loads(body)
    assert set(doc) == {"error"} and set(doc["error"]) == {"code", "message"}, doc
    return doc["error"]["code"]


HIDDEN = b"GET /v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + ADMIN.encode() + b"\r\n\r\n"


def smuggle(framing, body=HIDDEN):
    return (b"POST /healthz HTTP/1.1\r\nHost: x\r\n" + framing + b"\r\n" + body)


@pytest.fixture
def srv(start_server):
    return start_server("--header-timeout-ms", "300", "--idle-timeout-ms", "5000")


@pytest.mark.parametrize("framing", [
    b"Transfer-Encoding: xchunked\r\n",
    b"Transfer-Encoding: identity\r\n",
    b"Transfer-Encoding: gzip, chunked\r\n",
    b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
    b"Content-Length: 3\r\nTransfer-Encoding: identity\r\n",
    b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
    b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",
    b"Content-Length: 3\r\nContent-Length: 4\r\n",
    b"Content-Length: 3, 4\r\n",
    b"Content-Length: -3\r\n",
    b"Content-Length: 0x3\r\n",
])
def test_ambiguous_framing_is_400_and_the_hidden_request_is_never_answered(srv, framing):
    s = connect(srv)
    s.sendall(smuggle(framing))
    status, headers, body, rest = read_response(s)
    assert status == 400, (status, body)
    assert error_code(body) in ("bad_framing", "malformed_request")
    assert headers.get("connection", "").lower() == "close"
    assert rest + read_all(s) == b"", "a second response: the hidden request was answered"


@pytest.mark.parametrize("raw", [
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n",
    b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
])
def test_malformed_requests_get_a_json_400_not_a_silent_close(srv, raw):
    s = connect(srv)
    s.sendall(raw)
    status, _, body, _ = read_response(s)
    assert status == 400 and error_code(body) in ("bad_framing", "malformed_request")


def test_http11_without_host_is_400_and_http10_without_host_is_fine(srv):
    s = connect(srv)
    s.sendall(b"GET /healthz HTTP/1.1\r\n\r\n")
    status, _, body, _ = read_response(s)
    assert status == 400 and error_code(body) == "bad_framing"
    s = connect(srv)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    assert read_response(s)[0] == 400
    s = connect(srv)
    s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
    assert read_response(s)[0] == 200


def test_a_good_chunked_request_still_works(srv):
    s = connect(srv)
    body = json.dumps({"name": "chunky"}).encode()
    s.sendall(b"POST /v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + ADMIN.encode() +
              b"\r\nTransfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
    status, _, answer, _ = read_response(s)
    assert status == 201, answer


def test_expect_100_continue_is_answered_before_the_body(srv):
    body = json.dumps({"name": "eager"}).encode()
    s = connect(srv)
    s.sendall(b"POST /v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + ADMIN.encode() +
              b"\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body))
    status, _, _, rest = read_response(s)
    assert status == 100
    s.sendall(body)
    status, _, answer, _ = read_response(s, rest)
    assert status == 201, answer


@pytest.mark.parametrize("path,auth,length,expected", [
    ("/v1/events", b"", 10, 401),
    ("/v1/tenants", b"", 10, 401),
    ("/publish", b"", 10, 401),
    ("/v1/events", b"Authorization: Bearer " + ADMIN.encode() + b"\r\n", 50 * 1024 * 1024, 413),
])
def test_expect_100_continue_gets_the_final_refusal_at_once(srv, path, auth, length, expected):
    s = connect(srv)
    s.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + auth +
              b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % length)
    status, _, body, _ = read_response(s)  # without sending a byte of the body
    assert status == expected, body
    assert error_code(body) in ("unauthorized", "payload_too_large")


def test_ops_routes_need_no_credential_for_100_continue(srv):
    s = connect(srv)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
    status, _, _, rest = read_response(s)
    assert status == 100
    s.sendall(b"{}")
    assert read_response(s, rest)[0] == 200


def test_a_slow_header_is_cut_at_the_header_deadline_but_idle_keep_alive_is_not(srv):
    s = connect(srv)
    started = time.monotonic()
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
    assert read_all(s) == b""
    assert time.monotonic() - started < 3  # 300 ms configured; 75 s before
    s = connect(srv)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_response(s)[0] == 200
    time.sleep(0.6)  # idle for twice the header deadline: within the idle deadline
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_response(s)[0] == 200


def test_connections_per_client_address_are_capped(start_server):
    srv = start_server("--max-connections-per-client", "3")
    held = []
    for _ in range(3):
        s = connect(srv)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(s)[0] == 200
        held.append(s)
    s = connect(srv)
    status, headers, body, _ = read_response(s)
    assert status == 503 and error_code(body) == "too_many_connections"
    assert int(headers["retry-after"]) >= 1
    assert read_all(s) == b""
    other = connect(srv, source="127.0.0.2")  # another client is not locked out
    other.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_response(other)[0] == 200
    held.pop().close()
    deadline = time.monotonic() + 10
    while True:  # the server sees the close a moment later
        s = connect(srv)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        status = read_response(s)[0]
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert status == 200


def test_the_new_knobs_are_documented_and_checked(binary, tmp_path):
    out = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True).stdout
    for flag in ("--header-timeout-ms", "--body-timeout-ms", "--idle-timeout-ms",
                 "--max-request-memory-bytes", "--max-connections-per-client"):
        assert flag in out
    assert "keep-alive" in out  # what the idle deadline is
    small = subprocess.run([binary, "serve", "--store", f"sqlite:{tmp_path}/d", "--listen", "127.0.0.1:0",
                            "--max-request-memory-bytes", "1000"], capture_output=True, text=True)
    assert small.returncode == 2 and "--max-request-memory-bytes" in small.stderr


def test_request_bodies_share_a_memory_bound_and_a_body_deadline(start_server):
    srv = start_server("--max-payload-bytes", "1000", "--max-request-memory-bytes", "70000",
                       "--body-timeout-ms", "300")
    auth = b"Authorization: Bearer " + ADMIN.encode() + b"\r\n"
    holder = connect(srv)
    holder.sendall(b"POST /v1/tenants HTTP/1.1\r\nHost: x\r\n" + auth +
                   b"Expect: 100-continue\r\nContent-Length: 66000\r\n\r\n")
    assert read_response(holder)[0] == 100  # its 66000 bytes are taken
    s = connect(srv)
    s.sendall(b"POST /v1/tenants HTTP/1.1\r\nHost: x\r\n" + auth + b"Content-Length: 5000\r\n\r\n")
    status, headers, body, _ = read_response(s)
    assert status == 503 and error_code(body) == "server_busy" and int(headers["retry-after"]) >= 1
    assert read_all(holder) == b""  # the holder never sent its body: cut at the body deadline
    body = json.dumps({"name": "after"}).encode()
    deadline = time.monotonic() + 10
    while True:  # the holder's bytes are given back a moment after its connection closed
        s = connect(srv)
        s.sendall(b"POST /v1/tenants HTTP/1.1\r\nHost: x\r\n" + auth +
                  b"Content-Length: %d\r\n\r\n" % len(body) + body)
        status = read_response(s)[0]
        if status != 503 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert status == 201
