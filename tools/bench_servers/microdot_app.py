# microdot 2.x for tools/bench_http.py: a plain route, and (where PyJWT imports, i.e. on
# CPython) its cookie session route. Prints "ready PORT" (and "cookie NAME=VALUE" for the
# session) then serves. Usage: micropython|python microdot_app.py PORT
import asyncio
import sys

from microdot import Microdot

try:
    import micropython

    mem_total = micropython.mem_total
except (ImportError, AttributeError):
    mem_total = None

app = Microdot()


@app.route("/")
async def index(request):
    return "hello world\n"


@app.route("/_mem")
async def mem(request):
    return "%d\n" % (mem_total() if mem_total else 0)


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
    print("ready", port)
    await server


asyncio.run(main(int(sys.argv[1])))
