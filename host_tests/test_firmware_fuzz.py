"""Black-box protocol fuzz of the running firmware (tools/run.py, loopback): malformed request
lines, control bytes in header names and values, obs-fold, duplicate and conflicting
Content-Length, Transfer-Encoding with and without Content-Length, invalid UTF-8 and %-junk in
forms, deep and huge JSON, random bytes. Every request goes on its own connection with a
complete head (and as many body bytes as it declares), so a missing answer is a hang, not a
timeout the request asked for. Asserts: no 500, no hang, the server up after, a logged-in
admin still served and a new login let in. Prints the answers counted by status."""

import json
import random
from collections import Counter

import pytest
from fwclient import PASSWORD, Admin, Client, Firmware, ask

SEED = 11
PER_KIND = 40  # inputs of each kind: 12 kinds, about 500 requests a run


def _cases(port, sid, csrf, rng):
    host = b"Host: 127.0.0.1:%d\r\n" % port
    origin = b"Origin: http://127.0.0.1:%d\r\n" % port
    ck = b"Cookie: sid=%s\r\n" % sid.encode()
    junk = lambda n: bytes(rng.randrange(256) for _ in range(n))  # noqa: E731
    ctl = lambda: bytes([rng.choice([0, 1, 8, 9, 11, 12, 13, 10, 27, 127, 255])])  # noqa: E731

    def post(path, ctype, body, extra=b""):
        return (
            b"POST " + path + b" HTTP/1.1\r\n" + host + origin + ck + extra
            + b"Content-Type: " + ctype + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        )  # fmt: skip

    kinds = {
        "request line": lambda: (
            rng.choice([b"GET", b"GE T", b"get", b"BREW", b"", b"GET\x00", b"\x16\x03\x01"])
            + rng.choice([b" ", b"  ", b"\t", b""])
            + rng.choice([b"/", b"", b"*", b"x", b"/\x7f", b"/%", b"http://h", b"/" + junk(5)])
            + rng.choice(
                [b" HTTP/1.1", b" HTTP/1.0", b" HTTP/2", b" HTTP/1.1 x", b"", b" HTTP/9.9"]
            )
            + b"\r\n"
            + host
            + b"\r\n"
        ),
        "long request line": lambda: (
            b"GET /" + b"a" * rng.randrange(400, 3000) + b" HTTP/1.1\r\n" + host + b"\r\n"
        ),
        "control in names": lambda: (
            b"GET /login HTTP/1.1\r\n" + host + b"X" + ctl() + b"Y: 1\r\n\r\n"
        ),
        "control in values": lambda: (
            b"GET /login HTTP/1.1\r\n" + host + b"X-A: a" + ctl() + b"b\r\n" + ck + b"\r\n"
        ),
        "obs-fold": lambda: (
            b"GET /login HTTP/1.1\r\n"
            + host
            + b"X-A: a\r\n"
            + rng.choice([b" ", b"\t"])
            + b"folded\r\n\r\n"
        ),
        "content-length": lambda: (
            lambda v1, v2: (
                b"POST /login HTTP/1.1\r\n"
                + host
                + b"Content-Length: "
                + v1
                + b"\r\n"
                + (b"Content-Length: " + v2 + b"\r\n" if v2 else b"")
                + b"\r\n"
                + b"x" * 12
            )
        )(
            rng.choice([b"3", b"-1", b"+3", b" 3", b"3,3", b"0x3", b"", b"99999999999", b"3 3"]),
            rng.choice([None, b"3", b"4", b"03", b""]),
        ),
        "transfer-encoding": lambda: (
            b"POST /login HTTP/1.1\r\n"
            + host
            + b"Transfer-Encoding: "
            + rng.choice([b"chunked", b"gzip, chunked", b"identity", b""])
            + b"\r\n"
            + rng.choice([b"", b"Content-Length: 5\r\n"])
            + b"\r\n5\r\nhello\r\n0\r\n\r\n"
        ),
        "form junk": lambda: post(
            rng.choice([b"/login", b"/settings"]),  # (not /logout: it would end the admin)
            b"application/x-www-form-urlencoded",
            rng.choice([b"csrf=" + csrf.encode() + b"&", b""])
            + rng.choice([b"form=device&", b"form=other&", b"handle=", b""])
            + b"&".join(
                rng.choice([b"name", b"idle_min", b"%ff", b"%", b"wifi_ssid", b"\xff\xfe"])
                + b"="
                + rng.choice([b"%c3%28", b"%zz", b"\xc3", b"%%%", b"+" * 5, junk(6), b"%00"])
                for _ in range(rng.randrange(1, 6))
            ),
        ),
        "deep json": lambda: (
            lambda n: post(b"/api/login", b"application/json", b"[" * n + b"]" * n)
        )(rng.randrange(10, 1000)),
        "huge json": lambda: post(
            b"/api/login",
            b"application/json",
            json.dumps(
                {
                    "username": "admin",
                    "password": rng.randrange(9),
                    "x": "x" * rng.randrange(100, 1900),
                }
            ).encode(),
        ),
        "bad json": lambda: post(
            b"/api/login",
            rng.choice([b"application/json", b"application/json; charset=\xff", b"text/x"]),
            rng.choice(
                [b'{"username": "\xff\xfe"}', b'{"a":', b"\x00" * 10, junk(30), b"1e99999"]
            ),
        ),
        "random bytes": lambda: junk(rng.randrange(1, 200)) + b"\r\n\r\n",
    }
    out = []
    for kind, make in kinds.items():
        for _ in range(PER_KIND):
            out.append((kind, make()))
    rng.shuffle(out)
    return out


@pytest.mark.parametrize("interp", ("micropython", "cpython"))
def test_protocol_fuzz(interp, tmp_path):
    # no input here is a well-formed password guess: the throttle is the abuse tests' subject,
    # and after ten guesses it would rightly keep a new browser waiting
    f = Firmware(interp, tmp_path).start()
    try:
        admin = Admin(f.port, PASSWORD)
        assert admin.login()
        st, _ = admin.status()
        assert st == 200
        c = Client(f.port)
        c.cookies["sid"] = admin.sid
        csrf = c.page_csrf("/settings")
        rng = random.Random(SEED)
        counts = Counter()
        by_kind = {}
        bad = []
        for kind, raw in _cases(f.port, admin.sid, csrf, rng):
            got = ask(f.port, raw, source="127.0.0.2")
            counts[got] += 1
            by_kind.setdefault(kind, Counter())[got] += 1
            if got in (500, "hang", "refused"):
                bad.append((kind, got, raw[:120]))
        print("\nfirmware fuzz on %s: %d requests, answers by status: %s" % (
            interp, sum(counts.values()), dict(sorted(counts.items(), key=str))))  # fmt: skip
        for kind, k in sorted(by_kind.items()):
            print("  %-18s %s" % (kind, dict(sorted(k.items(), key=str))))
        assert not bad, bad[:10]
        assert f.proc.poll() is None, "the firmware died:\n" + f.output
        # the logged-in admin is still served, and a new login gets through
        st, body = admin.status()
        assert st == 200 and body["session"]["user"] == "admin"
        new = Admin(f.port, PASSWORD)
        assert new.login(), (new.last, f.output[-2000:])
        assert "Traceback" not in f.output, f.output[-3000:]
    finally:
        f.stop()
