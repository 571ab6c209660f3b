"""sessionring.auth against CPython's own hashlib.pbkdf2_hmac and hmac, on each host interpreter
(CPython, the PyPI unix port, the 32-bit frozen build).

A seeded set of cases covers the corners of PBKDF2: empty and block-sized passwords, keys
longer than one block (hashed first), empty and long salts, one and many iterations, outputs
shorter than, equal to and longer than one SHA-256 block.
"""

import base64
import hashlib
import hmac
import json
import random
import subprocess

import pytest

from harness import HOST_INTERPRETERS, ROOT, interpreter_command
from sessionring import auth


def _cases(seed=7, n=60):
    rnd = random.Random(seed)
    pw_lens = [0, 1, 8, 63, 64, 65, 100, 200]
    salt_lens = [0, 1, 16, 64, 65, 100]
    cases = []
    for i in range(n):
        pw = bytes(rnd.randrange(256) for _ in range(pw_lens[i % len(pw_lens)]))
        salt = bytes(rnd.randrange(256) for _ in range(salt_lens[i % len(salt_lens)]))
        iterations = rnd.choice([1, 2, 3, 17, 100, 257])
        dklen = rnd.choice([1, 16, 31, 32, 33, 64, 65, 100])
        cases.append((pw, salt, iterations, dklen))
    return cases


def _expected(cases):
    return [hashlib.pbkdf2_hmac("sha256", pw, s, n, d).hex() for pw, s, n, d in cases]


def test_pbkdf2_matches_hashlib_on_cpython():
    cases = _cases()
    got = [auth.pbkdf2_sha256(pw, s, n, d).hex() for pw, s, n, d in cases]
    assert got == _expected(cases)


def test_hmac_matches_hmac_module_on_cpython():
    rnd = random.Random(3)
    for klen in (0, 1, 32, 63, 64, 65, 200):
        key = rnd.randbytes(klen)
        for mlen in (0, 1, 55, 56, 64, 1000):
            msg = rnd.randbytes(mlen)
            assert auth.hmac_sha256(key, msg) == hmac.new(key, msg, "sha256").digest()


def test_verify_accepts_hashes_made_by_hashlib():
    for pw in [
        "admin",
        "",
        "correct horse battery staple",
        "p\u00e4ss\u00fcw\u00f6rd",
        "\u2603" * 40,
    ]:
        salt = bytes(range(16))
        dk = hashlib.pbkdf2_hmac("sha256", pw.encode(), salt, 50)
        stored = "pbkdf2-sha256$50$%s$%s" % (
            base64.b64encode(salt).decode(),
            base64.b64encode(dk).decode(),
        )
        assert auth.verify_password(pw, stored)
        assert not auth.verify_password(pw + "x", stored)
        assert auth.hash_password(pw, 50, salt) == stored


@pytest.mark.parametrize("interp", HOST_INTERPRETERS)
def test_pbkdf2_matches_hashlib_under_each_interpreter(tmp_path, interp):
    # The same cases computed by the library running under the interpreter itself.
    cases = _cases(seed=11, n=40)
    data = [[pw.hex(), s.hex(), n, d] for pw, s, n, d in cases]
    script = tmp_path / "pbkdf2_cases.py"
    script.write_text(
        "import json\n"
        "from sessionring import auth\n"
        "cases = json.loads(%r)\n"
        "out = []\n"
        "for pw, s, n, d in cases:\n"
        "    dk = auth.pbkdf2_sha256(bytes.fromhex(pw), bytes.fromhex(s), n, d)\n"
        "    out.append(''.join('%%02x' %% b for b in dk))\n"
        "print(json.dumps(out))\n" % json.dumps(data)
    )
    argv, env = interpreter_command(interp, script)
    proc = subprocess.run(
        argv, env=env, cwd=str(ROOT), capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == _expected(cases)
