# sessionring with the sealed cookie store under benchmark: the authenticated GET of sr_app.py
# (cookie -> open the sealed session -> small body), with the admin app's session as it is
# after a login (user, role, a 32-character CSRF token and the client address in its data).
# Prints "token TOKEN" and "ready PORT", then serves; 401 without a valid session cookie.
# Needs the wall clock set (it is on a host). Usage: micropython|python sr_sealed_app.py PORT
import gc
import sys

import micropython

from sessionring.http import Response, Server
from sessionring.ring import ROLE_ADMIN
from sessionring.sealed import SealedStore

store = SealedStore(keys=[bytes(range(32))])  # idle 900 s: no re-seal within a bench run
app = Server(store, max_conns=int(sys.argv[2]) if len(sys.argv) > 2 else 16)
s = store.create("admin", ROLE_ADMIN)
s["c"] = "0123456789abcdefghijklmnopqrstuv"
s["a"] = "127.0.0.1"
tok = store.pending(s)
mem_total = getattr(micropython, "mem_total", None)


@app.route("/")
def page(req):
    if req.session is None:
        return Response(b"login\n", 401, content_type="text/plain")
    return b"hello admin\n"


@app.route("/_mem")
def mem(req):
    return b"%d\n" % (mem_total() if mem_total else 0)


@app.route("/_heap")
def heap(req):
    gc.collect()
    return b"%d\n" % gc.mem_alloc()


print("token", tok)
print("ready", sys.argv[1])
app.run("127.0.0.1", int(sys.argv[1]))
