"""Fuzzing the parsers with hypothesis (CPython): the request head parser (through
Request.parse, as the server calls it, and everything a handler then reads), the Cookie
parsers, the query/form decoder, the JSON body path, the token decoder and the Host check
(against Python's ipaddress). The checks themselves are in portable/_fuzz_checks.py, so that
every input that ever failed can be kept in portable/data/fuzz_regressions.json and replayed
on the MicroPython unix port too (portable/test_fuzz_regressions.py). A failure here prints
the line to add to that file."""

import binascii
import ipaddress
import json
import os
import re
from urllib.parse import quote

import _fuzz_checks as fc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# bounded: every test here together takes well under 30 s on the development host;
# SESSIONRING_FUZZ_EXAMPLES=N runs N examples per test instead (a longer hunt by hand)
EXAMPLES = int(os.environ.get("SESSIONRING_FUZZ_EXAMPLES", "300"))
FAST = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(name, raw, *args):
    # Run one check; on failure say how to keep the input as a regression case.
    try:
        return fc.CHECKS[name](raw, *args)
    except Exception as e:
        case = {"check": name, "hex": binascii.hexlify(raw).decode(), "why": "..."}
        raise AssertionError(
            "%r\nkeep it in %s:\n%s" % (e, fc.REGRESSIONS, json.dumps(case))
        ) from e


# -- the request head --------------------------------------------------------------------------
CTL = st.sampled_from([b"\x00", b"\x01", b"\x7f", b"\r", b"\n", b"\t", b" ", b"\x0b", b"\xff"])
METHODS = st.one_of(
    st.sampled_from([b"GET", b"POST", b"HEAD", b"PUT", b"OPTIONS", b"get", b"BREW", b"G\x00T"]),
    st.binary(max_size=8),
)
TARGETS = st.one_of(
    st.sampled_from(
        [b"/", b"/x?a=1&b=%41", b"*", b"http://h/p?q", b"https://h", b"/%ff%fe", b"/a b", b"//"]
    ),
    st.binary(max_size=24).map(lambda b: b"/" + b),
    st.binary(max_size=12),
)
VERSIONS = st.sampled_from(
    [
        b"HTTP/1.1",
        b"HTTP/1.0",
        b"HTTP/2.0",
        b"HTTP/1.",
        b"http/1.1",
        b"HTTP/1.1 ",
        b"HTTP/11.1",
        b"",
    ]
)
NAMES = st.one_of(
    st.sampled_from(
        [
            b"Host",
            b"Cookie",
            b"Content-Length",
            b"content-length",
            b"Transfer-Encoding",
            b"Connection",
            b"Expect",
            b"Authorization",
            b"Content-Type",
            b"Ho st",
            b"Host ",
            b"",
        ]
    ),  # fmt: skip
    st.binary(min_size=1, max_size=12),
    st.tuples(st.sampled_from([b"Host", b"X"]), CTL).map(b"".join),
)
VALUES = st.one_of(
    st.sampled_from(
        [
            b"localhost",
            b"127.0.0.1:8080",
            b"[::1]",
            b"evil.example",
            b"10",
            b"-1",
            b" 5",
            b"5, 5",
            b"0x10",
            b"99999999999",
            b"chunked",
            b"close",
            b"keep-alive",
            b"100-continue",
            b"Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAA",
            b"sid=x; sid=y",
            b"application/json",
            b"",
        ]
    ),  # fmt: skip
    st.binary(max_size=40),
    st.tuples(st.binary(max_size=8), CTL, st.binary(max_size=8)).map(b"".join),
)
SEPS = st.sampled_from([b"\r\n", b"\r\n", b"\r\n", b"\n", b"\r", b"\r\n ", b"\r\n\t"])  # obs-fold


@st.composite
def heads(draw):
    line = draw(METHODS) + b" " + draw(TARGETS) + b" " + draw(VERSIONS)
    if draw(st.booleans()):
        line = draw(st.binary(max_size=30))  # or no structure at all
    parts = [line]
    for _ in range(draw(st.integers(0, 8))):
        parts.append(draw(SEPS))
        parts.append(
            draw(NAMES) + draw(st.sampled_from([b": ", b":", b" : ", b"::"])) + draw(VALUES)
        )
    return b"".join(parts)


@FAST
@given(heads())
def test_fuzz_head(raw):
    check("head", raw)


@FAST
@given(st.binary(max_size=300))
def test_fuzz_head_bytes(raw):
    check("head", raw)


@FAST
@given(st.lists(st.tuples(NAMES, VALUES), max_size=6), st.sampled_from([b"1.1", b"1.0"]))
def test_fuzz_head_headers_only(headers, minor):
    # a valid request line: the headers alone decide; conflicting or duplicate Content-Length,
    # Transfer-Encoding with and without it, Host twice
    raw = b"POST /p HTTP/" + minor + b"".join(b"\r\n" + k + b": " + v for k, v in headers)
    st_ = check("head", raw)
    low = [(k.lower(), v) for k, v in headers]
    if st_ == 0:
        assert b"transfer-encoding" not in [k for k, _ in low]
        assert len([k for k, _ in low if k == b"host"]) <= 1


# -- cookies, query, JSON, tokens --------------------------------------------------------------
COOKIE_PARTS = st.sampled_from(
    [b"sid", b"=", b";", b" ", b"\t", b'"', b"sid=", b"a=b", b"\xff", b"\xc3\xa9", b",", b"\\"]
)


@FAST
@given(
    st.one_of(st.binary(max_size=120), st.lists(COOKIE_PARTS, max_size=20).map(b"".join)),
    st.sampled_from(["sid", "a", "csrf", "", "s d", "é"]),
)
def test_fuzz_cookie(raw, name):
    check("cookie", raw, name)


QS_PARTS = st.sampled_from([b"%", b"+", b"&", b"=", b"a", b"4", b"1", b"f", b"g", b"%c3", b"%a9"])


@FAST
@given(st.one_of(st.binary(max_size=80), st.lists(QS_PARTS, max_size=30).map(b"".join)))
def test_fuzz_query_and_form(raw):
    check("query", raw)


@FAST
@given(st.text(max_size=30))
def test_unquote_reverses_quote(s):
    assert fc.request.unquote(quote(s).encode(), False) == s
    assert fc.request.parse_qs(("k=" + quote(s, safe="")).encode()) == {"k": s}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=4), kids, max_size=4)
    ),
    max_leaves=12,
)


@FAST
@given(
    st.one_of(
        JSON.map(lambda v: json.dumps(v).encode()),
        st.tuples(JSON, st.integers(0, 40)).map(lambda t: json.dumps(t[0]).encode()[: t[1]]),
        st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n),
        st.integers(1, 3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
        st.binary(max_size=60),
    )
)
def test_fuzz_json_body(raw):
    check("json", raw)


@FAST
@given(
    st.one_of(
        st.binary(min_size=25, max_size=29),
        st.text(
            alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/",
            min_size=26,
            max_size=28,
        ).map(str.encode),  # fmt: skip
        st.binary(max_size=64),
    )
)
def test_fuzz_token(raw):
    check("token", raw)


# -- Host, against a reference ------------------------------------------------------------------
def reference_host_ok(raw):
    # RFC 3986 host[:port] with strict IP literals, by Python's ipaddress
    try:
        v = raw.decode("ascii")
    except UnicodeDecodeError:
        return False
    m = re.fullmatch(r"(\[[^\]]*\]|[^:\[\]]*)(?::([0-9]{1,5}))?", v)
    if not m or (m.group(2) is not None and int(m.group(2)) > 65535):
        return False
    h = m.group(1)
    if h.startswith("["):
        inner = h[1:-1]
        if "%" in inner or not re.fullmatch(r"[0-9A-Fa-f:.]+", inner):
            return False
        try:
            ipaddress.IPv6Address(inner)
            return True
        except ValueError:
            return False
    if h.endswith("."):
        h = h[:-1]
    if re.fullmatch(r"[0-9.]+", h or "x"):
        try:
            ipaddress.IPv4Address(h)
            return True
        except ValueError:
            return False
    return h.encode().lower() in fc.NAMES


HOST_CHARS = st.sampled_from(list("0123456789abcdefABCDEF:.[]%x ") + ["ff", "::", "255", "256"])


@settings(max_examples=EXAMPLES * 5, deadline=None)
@given(
    st.one_of(
        st.lists(HOST_CHARS, max_size=24).map(lambda cs: "".join(cs).encode()),
        st.tuples(
            st.ip_addresses(v=4).map(str) | st.ip_addresses(v=6).map(lambda a: "[%s]" % a),
            st.sampled_from(["", ":80", ":65535", ":65536", ":", ":x", "."]),
        ).map(lambda t: (t[0] + t[1]).encode()),
        st.sampled_from([b"localhost", b"LOCALHOST.", b"router.lan:8080", b"router.lan..", b"x"]),
        st.binary(max_size=20),
    )
)
def test_fuzz_host_against_ipaddress(raw):
    assert check("host", raw) == reference_host_ok(raw), raw
