# microdot 2.x under benchmark: a plain route "/", an authenticated route "/a" whose session is
# a cookie checked against a dict of 16 tokens (no JWT), "/_heap" and "/_mem" for the bench's
# heap figures, and (where PyJWT imports, i.e. on CPython) microdot's own cookie session route
# "/s". Prints "tokens T,T,...", "frozen FILE" (where microdot came from), "cookie NAME=VALUE"
# (the JWT session) and "ready PORT", then serves. Usage: micropython|python microdot_app.py PORT
import asyncio
import gc
import sys

import microdot.microdot
from microdot import Microdot

try:
    import micropython

    mem_total = micropython.mem_total
except (ImportError, AttributeError):
    mem_total = None

app = Microdot()
TOKENS = {"tok%024d" % i: "admin%d" % i for i in range(16)}


@app.route("/")
async def index(request):
    return "hello world\n"


@app.route("/a")
async def authenticated(request):
    user = TOKENS.get(request.cookies.get("sid"))
    if user is None:
        return "login\n", 401
    return "hello admin\n"


@app.route("/_mem")
async def mem(request):
    return "%d\n" % (mem_total() if mem_total else 0)


@app.route("/_heap")
async def heap(request):
    gc.collect()
    return "%d\n" % gc.mem_alloc()


cookie = None
try:
    from microdot.session import Session, with_session

    Session(app, secret_key="bench-secret-key-0123456789abcdef")

    @app.route("/s")
    @with_session
    async def session_page(request, session):
        user = session.get("user")
        if user is None:
            return "login\n", 401
        return "hello %s\n" % user

    # the session cookie a logged-in browser would send
    cookie = "session=" + app._session.encode({"user": "admin"})
except ImportError:
    pass


async def main(port):
    server = asyncio.create_task(app.start_server(host="127.0.0.1", port=port))
    await asyncio.sleep(0.2)
    if cookie:
        print("cookie", cookie)
    print("tokens", ",".join(TOKENS))
    print("frozen", getattr(microdot.microdot, "__file__", "?"))
    print("ready", port)
    await server


asyncio.run(main(int(sys.argv[1])))
