"""`keygen` writes its four files as one set: a file of the set already there leaves the
directory exactly as it was."""
import os
import subprocess

NAMES = ("private.pem", "private.jwk", "public.pem", "public.jwk")


def snapshot(d):
    out = {}
    for name in sorted(os.listdir(d)):
        with open(os.path.join(d, name), "rb") as f:
            out[name] = (f.read(), os.stat(os.path.join(d, name)).st_mode)
    return out


def test_any_file_of_the_set_already_there_changes_nothing(binary, tmp_path):
    changed, answers = [], {}
    for name in NAMES:
        d = tmp_path / name.replace(".", "-")
        d.mkdir()
        (d / name).write_text("kept as it was\n")
        (d / "unrelated.txt").write_text("x\n")
        before = snapshot(d)
        r = subprocess.run([binary, "keygen", "--type", "x25519", "--out", str(d)],
                           capture_output=True, text=True, timeout=60)
        if snapshot(d) != before:  # a new key beside the old file, or a temporary left
            changed.append((name, sorted(os.listdir(d))))
        answers[name] = (r.returncode, r.stderr)
    assert changed == []
    for name, (code, err) in answers.items():
        assert code != 0 and name in err and "nothing was written" in err, (name, err)


def test_force_replaces_the_whole_set_with_one_matching_pair(binary, tmp_path):
    d = tmp_path / "keys"
    for _ in range(2):
        r = subprocess.run([binary, "keygen", "--type", "x25519", "--out", str(d), "--force"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(d)) == sorted(NAMES)
    import json
    private, public = (json.load(open(d / n)) for n in ("private.jwk", "public.jwk"))
    assert private["x"] == public["x"] and private["kid"] == public["kid"]
