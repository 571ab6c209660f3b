# sessionring under benchmark: an authenticated GET (cookie -> ring lookup -> small body).
# Prints "token TOKEN" and "ready PORT", then serves. Without a valid session cookie the answer
# is 401, so wrk's non-2xx count shows any request that was not authenticated.
# Usage: micropython|python sr_app.py PORT [MAX_CONNS]
import gc
import sys

import micropython

from sessionring.http import Response, Server
from sessionring.ring import ROLE_ADMIN, SessionRing

ring = SessionRing(slots=16, data_bytes=96)
app = Server(ring=ring, max_conns=int(sys.argv[2]) if len(sys.argv) > 2 else 16)
tok = ring.create("admin", ROLE_ADMIN).token
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


print("token", tok)
print("ready", sys.argv[1])
app.run("127.0.0.1", int(sys.argv[1]))
