# Start-up: board profile, data folder, settings, admin password, network, then the admin page.
# boot.py calls boot() (network up early); main.py calls run(), which boots first if needed.
import gc

import micropython  # noqa: F401 - on CPython the host shim's import completes time.ticks_*

from . import board, net, store
from .account import Account
from .settings import Settings

_booted = None


def boot(log=print):
    # (profile, settings, account) after bringing the network up; done once.
    global _booted
    if _booted is not None:
        return _booted
    prof = board.load(log=log)
    folder = board.data_dir()
    store.makedirs(folder)
    st = Settings(folder, prof)
    st.load(log)
    it = prof["pbkdf2_iterations"]
    if it <= 0:  # 0 in the profile: measure this chip (about 1 s per login)
        from sessionring import auth

        it = auth.iterations_for(1000)
        log("sessionring: PBKDF2 iterations for this chip: %d" % it)
    acct = Account(folder, it)
    acct.setup(log)
    _tls_files(prof, folder, log)
    _led(prof, 1)
    net.up(prof, st, log=log)
    if board.sessions(prof) == "sealed" and net.STATE["mode"] == "station":
        net.sync_clock(log)  # sealed cookies need the wall clock (docs/sessions.md)
    _led(prof, 0)
    _booted = (prof, st, acct)
    gc.collect()
    return _booted


_tls = None  # (key_der, cert_der) when the admin page is served over HTTPS


def _tls_files(prof, folder, log):
    # board.json "https": true: load the device's key and certificate (DER, made on the host by
    # tools/deploy.py) and print the certificate's fingerprint, the one the browser shows. With
    # no certificate, say so and serve plain HTTP rather than not booting.
    global _tls
    _tls = None
    if not board.https(prof):
        return
    from sessionring import flashfile

    from .app import fingerprint

    kp = board.in_folder(folder, prof["tls_key"])
    cp = board.in_folder(folder, prof["tls_cert"])
    try:
        key = flashfile.read(kp, 4096)
        cert = flashfile.read(cp, 4096)
    except (OSError, ValueError) as e:
        key = cert = None
        log("sessionring: cannot read the TLS key or certificate: %r" % (e,))
    if not key or not cert:
        log(
            "sessionring: https is on but there is no certificate at %s (tools/deploy.py makes"
            " one): serving plain HTTP" % cp
        )
        return
    _tls = (key, cert)
    log("sessionring: TLS certificate SHA-256 fingerprint %s" % fingerprint(cert))


def _led(prof, on):
    pin = prof["led_pin"]
    if pin is None:
        return
    try:
        from machine import Pin

        Pin(pin, Pin.OUT).value(on)
    except (ImportError, AttributeError, ValueError, TypeError, OSError):
        pass


def _report(req, exc):
    # A handler failed (the server answered 500 or 503 and carries on): say so on the console.
    print("sessionring: %s %s failed: %r" % (req.method, req.path, exc))
    import sys

    if hasattr(sys, "print_exception"):
        sys.print_exception(exc)


def _bench_route(server):
    # SESSIONRING_BENCH set at boot (tools/bench_firmware.py): GET /_mem answers
    # micropython.mem_total(), the bytes allocated so far (-1 where the port does not count).
    # Without the variable the route does not exist and nothing here runs.
    total = getattr(micropython, "mem_total", None)

    def mem(req):
        return b"%d\n" % (total() if total else -1)

    server.route("/_mem")(mem)


def url(prof, host, port, scheme="http"):
    # The address to print: the Wi-Fi address when bound to every interface.
    if host == "0.0.0.0":
        host = net.STATE["ip"] or "0.0.0.0"
    return "%s://%s:%d/" % (scheme, host, port)


def run(log=print):
    import asyncio

    from .app import Admin

    prof, st, acct = boot(log)
    try:
        admin = Admin(prof, st, acct, net.STATE, log=log, tls=_tls)
    except ValueError as e:  # a key or certificate mbedtls cannot load
        log("sessionring: TLS unavailable (%s): serving plain HTTP" % e)
        admin = Admin(prof, st, acct, net.STATE, log=log)
    admin.server.on_error = _report
    if board.env("SESSIONRING_BENCH"):
        _bench_route(admin.server)
    host = board.host(prof)
    tls = admin.server.tls is not None
    port = board.port(prof)
    if tls and board.env("SESSIONRING_PORT") is None:
        port = prof["https_port"]
    gc.collect()

    async def redirect(https_port):
        # plain HTTP answers with a redirect to the admin page, from a listener of its own
        from .redirect import Redirect

        rport = board.redirect_port(prof)
        try:
            await Redirect(https_port, admin.host_names()).serve(host, rport)
            log("sessionring: plain HTTP on port %d redirects to https" % rport)
        except OSError as e:
            log("sessionring: no redirect on port %d: %r" % (rport, e))

    async def serve():
        task = asyncio.create_task(admin.server.serve(host, port))
        # print once the server is up: serve() binds (setting server.port) and allocates its
        # buffers before its first await, so a port and a task still running mean it listens
        for _ in range(500):
            if admin.server.port or task.done():
                break
            await asyncio.sleep(0.01)
        if admin.server.port and not task.done():
            if tls:
                await redirect(admin.server.port)
            _led(prof, 1)
            scheme = "https" if tls else "http"
            log("sessionring: admin page at %s" % url(prof, host, admin.server.port, scheme))
        await task

    asyncio.run(serve())
