"""--ca-file: an HTTPS endpoint on loopback whose certificate a test CA signed (made here with
`cryptography`). Without the file the attempt fails TLS verification; with it (flag, environment
variable or TOML key) the delivery succeeds. A bad file stops the start."""
import datetime
import http.server
import ipaddress
import os
import ssl
import subprocess
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import ADMIN


def make_ca_and_server_cert(tmp_path):
    """A CA (its PEM at ca.pem) and a certificate for IP 127.0.0.1 it signed (server.pem/key)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sealhook test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    paths = {n: str(tmp_path / f"{n}.pem") for n in ("ca", "server", "server-key")}
    with open(paths["ca"], "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths["server"], "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths["server-key"], "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return paths


class HttpsReceiver:
    """Answers 200 over TLS with the CA-signed certificate; counts the requests it got."""

    def __init__(self, paths):
        self.requests = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.requests += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(paths["server"], paths["server-key"])
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def clean_env():
    """The environment without anything that would change the trust store."""
    return {k: v for k, v in os.environ.items()
            if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR", "SEALHOOK_CA_FILE")}


def settled(srv, keygen, name, url):
    """Publishes one event to a new endpoint (one attempt) and returns its settled record."""
    t = srv.onboard(name, keygen(name, "x25519"), url, max_attempts=1)
    srv.ok("POST", "/v1/events", t["api_key"], {"type": "a", "payload": 1}, status=202)
    key = t["api_key"]
    d = srv.wait_list(key, "limit=1", 1)["data"][0]
    deadline = time.monotonic() + 30
    while True:  # polls the API, as conftest's wait_status does
        record = srv.ok("GET", f"/v1/deliveries/{d['id']}", key)
        if record["status"] != "pending" and record["attempts"]:
            return record
        assert time.monotonic() < deadline, record
        time.sleep(0.05)


def test_without_the_ca_file_the_private_ca_fails_verification(start_server, keygen, tmp_path):
    rx = HttpsReceiver(make_ca_and_server_cert(tmp_path))
    try:
        srv = start_server(env=clean_env())
        d = settled(srv, keygen, "no-ca", rx.url)
        assert d["status"] == "dead", d
        assert d["attempts"][0]["error"].startswith("tls: certificate verify failed"), d["attempts"]
        assert rx.requests == 0
    finally:
        rx.close()


def test_with_the_ca_file_by_flag_env_or_toml_the_delivery_succeeds(start_server, keygen, tmp_path):
    paths = make_ca_and_server_cert(tmp_path)
    rx = HttpsReceiver(paths)
    config = tmp_path / "sealhook.toml"
    config.write_text(f'ca-file = "{paths["ca"]}"\n')
    try:
        ways = [(("--ca-file", paths["ca"]), clean_env()),
                ((), {**clean_env(), "SEALHOOK_CA_FILE": paths["ca"]}),
                (("--config", str(config)), clean_env())]
        for i, (args, env) in enumerate(ways):
            srv = start_server(*args, env=env)
            d = settled(srv, keygen, f"ca-{i}", rx.url)
            assert d["status"] == "delivered", (args, d)
            assert d["attempts"][0]["status_code"] == 200
        assert rx.requests == len(ways)
    finally:
        rx.close()


def test_a_bad_ca_file_stops_the_start(binary, tmp_path):
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    empty = tmp_path / "empty.pem"
    empty.write_text("")
    for path, hint in ((str(tmp_path / "missing.pem"), "No such file"),
                       (str(tmp_path), "not a regular file"),
                       (str(garbage), "no PEM certificate"),
                       (str(empty), "no PEM certificate")):
        store = tmp_path / "never-made"
        r = subprocess.run([binary, "serve", "--listen", "127.0.0.1:0", "--store", f"sqlite:{store}",
                            "--admin-token", ADMIN, "--ca-file", path],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode != 0, (path, r.stdout, r.stderr)
        assert "--ca-file" in r.stderr and hint in r.stderr, (path, r.stderr)
        assert not store.exists(), "nothing is made before the start is refused"
