# sessionring under benchmark: an authenticated GET (cookie -> ring lookup -> small body).
# Prints the token to use, then serves. Usage: micropython sr_app.py PORT [MAX_CONNS]
import sys

import micropython

from sessionring.http import Server
from sessionring.ring import ROLE_ADMIN, SessionRing

ring = SessionRing(slots=16, data_bytes=96)
app = Server(ring=ring, max_conns=int(sys.argv[2]) if len(sys.argv) > 2 else 16)
tok = ring.create("admin", ROLE_ADMIN).token


@app.route("/")
def page(req):
    if req.session is None:
        return b"login\n"
    return b"hello admin\n"


@app.route("/_mem")
def mem(req):
    # the bench reads the heap counter before and after a run
    return b"%d\n" % micropython.mem_total()


print("token", tok)
print("ready", sys.argv[1])
app.run("127.0.0.1", int(sys.argv[1]))
