# host.host_ok: the one Host rule, called directly on bytearrays. IP literals pass only when
# strictly valid; names must be on the list (or, with no list, be valid DNS names); a port is
# digits only.
from _support import no_alloc
from sessionring import host

NAMES = (b"localhost", b"router.lan")


def _ok(value, names=NAMES):
    buf = bytearray(b"xx" + value + b"\r\n")  # the value sits inside a larger buffer
    return host.host_ok(buf, 2, 2 + len(value), names)


def test_ipv4_dotted_quads():
    for good in (b"1.2.3.4", b"0.0.0.0", b"255.255.255.255", b"192.168.4.1", b"10.0.0.1:80",
                 b"127.0.0.1:65535", b"1.2.3.4."):  # fmt: skip
        assert _ok(good), good
    for bad in (b"1.2.3.4.5", b"999.999.999.999", b"256.1.1.1", b"2130706433", b"1.2.3",
                b"1..2.3", b".1.2.3", b"1.2.3.4..", b"01.2.3.4", b"1.2.3.0400", b"0x7f.0.0.1",
                b"1.2.3.4 ", b" 1.2.3.4", b"1.2.3.-4", b"1.2.3.4/", b"1.2.3.4%00",
                b"1234.1.1.1", b"1.2.3.4:", b"1.2.3.4:x"):  # fmt: skip
        assert not _ok(bad), bad


def test_ipv6_literals():
    for good in (b"[::1]", b"[::]", b"[::1]:8080", b"[fe80::1]", b"[2001:db8::8a2e:370:7334]",
                 b"[2001:0db8:0000:0000:0000:ff00:0042:8329]", b"[1:2:3:4:5:6:7:8]",
                 b"[1::]", b"[1:2:3:4:5:6:7::]", b"[::2:3:4:5:6:7:8]", b"[::ffff:192.0.2.1]",
                 b"[1:2:3:4:5:6:1.2.3.4]", b"[ABCD:ef01::1]", b"[::1.2.3.4]"):  # fmt: skip
        assert _ok(good), good
    for bad in (b"[evil.example]", b"[]", b"[:]", b"[:::]", b"[1:2:3:4:5:6:7:8:9]",
                b"[1:2:3:4:5:6:7]", b"[1::2::3]", b"[12345::]", b"[::g]", b"[:1]", b"[1:]",
                b"[::1", b"[::1]x", b"[::1]:", b"[::1]:http", b"[::1]:80:80", b"[1.2.3.4]",
                b"[::1.2.3]", b"[::1.2.3.4:5]", b"[1:2:3:4:5:6:7:1.2.3.4]", b"[fe80::1%25eth0]",
                b"[v1.fe]", b"[::256.1.1.1]", b"[ ::1]", b"[::1]:99999"):  # fmt: skip
        assert not _ok(bad), bad


def test_names_and_ports():
    for good in (b"localhost", b"LocalHost", b"localhost:8080", b"router.lan", b"router.lan.",
                 b"ROUTER.LAN.:80", b"localhost:0", b"localhost:00080"):  # fmt: skip
        assert _ok(good), good
    for bad in (b"localhost:evil", b"localhost:", b"localhost:80:80", b"localhost:-1",
                b"localhost:65536", b"localhost:123456", b"localhost :80", b"localhost..",
                b"evil.example", b"localhost.evil", b"router.lan.evil", b"", b":80",
                b"localhostx", b"router_lan", b"router.lan/x", b"localhost:8 0"):  # fmt: skip
        assert not _ok(bad), bad
    assert not _ok(b"localhost", ())  # no names: only IP literals
    assert _ok(b"1.2.3.4", ())


def test_only_the_value_is_read():
    # the bytes around s..e (a CRLF, the next header) never make a value pass
    buf = bytearray(b"Host: 1.2.3.4.5\r\nX: 1\r\n")
    assert not host.host_ok(buf, 6, 15, NAMES)
    assert host.host_ok(buf, 6, 13, NAMES)  # "1.2.3.4"
    buf = bytearray(b"[::1]:80]")
    assert host.host_ok(buf, 0, 8, NAMES)
    assert not host.host_ok(buf, 0, 9, NAMES)


def test_host_ok_allocates_nothing():
    cases = (b"192.168.4.1:80", b"[2001:db8::ffff:1.2.3.4]:8080", b"router.lan.", b"evil.x:1")
    bufs = [bytearray(c) for c in cases]
    check = lambda buf, e, names: host.host_ok(buf, 0, e, names)
    got = [no_alloc(check, b, len(b), NAMES) for b in bufs]
    assert got == [True, True, True, False]


def test_without_a_list_any_valid_dns_name_passes():
    # names None: the syntax alone (the Origin check's rule), IP literals as strict as ever
    for good in (b"localhost", b"router.lan", b"Router.LAN.", b"router.lan:8080", b"a",
                 b"x-1.example", b"1a.example", b"a.b1", b"192.168.4.1", b"[::1]:80",
                 b"a" * 63 + b".lan", b"ab." * 84 + b"a"):  # fmt: skip
        assert _ok(good, None), good
    for bad in (b"1.2.3.4.5", b"999.1.1.1", b"2130706433", b"1.2.3", b"router.lan:99999",
                b"router.lan:", b"router.lan:x", b"router..lan", b".router", b"router.lan..",
                b"-router.lan", b"router-.lan", b"router_lan", b"router.lan/x", b"user@router",
                b"router lan", b"router.lan?", b"router.lan#", b"r\xc3\xa9seau", b"[zz]",
                b"a" * 64 + b".lan", b"ab." * 84 + b"ab", b"router\r.lan", b"", b":80",
                b"router.123"):  # fmt: skip
        assert not _ok(bad, None), bad
    buf = bytearray(b"router.lan:8080x")
    assert no_alloc(host.host_ok, buf, 0, 15) is True  # its value alone is read
    assert no_alloc(host.host_ok, buf, 0, len(buf)) is False
