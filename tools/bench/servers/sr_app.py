# sessionring under benchmark: an authenticated GET (cookie -> session -> small body) with the
# ring (16 sessions) or the sealed store (the admin app's session after a login: a 32-character
# CSRF token and the client address in its data). Prints "token T" (the first session's),
# "tokens T,T,..." (16 sessions), "frozen FILE" (where sessionring came from), "ready PORT",
# then serves; 401 without a valid session, so wrk's non-2xx count shows any request that was
# not authenticated.
# Usage: micropython|python sr_app.py PORT [MAX_CONNS] [ring|sealed]
import gc
import sys

import micropython

import sessionring.http
from sessionring.http import Response, Server
from sessionring.ring import SessionRing
from sessionring.session import ROLE_ADMIN

argv = sys.argv[1:] + ["", "", ""]
port, conns, kind = int(argv[0]), int(argv[1] or 16), argv[2] or "ring"
opts = {"work_slots": int(argv[3])} if argv[3] else {}  # (a tree with work slots)
if kind == "sealed":
    from sessionring.sealed import SealedStore

    store = SealedStore(keys=[bytes(range(32))])  # idle 900 s: no re-seal within a bench run
else:
    store = SessionRing(slots=16, data_bytes=96, per_user=0)
toks = []
for i in range(16):
    s = store.create("admin%d" % i, ROLE_ADMIN)
    if kind == "sealed":
        s["c"] = "0123456789abcdefghijklmnopqrstuv"
        s["a"] = "127.0.0.1"
    toks.append(store.pending(s) if kind == "sealed" else s.token)
app = Server(store, max_conns=conns, **opts)
mem_total = getattr(micropython, "mem_total", None)


@app.route("/")
def page(req):
    if req.session is None:
        return Response(b"login\n", 401, content_type="text/plain")
    return b"hello admin\n"


@app.route("/_mem")
def mem(req):
    # the bench reads the heap counter before and after a run
    return b"%d\n" % (mem_total() if mem_total else 0)


@app.route("/_heap")
def heap(req):
    # bytes in use after a collection, for the bench's breakdown of where the heap goes
    gc.collect()
    return b"%d\n" % gc.mem_alloc()


print("token", toks[0])
print("tokens", ",".join(toks))
print("frozen", getattr(sessionring.http, "__file__", "?"))
print("ready", port)
app.run("127.0.0.1", port)
