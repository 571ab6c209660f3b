# Plain HTTP when the admin page is served over HTTPS (board.json "https": true): every request
# on http_port gets a fixed 301 to the same path on https, from a listener of its own with one
# small buffer: no work slot of the server, no session, nothing else. The Host is checked as
# the admin page checks it (IP literals and the device's own names; else 421), so a DNS
# rebinding page cannot use the redirect either.
import asyncio

from micropython import const

from sessionring.host import host_ok

_BUF = const(1024)  # the request line and the first headers (Host comes early); no more
_CONNS = const(2)  # redirects answered at once; more are closed
_TIMEOUT_MS = const(3000)

_E421 = b"HTTP/1.1 421 Misdirected Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_E400 = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def _safe_path(b):
    # The request target if it is a plain origin-form path (printable ASCII), else "/".
    if not b or b[0] != 0x2F or b[:2] == b"//":
        return b"/"
    for c in b:
        if c <= 0x20 or c >= 0x7F:
            return b"/"
    return b


class Redirect:
    def __init__(self, https_port, hosts):
        self.port = None  # the port it listens on, once it does
        self.https_port = https_port
        self.hosts = tuple(h.lower().encode() for h in hosts)
        self.buf = bytearray(_BUF)
        self.busy = 0
        self.answered = 0
        self.refused = 0

    def location(self, host, path):
        # b"https://HOST[:PORT]PATH": HOST as the client named it, without its port.
        if host[:1] == b"[":
            name = host[: host.find(b"]") + 1]
        else:
            i = host.find(b":")
            name = host if i < 0 else host[:i]
        if name[-1:] == b".":
            name = name[:-1]
        port = b"" if self.https_port == 443 else b":%d" % self.https_port
        return b"https://" + name + port + path

    def answer(self, head):
        # The fixed reply for the head of a request (bytes up to the blank line).
        line_end = head.find(b"\r\n")
        parts = head[:line_end].split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
            return _E400
        host = None
        for ln in head[line_end + 2 :].split(b"\r\n"):
            k, _, v = ln.partition(b":")
            if k.strip().lower() == b"host":
                if host is not None:
                    return _E400
                host = v.strip()
        if not host:
            return _E400
        hb = bytearray(host)
        if not host_ok(hb, 0, len(hb), self.hosts):
            return _E421
        return (
            b"HTTP/1.1 301 Moved Permanently\r\nLocation: "
            + self.location(host, _safe_path(parts[1]))
            + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )

    async def _read_head(self, reader):
        mv = memoryview(self.buf)
        have = 0
        while have < _BUF:
            n = await reader.readinto(mv[have:])
            if not n:
                return None
            have += n
            end = self.buf.find(b"\r\n\r\n", 0, have)
            if end >= 0:
                return bytes(self.buf[: end + 2])
        end = self.buf.rfind(b"\r\n")  # a long head: its complete lines are enough
        return bytes(self.buf[: end + 2]) if end > 0 else None

    async def client(self, reader, writer):
        if self.busy >= _CONNS:
            self.refused += 1
            writer.close()
            return
        self.busy += 1
        try:
            head = await asyncio.wait_for_ms(self._read_head(reader), _TIMEOUT_MS)
            writer.write(self.answer(head) if head else _E400)
            await writer.drain()
            self.answered += 1
        except Exception:  # noqa: BLE001 - a bad client ends only itself
            pass
        finally:
            self.busy -= 1
            try:
                writer.close()
                await writer.wait_closed()
            except Exception:  # noqa: BLE001
                pass

    async def serve(self, host, port):
        srv = await asyncio.start_server(self.client, host, port, backlog=4)
        self.port = port
        if not port:
            for s in getattr(srv, "sockets", ()) or ():
                self.port = s.getsockname()[1]
        return srv
