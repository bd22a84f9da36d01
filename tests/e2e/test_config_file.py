"""`serve --config`: TOML numbers, floats, booleans, strings and arrays as a real server takes
them, the README's complete example, and a config path that is missing or a directory."""
import os
import re
import subprocess

import requests

from conftest import ADMIN, ROOT, Proc


def readme_toml():
    """The ```toml block of README.md's Configuration section, as the unit test reads it."""
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    section = text[text.index("\n## Configuration\n"):]
    section = section[:section.index("\n## ", 1)]
    return re.search(r"\n```toml\n(.*?\n)```\n", section, re.S).group(1)


def test_integers_floats_booleans_and_arrays_in_toml_reach_the_server(binary, tmp_path):
    cfg = tmp_path / "sealhook.toml"
    cfg.write_text('listen = "127.0.0.1:0"\nmax-attempts = 3\nmax_payload_bytes = 2048\n'
                   "retry-jitter = 0.5\nallow-private-networks = true\nqueue = \"memory\"\n"
                   'allow-networks = ["10.1.0.0/16", "fd00:1::/64"]\n'
                   f'store = "sqlite:{tmp_path}/store"\nadmin-token = "{ADMIN}"\n')
    p = Proc([binary, "serve", "--config", str(cfg)])
    try:
        port = p.wait_line(r"listening on 127\.0\.0\.1:(\d+)").group(1)
        auth = {"Authorization": f"Bearer {ADMIN}"}
        base = f"http://127.0.0.1:{port}"
        tenant = requests.post(base + "/v1/tenants", json={"name": "t"}, headers=auth).json()
        for size, status in ((2048, 202), (2049, 413)):
            payload = '"' + "x" * (size - 2) + '"'
            r = requests.post(base + "/v1/events", headers=dict(auth, **{"Content-Type": "application/json"}),
                              data='{"type":"a","tenant":"%s","payload":%s}' % (tenant["id"], payload))
            assert r.status_code == status, (size, r.text)
    finally:
        p.stop()


def test_the_readme_example_starts_serve(binary, tmp_path):
    cfg = tmp_path / "readme.toml"
    cfg.write_text(readme_toml())
    p = Proc([binary, "serve", "--config", str(cfg), "--listen", "127.0.0.1:0",
              "--store", f"sqlite:{tmp_path}/store", "--admin-token", ADMIN])
    try:
        port = p.wait_line(r"listening on 127\.0\.0\.1:(\d+)").group(1)
        p.wait_line(r"queue sqlite .*sync normal")
        assert requests.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
    finally:
        assert p.stop() == 0


def test_a_config_that_is_missing_or_a_directory_stops_the_start(binary, tmp_path):
    cases = ((["--config", str(tmp_path)], None, "is a directory"),
             (["--config", str(tmp_path / "nope.toml")], None, "does not exist"),
             ([], dict(os.environ, SEALHOOK_CONFIG=str(tmp_path)), "is a directory"),
             (["--config", ""], None, "--config needs"))
    for args, env, message in cases:
        work = tmp_path / f"cwd{len(os.listdir(tmp_path))}"
        work.mkdir()
        r = subprocess.run([binary, "serve", "--listen", "127.0.0.1:0", *args], cwd=work, env=env,
                           capture_output=True, text=True, timeout=15)
        assert r.returncode != 0 and message in r.stderr, (args, r.returncode, r.stderr)
        assert "admin token" not in r.stdout and "listening" not in r.stdout, r.stdout
        assert os.listdir(work) == [], os.listdir(work)  # no ./sealhook-data


def test_a_wrongly_typed_toml_value_names_the_key(binary, tmp_path):
    for line, key in (("max-attempts = true", "max-attempts"), ("allow_private_networks = 1",
                      "allow_private_networks"), ("listen = [1, 2]", "listen"),
                      ("retry-base-ms = 1.5", "retry-base-ms")):
        cfg = tmp_path / "bad.toml"
        cfg.write_text(line + "\n")
        r = subprocess.run([binary, "serve", "--config", str(cfg), "--listen", "127.0.0.1:0",
                            "--store", f"sqlite:{tmp_path}/s"], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode != 0 and f"'{key}'" in r.stderr, (line, r.stderr)
