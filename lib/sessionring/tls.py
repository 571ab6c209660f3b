# TLS for the server (docs/https.md): a server-side SSLContext from a DER key and certificate,
# and the gate every TLS connection goes through before it reaches the pool: caps on TLS
# connections and on handshakes in progress, a deadline on the handshake, and refusals that
# close the socket (a TLS client must never get plaintext).
#
#   from sessionring import tls
#   ctx = tls.context(key_der, cert_der)       # or tls.SSLContext(tls.PROTOCOL_TLS_SERVER) ...
#   Server(store=ring, tls=ctx)                 # turns on Secure + __Host- cookies too
#
# After the handshake a TLS connection is served like any other (pool.py), with one rule more:
# mbedtls may hold decrypted bytes that the socket's readability does not show, so a TLS
# connection parks on readability only after a read that would block (conn.serve reads until
# then; mbedtls has nothing unread at that point). Each connection keeps its TLS buffers (about
# 26 KB with EC on the boards), so it stays open longer between requests
# (Server.tls_keepalive_ms): a new one is a full handshake (no session cache), seconds on a
# board.
import asyncio
import gc

from micropython import const

from .conn import EVICTED, IDLE
from .sockio import adopt, readable

try:
    import tls as _tls  # MicroPython (mbedtls on ESP32, rp2 and the unix port)
except ImportError:  # CPython
    import ssl as _tls

SSLContext = _tls.SSLContext
PROTOCOL_TLS_SERVER = _tls.PROTOCOL_TLS_SERVER

# Forward-secret AEAD suites for an EC key, TLS 1.2 (mbedtls' names; OpenSSL's in CIPHERS_OSSL)
CIPHERS = (
    "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256",
    "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384",
    "TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256",
    "TLS-ECDHE-ECDSA-WITH-AES-128-CCM",
    "TLS-ECDHE-ECDSA-WITH-AES-256-CCM",
)
CIPHERS_OSSL = "ECDHE+AESGCM:ECDHE+CHACHA20"

_POLL_MS = const(20)


def _pem(kind, der):
    import binascii

    b = binascii.b2a_base64(der).replace(b"\n", b"")
    lines = [b"-----BEGIN " + kind + b"-----"]
    for i in range(0, len(b), 64):
        lines.append(b[i : i + 64])
    lines.append(b"-----END " + kind + b"-----\n")
    return b"\n".join(lines)


def context(key, cert):
    # A server SSLContext from DER bytes (EC P-256 key, certificate): TLS 1.2, and only the
    # forward-secret AEAD suites where the TLS module lets us choose. ValueError when the key
    # or certificate does not load.
    ctx = SSLContext(PROTOCOL_TLS_SERVER)
    if hasattr(ctx, "minimum_version"):  # CPython's ssl: files of PEM text only
        import os
        import tempfile

        v = _tls.TLSVersion.TLSv1_2
        ctx.minimum_version = ctx.maximum_version = v
        ctx.set_ciphers(CIPHERS_OSSL)
        fd, path = tempfile.mkstemp(suffix=".pem")
        try:
            os.write(fd, _pem(b"EC PRIVATE KEY", key) + _pem(b"CERTIFICATE", cert))
            os.close(fd)
            ctx.load_cert_chain(path)
        except _tls.SSLError as e:
            raise ValueError("TLS key or certificate does not load: %s" % e) from None
        finally:
            os.remove(path)
        return ctx
    try:
        ctx.load_cert_chain(cert, key)
    except (OSError, ValueError) as e:
        raise ValueError("TLS key or certificate does not load: %r" % (e,)) from None
    have = ctx.get_ciphers() if hasattr(ctx, "get_ciphers") else ()
    pick = [c for c in CIPHERS if c in have]
    if pick:
        ctx.set_ciphers(pick)
    return ctx


class Gate:
    # Admission of TLS connections, before the pool: at most tls_conns open and tls_handshakes
    # handshaking; a connection over the caps waits (a browser opens a few at once) for at
    # most handshake_ms, then its socket is closed. At the connection cap the longest-idle TLS
    # connection is closed for the newcomer.
    def __init__(self, ctx, pool):
        self.ctx = ctx
        self.pool = pool
        self.lim = pool.lim
        self.conns = 0  # TLS connections admitted (handshaking or served)
        self.shaking = 0  # handshakes in progress
        self.waiting = 0  # connections waiting for admission
        self.refused = 0
        self.failed = 0  # handshakes that failed or ran out of time

    def _close(self, s):
        try:
            s.close()
        except Exception:  # noqa: BLE001
            pass
        self.refused += 1
        self.pool.count.refused += 1

    def accepted(self, s, addr):
        # From the accept loop: a task for the connection, or the socket closed.
        m = self.lim
        if self.waiting + self.conns >= m.tls_conns + m.backlog or self.pool.short_of_memory():
            return self._close(s)
        try:
            asyncio.create_task(self.connection(s, addr))
        except MemoryError:
            self._close(s)

    def _evict_idle(self):
        # Close the longest-idle served TLS connection (its task ends and frees its count).
        pool = self.pool
        ck = pool.clock
        old = None
        for c in pool.conns:
            if c.owner > 0 and c.tls and c.state == IDLE and c.why == 0 and c.served:
                if old is None or ck.ticks_diff(c.since, old.since) < 0:
                    old = c
        if old is not None:
            old.why = EVICTED
            old.task.cancel()
            pool.count.evicted += 1

    async def _admit(self):
        # True once this connection may start its handshake; False after handshake_ms.
        m = self.lim
        self.waiting += 1
        try:
            for _ in range(m.handshake_ms // _POLL_MS + 1):
                if self.pool.closing:
                    return False
                if self.conns < m.tls_conns and self.shaking < m.tls_handshakes:
                    return True
                if self.conns >= m.tls_conns:
                    self._evict_idle()
                await asyncio.sleep_ms(_POLL_MS)
            return False
        finally:
            self.waiting -= 1

    async def connection(self, s, addr):
        ts = None
        counted = shaking = False
        try:
            s.setblocking(False)
            if not await self._admit():
                return self._close(s)
            self.conns += 1
            counted = True
            self.shaking += 1
            shaking = True
            try:
                s.setsockopt(6, 1, 1)  # IPPROTO_TCP, TCP_NODELAY
            except OSError:
                pass
            ts = adopt(self.ctx.wrap_socket(s, server_side=True, do_handshake_on_connect=False))
            one = bytearray(1)
            n = await asyncio.wait_for_ms(_first(ts, one), self.lim.handshake_ms)
            self.shaking -= 1
            shaking = False
            if not n:
                return
            await self.pool.connection(ts, addr, None, one[0])
        except asyncio.CancelledError:
            self.failed += 1
            if self.pool.closing:
                raise
        except Exception:  # noqa: BLE001 - bad handshake, timeout, reset, no memory
            self.failed += 1
        finally:
            if shaking:
                self.shaking -= 1
            if counted:
                self.conns -= 1
            # both: after a failed handshake mbedtls lets go of the socket without closing it
            for x in (ts, s):
                try:
                    if x is not None:
                        x.close()
                except Exception:  # noqa: BLE001
                    pass
            gc.collect()  # a TLS connection's buffers are large: give them back at once


async def _first(ts, one):
    # Drive the handshake through to the first byte of the first request: 1, or 0 when the
    # client closed. A failed handshake raises (OSError from mbedtls, ssl.SSLError).
    while True:
        n = ts.readinto(one)
        if n is not None:
            return n
        await readable(ts)
