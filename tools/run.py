#!/usr/bin/env python3
"""Run the device firmware on this machine: `make run` (MicroPython unix port),
`make run PY=micropython32` (the board-faithful build: a 32-bit MicroPython with the library
and the admin app frozen in, tools/faithful.py) or `make run PY=cpython` (CPython through
lib/hostshim), with the `unix` board profile.

    python tools/run.py [--py micropython|micropython32|cpython] [--port N] [--host H]
                        [--data DIR]
                        [--board boards/unix/board.json] [--heap 1024K]
                        [--sessions ring|sealed] [--tls [--redirect-port N]]

Port, decided here only (make passes --port only when given PORT=N): `make run PORT=N`
(PORT in the environment) wins, then SESSIONRING_PORT, then --port, then 8080. --port 0
binds a free port; the firmware prints the one it got:
    sessionring: admin page at http://127.0.0.1:8080/
The data folder and the first admin password: docs/admin.md. --sessions (`make run
SESSIONS=sealed`) picks the session store over the profile's "sessions": the RAM ring or sealed
cookies (docs/sessions.md; the key file is made in the data folder at first use). --tls (`make
run TLS=1`) serves the admin page over HTTPS on the port (8443 from make) and plain HTTP on
--redirect-port (8080 from make) redirects to it; the certificate is made in the data folder on
first use (tools/cert.py; docs/https.md).
"""

import argparse
import json
import os
import sys
from pathlib import Path

import faithful  # tools/: this script's folder
from hosttools import ToolMissing, find_tool

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_PORT = 8080
# --py for the board-faithful builds: plain, and with Mbed TLS on the GC heap (as the Pico W)
# or on the C heap (as ESP32); tools/faithful.py
FAITHFUL = {
    "micropython32": "unix32",
    "micropython32tls": "unix32tls",
    "micropython32tlsc": "unix32tlsc",
}


def micropython_exe():
    try:
        return find_tool("micropython")
    except ToolMissing as e:
        sys.exit("run: %s" % e)


def pick_port(cli_port, environ):
    # make passes --port $(PORT) only when PORT is given, and then PORT is in the environment.
    if environ.get("PORT"):
        return cli_port if cli_port is not None else int(environ["PORT"])
    if environ.get("SESSIONRING_PORT"):
        return int(environ["SESSIONRING_PORT"])
    return cli_port if cli_port is not None else DEFAULT_PORT


def command(
    py,
    port,
    host=None,
    data=None,
    board=None,
    heap=None,
    environ=None,
    sessions=None,
    tls=False,
    redirect_port=None,
):
    """(argv, env) that run firmware/main.py under `py` with the given settings; tls: the
    admin page over HTTPS on `port`, plain HTTP on redirect_port redirecting to it."""
    env = dict(os.environ if environ is None else environ)
    if tls:
        env["SESSIONRING_HTTPS"] = "1"
        if redirect_port is not None:
            env["SESSIONRING_REDIRECT_PORT"] = str(redirect_port)
    board = Path(board or env.get("SESSIONRING_BOARD") or ROOT / "boards" / "unix" / "board.json")
    data = Path(data or env.get("SESSIONRING_DATA") or ROOT / ".run")
    env["SESSIONRING_BOARD"] = str(board.resolve())
    env["SESSIONRING_DATA"] = str(data.resolve())
    env["SESSIONRING_PORT"] = str(port)
    if host:
        env["SESSIONRING_HOST"] = host
    if sessions:
        env["SESSIONRING_SESSIONS"] = sessions
    main = str(ROOT / "firmware" / "main.py")
    if py == "cpython":
        paths = [ROOT / "firmware", ROOT / "lib", ROOT / "lib" / "hostshim"]
        env.update(PYTHONPATH=os.pathsep.join(map(str, paths)), PYTHONUNBUFFERED="1")
        return [sys.executable, main], env
    heap = "heapsize=" + (heap or "%dK" % json.loads(board.read_text()).get("heap_kb", 1024))
    if py in FAITHFUL:
        # The frozen build runs main.py from a folder of its own: the unix port puts the
        # script's folder first on sys.path, and firmware/admin/ would shadow the frozen app.
        try:
            exe = str(faithful.build(FAITHFUL[py]))
        except faithful.BuildError as e:
            sys.exit("run: %s" % e)
        env["MICROPYPATH"] = ".frozen"
        return [exe, "-X", heap, str(faithful.firmware_main())], env
    env["MICROPYPATH"] = os.pathsep.join([".frozen", str(ROOT / "firmware"), str(ROOT / "lib")])
    return [micropython_exe(), "-X", heap, main], env


def host_certificate(data, board):
    # The certificate the host's firmware serves (data/tls.*.der), made once as deploy makes a
    # board's (tools/cert.py): `curl --cacert` can pin it, a browser can be told to trust it.
    import cert

    if (data / cert.CERT_FILE).exists():
        print("run: TLS certificate %s" % (data / cert.CERT_FILE), flush=True)
        return
    cert.new(data, "unix", json.loads(board.read_text()), out=lambda s: print("run: " + s))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--py", choices=("micropython", "cpython") + tuple(FAITHFUL), default="micropython"
    )
    ap.add_argument("--port", type=int, default=None)
    ap.add_argument("--host", default=None, help="bind address (default: the profile's)")
    ap.add_argument("--data", default=None, help="data folder (default: .run/)")
    ap.add_argument("--board", default=None, help="board profile (default: boards/unix)")
    ap.add_argument("--heap", default=None, help="MicroPython heap, e.g. 100K")
    ap.add_argument("--sessions", choices=("ring", "sealed"), default=None, help="session store")
    ap.add_argument("--tls", action="store_true", help="HTTPS on --port (make run TLS=1)")
    ap.add_argument(
        "--redirect-port", type=int, default=None, help="with --tls: plain HTTP that redirects"
    )
    args = ap.parse_args(argv)
    port = pick_port(args.port, os.environ)
    argv, env = command(
        args.py,
        port,
        args.host,
        args.data,
        args.board,
        args.heap,
        sessions=args.sessions,
        tls=args.tls,
        redirect_port=args.redirect_port,
    )
    Path(env["SESSIONRING_DATA"]).mkdir(parents=True, exist_ok=True)
    if args.tls:
        host_certificate(Path(env["SESSIONRING_DATA"]), Path(env["SESSIONRING_BOARD"]))
    where = "port %d" % port if port else "a free port"
    data = env["SESSIONRING_DATA"]
    print("run: %s firmware/main.py on %s, data in %s" % (args.py, where, data), flush=True)
    os.chdir(ROOT)
    # Replace this process: Ctrl-C and signals reach the firmware directly.
    os.execve(argv[0], argv, env)


if __name__ == "__main__":
    main()
