# sessionring.cookie: reading Cookie headers as browsers send them, writing Set-Cookie.
from _support import raises
from sessionring import _plain, cookie

TOK = "AbCdEfGhIjKlMnOpQrStUvWxYz0"  # looks like a session token (27 chars)

# (Cookie header value, what parse() must return). get(h, n) must agree with parse(h).get(n).
REAL_WORLD = [
    # Chrome on a page that also runs analytics
    (
        "_ga=GA1.1.1234567890.1700000000; _gid=GA1.1.987654321.1700000000; sr=" + TOK + "; "
        "_ga_ABC123XYZ=GS1.1.1700000000.1.1.1700000100.0.0.0",
        {
            "_ga": "GA1.1.1234567890.1700000000",
            "_gid": "GA1.1.987654321.1700000000",
            "sr": TOK,
            "_ga_ABC123XYZ": "GS1.1.1700000000.1.1.1700000100.0.0.0",
        },
    ),
    # prefixed names, dots and dashes in names, base64 values with '=' padding
    (
        "__Host-sr=" + TOK + "; __Secure-next-auth.session-token=eyJhbGciOi.J9==; "
        "csrftoken=a1b2; JSESSIONID=ABCDEF0123456789; PHPSESSID=q1w2e3",
        {
            "__Host-sr": TOK,
            "__Secure-next-auth.session-token": "eyJhbGciOi.J9==",
            "csrftoken": "a1b2",
            "JSESSIONID": "ABCDEF0123456789",
            "PHPSESSID": "q1w2e3",
        },
    ),
    # Cloudflare and friends
    ("__cf_bm=Xy.z-1_2; cf_clearance=abc-123-0-1; _fbp=fb.1.1700.42", None),
    # the same name twice (e.g. one for Path=/ and one for Path=/admin): the first one wins
    ("sr=first; sr=second", {"sr": "first"}),
    ("other=1; sr=first; x=2; sr=second; sr=third", {"other": "1", "sr": "first", "x": "2"}),
    # quoted values lose one pair of quotes; lone quotes stay
    ('sr="' + TOK + '"', {"sr": TOK}),
    ('a=""; b="x; c="; d="', {"a": "", "b": '"x', "c": '"', "d": '"'}),
    ('a=""x""', {"a": '"x"'}),
    # spaces and tabs around names, '=' and values
    ("sr = abc ;x=1", {"sr": "abc", "x": "1"}),
    ("\t sr\t=\tabc\t;   x  =  1  ", {"sr": "abc", "x": "1"}),
    ("a=b c", {"a": "b c"}),
    # empty values are present, with value ""
    ("sr=; x=1", {"sr": "", "x": "1"}),
    ("x=1; sr=", {"x": "1", "sr": ""}),
    ("sr= ; x=1", {"sr": "", "x": "1"}),
    # no value: the pair is skipped
    ("sr; x=1", {"x": "1"}),
    ("x=1; sr", {"x": "1"}),
    # trailing, leading and repeated semicolons
    ("x=1;", {"x": "1"}),
    ("x=1;;; ", {"x": "1"}),
    (";;x=1", {"x": "1"}),
    ("; ; x=1 ;; y=2;", {"x": "1", "y": "2"}),
    # '=' inside the value, JSON-ish and comma-separated legacy values stay whole
    ("b64=YWJj==; x=a=b=c", {"b64": "YWJj==", "x": "a=b=c"}),
    ('prefs={"a":1,"b":2}; sr=v', {"prefs": '{"a":1,"b":2}', "sr": "v"}),
    ("a=1, b=2", {"a": "1, b=2"}),
    # names that merely start or end like another name do not match it
    (
        "xsr=1; sr2=2; sr.x=3; sr-x=4; sr=ok",
        {"xsr": "1", "sr2": "2", "sr.x": "3", "sr-x": "4", "sr": "ok"},
    ),
    # non-ASCII: a UTF-8 value is kept; junk names are skipped
    ("lang=fr-\u00e9t\u00e9; sr=ok", {"lang": "fr-\u00e9t\u00e9", "sr": "ok"}),
    ("\u00e9t\u00e9=1; sr=ok", {"sr": "ok"}),
    ("\u2603=snow; sr=\u2603", {"sr": "\u2603"}),
    # names with separators or spaces inside are not tokens: skipped
    ("a b=1; (x)=2; a/b=3; sr=ok", {"sr": "ok"}),
    ('a"b=1; a,b=2; a@b=4', {}),
    # a JavaScript-set cookie without a name and other junk
    ("=abc; ==; =; sr=ok", {"sr": "ok"}),
]

MALFORMED = [
    "",
    " ",
    ";",
    ";;;",
    "=",
    "==",
    "=abc",
    "abc",
    '"',
    '"a=b"',
    "\x00\x01",
    "\r\n",
    "a\x00=1",
]


def _forms(h):
    # The same header as str, bytes, bytearray and memoryview.
    b = h.encode()
    return (h, b, bytearray(b), memoryview(b))


def _check_header(h, want):
    for form in _forms(h):
        got = cookie.parse(form)
        assert got == want, (h, form, got, want)
        for name in want:
            assert cookie.get(form, name) == want[name], (h, name)
        assert cookie.get(form, "missing") is None


def test_real_world_headers():
    for h, want in REAL_WORLD:
        if want is None:
            want = {}
            for pair in h.split("; "):
                k, v = pair.split("=", 1)
                want[k] = v
        _check_header(h, want)


def test_get_returns_str_for_every_input_type():
    for form in _forms("a=1; sr=" + TOK):
        v = cookie.get(form, "sr")
        assert type(v) is str and v == TOK


def test_multiple_headers_joined():
    h = "; ".join(["_ga=1; sr=one", "theme=dark", "sr=two"])
    assert cookie.parse(h) == {"_ga": "1", "sr": "one", "theme": "dark"}
    assert cookie.get(h, "theme") == "dark"


def test_names_are_case_sensitive():
    h = "SR=upper; sr=lower"
    assert cookie.get(h, "sr") == "lower"
    assert cookie.get(h, "SR") == "upper"
    assert cookie.get(h, "Sr") is None


def test_bytes_that_are_not_utf8_are_skipped():
    h = b"\xff\xfe=1; sr=\xff\xfe; j\xe9=2; sr=ok; x=\xc3"
    assert cookie.get(h, "sr") == "ok"
    assert cookie.get(memoryview(h), "sr") == "ok"
    assert cookie.parse(h) == {"sr": "ok"}
    assert cookie.get(h, "x") is None
    assert cookie.get(b"\xc3\xa9=1; a=\xc3\xa9", "a") == "\u00e9"


def test_very_long_headers():
    pairs = ["c%03d=%s" % (i, "v" * 60) for i in range(120)]
    h = "; ".join(pairs + ["sr=" + TOK])
    assert len(h) > 8000
    for form in _forms(h):
        assert cookie.get(form, "sr") == TOK
        assert cookie.get(form, "c119") == "v" * 60
        assert cookie.get(form, "c120") is None
    d = cookie.parse(h)
    assert len(d) == 121 and d["c000"] == "v" * 60 and d["sr"] == TOK
    big = "x" * 16000
    assert cookie.get("big=" + big + "; sr=1", "big") == big
    assert cookie.get("big=" + big + "; sr=1", "sr") == "1"


def test_malformed_headers_never_raise():
    for h in MALFORMED:
        for form in _forms(h):
            assert cookie.parse(form) == {}, h
            for name in ("a", "sr", "abc"):
                assert cookie.get(form, name) is None, (h, name)


def test_wrong_types_never_raise():
    for h in (None, 0, 1.5, [], ["sr=1"], {"sr": "1"}, ("sr=1",), object()):
        assert cookie.get(h, "sr") is None
        assert cookie.parse(h) == {}
    for name in (None, 0, b"sr", "", ["sr"]):
        assert cookie.get("sr=1", name) is None
        assert cookie.get(b"sr=1", name) is None
    assert cookie.get(b"sr=1", "\u00e9") is None


def _junk(alphabet, x, count):
    # count deterministic junk headers (bytes, 0 to 39 long) over alphabet, from seed x
    out = []
    for _ in range(count):
        n = x % 40
        buf = bytearray(n)
        for i in range(n):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
            buf[i] = alphabet[(x >> 16) % len(alphabet)]
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out.append(bytes(buf))
    return out


def test_get_agrees_with_parse_on_generated_junk():
    # A deterministic stream of junk headers over an alphabet of separators and odd bytes.
    alphabet = b'ab sr=;"\t,\xff\xc3\xa9_.-='
    names = ("a", "b", "sr", "ab", "s", "_")
    for h in _junk(alphabet, 12345, 400):
        d = cookie.parse(h)
        for name in names:
            assert cookie.get(h, name) == d.get(name), (h, name)
        try:
            s = h.decode()
        except UnicodeError:
            continue
        ds = cookie.parse(s)
        assert ds == d, (h, ds, d)
        for name in names:
            assert cookie.get(s, name) == ds.get(name), (s, name)


def _span_value(fn, h, name):
    # What span (fn) finds for name in the header h (bytes), as get() would return it.
    buf = bytearray(b"Cookie: " + h + b"\r\n")  # somewhere inside a request buffer
    sp = fn(buf, 8, 8 + len(h), name.encode())
    if sp < 0:
        return None
    return bytes(buf[sp >> 16 : sp & 0xFFFF]).decode()


def test_span_finds_what_get_finds():
    # The server finds the session cookie in place with span() (viper where it runs, else
    # _plain.cookie_span): both must agree with get() on every header whose values are ASCII.
    headers = [h for h, _ in REAL_WORLD] + MALFORMED
    headers += ["SR=upper; sr=lower", "a=1;sr=  x  ;b=2", 'sr = "q"', "sr", "sr=", "s=1; sr=2"]
    alphabet = b'ab sr=;"\t,_.-='
    for h in _junk(alphabet, 99, 300):
        headers.append(h.decode())
    for h in headers:
        if any(ord(c) > 127 for c in h):
            continue
        for name in ("sr", "SR", "a", "_ga", "__Host-sr", "s", "missing"):
            want = cookie.get(h, name)
            assert _span_value(cookie.span, h.encode(), name) == want, (h, name)
            assert _span_value(_plain.cookie_span, h.encode(), name) == want, (h, name)


# -- writing ---------------------------------------------------------------------------------
def test_build_defaults():
    assert cookie.build("sr", TOK) == "sr=" + TOK + "; Path=/; HttpOnly; SameSite=Strict"


def test_build_each_attribute():
    b = cookie.build
    assert b("sr", "v", max_age=3600) == "sr=v; Max-Age=3600; Path=/; HttpOnly; SameSite=Strict"
    assert b("sr", "v", max_age=0) == "sr=v; Max-Age=0; Path=/; HttpOnly; SameSite=Strict"
    assert b("sr", "v", path="/admin") == "sr=v; Path=/admin; HttpOnly; SameSite=Strict"
    assert b("sr", "v", http_only=False) == "sr=v; Path=/; SameSite=Strict"
    assert b("sr", "v", same_site="Lax") == "sr=v; Path=/; HttpOnly; SameSite=Lax"
    assert b("sr", "v", same_site="strict") == "sr=v; Path=/; HttpOnly; SameSite=Strict"
    assert b("sr", "v", same_site=None) == "sr=v; Path=/; HttpOnly"
    assert b("sr", "v", secure=True) == "sr=v; Path=/; Secure; HttpOnly; SameSite=Strict"
    assert (
        b("sr", "v", secure=True, same_site="None")
        == "sr=v; Path=/; Secure; HttpOnly; SameSite=None"
    )
    assert (
        b("__Host-sr", "v", 60, "/", True, "Strict", True)
        == "__Host-sr=v; Max-Age=60; Path=/; Secure; HttpOnly; SameSite=Strict"
    )
    assert b("sr", "") == "sr=; Path=/; HttpOnly; SameSite=Strict"
    assert b(b"sr", b"v") == "sr=v; Path=/; HttpOnly; SameSite=Strict"


def test_build_every_combination():
    for max_age in (None, 0, 86400):
        for path in ("/", "/admin"):
            for http_only in (True, False):
                for same_site in ("Strict", "Lax", None):
                    for secure in (False, True):
                        out = cookie.build("sr", TOK, max_age, path, http_only, same_site, secure)
                        parts = out.split("; ")
                        assert parts[0] == "sr=" + TOK
                        ages = [p for p in parts if p.startswith("Max-Age=")]
                        assert ages == ([] if max_age is None else ["Max-Age=%d" % max_age])
                        assert ("Path=" + path) in parts
                        assert ("HttpOnly" in parts) == http_only
                        assert ("Secure" in parts) == secure
                        ss = [p for p in parts if p.startswith("SameSite=")]
                        assert ss == ([] if same_site is None else ["SameSite=" + same_site])
                        for p in parts:
                            assert not p.lower().startswith("domain"), out
                            assert not p.lower().startswith("expires"), out
                        assert len(parts) == len(set(parts))
                        # the browser sends back exactly what was set
                        assert cookie.get(parts[0], "sr") == TOK


def test_build_rejects_bad_names():
    bad = ["", "a b", "a=b", "a;b", "a,b", 'a"b', "a\tb", "a\nb", "\u00e9", "a/b", "(x)"]
    bad += ["a:b", "a[b]", "a?b", "a{b}", "a\\b", "a@b", "a<b>", "\x7f", None, 5, ["sr"]]
    for n in bad:
        e = raises(ValueError, cookie.build, n, "v")
        assert "name" in str(e)
        assert not cookie.valid_name(n)
    for n in ("sr", "_ga", "__Host-sr", "a.b", "a-b", "A_1", "!#$%&'*+-.^_`|~", "x" * 100):
        assert cookie.valid_name(n), n


def test_build_rejects_bad_values_without_echoing_them():
    bad = [
        " ",
        "sec ret",
        "sec;ret",
        "sec,ret",
        '"secret"',
        "sec\\ret",
        "sec\x7fret",
        "s\u00e9cret",
        "sec\nret",
        "sec\x00ret",
        None,
        5,
        ["x"],
    ]
    for v in bad:
        e = raises(ValueError, cookie.build, "sr", v)
        msg = str(e)
        assert "value" in msg and "sr" in msg
        assert "sec" not in msg
        assert not cookie.valid_value(v)
    ok = "!#$%&'()*+-./0123456789:<=>?@AZ[]^_`az{|}~"
    assert cookie.valid_value(ok) and cookie.valid_value("") and cookie.valid_value(TOK)
    assert cookie.build("sr", ok).startswith("sr=" + ok + ";")


def test_build_rejects_bad_attributes():
    for max_age in (-1, 1.5, True, "10"):
        raises(ValueError, cookie.build, "sr", "v", max_age)
    for path in ("", "admin", "/a;b", "/a\nb", None, b"/"):
        raises(ValueError, cookie.build, "sr", "v", None, path)
    for ss in ("bogus", "", 1, "Strict;"):
        raises(ValueError, cookie.build, "sr", "v", None, "/", True, ss)
    e = raises(ValueError, cookie.build, "sr", "v", None, "/", True, "None", False)
    assert "secure" in str(e)


def test_build_size_limit():
    assert cookie.build("sr", "v" * 4094)
    raises(ValueError, cookie.build, "sr", "v" * 4095)


def test_prefix_rules():
    assert cookie.build("__Host-sr", "v", secure=True)
    e = raises(ValueError, cookie.build, "__Host-sr", "v")
    assert "__Host-" in str(e)
    raises(ValueError, cookie.build, "__Host-sr", "v", None, "/admin", True, "Strict", True)
    raises(ValueError, cookie.build, "__host-sr", "v")  # browsers match prefixes in any case
    raises(ValueError, cookie.build, "__Secure-sr", "v")
    assert cookie.build("__Secure-sr", "v", path="/admin", secure=True)
    raises(ValueError, cookie.clear, "__Host-sr")
    # only a real prefix counts
    assert cookie.build("x__Host-sr", "v")
    assert cookie.build("_Host-sr", "v")


def test_clear():
    assert cookie.clear("sr") == "sr=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict"
    assert (
        cookie.clear("__Host-sr", secure=True)
        == "__Host-sr=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Strict"
    )
    assert cookie.clear("sr", "/admin", False, "Lax") == (
        "sr=; Max-Age=0; Path=/admin; HttpOnly; SameSite=Lax"
    )
    raises(ValueError, cookie.clear, "bad name")


def test_name_for():
    assert cookie.name_for("sr", False) == "sr"
    assert cookie.name_for("sr", True) == "__Host-sr"
    # the prefixed name always satisfies the prefix rules when secure
    assert cookie.build(cookie.name_for("sr", True), TOK, secure=True)
