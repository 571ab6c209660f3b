# A demo app for the host-only HTTP tests: runs under CPython or the MicroPython unix port
# (started through conftest.interpreter_command), prints "port N", and serves on 127.0.0.1
# until killed. Its routes cover every kind of answer the server produces, and /hog and /free
# let a test run it out of memory.
import asyncio
import sys

from sessionring.http import Response, Server
from sessionring.ring import SessionRing
from sessionring.session import ROLE_ADMIN

ring = SessionRing(slots=4, data_bytes=32)
app = Server(
    store=ring,
    max_body=64,
    max_headers=12,
    request_timeout_ms=500,
    linger_ms=50,
    hosts=("h",),
    max_conns=16,  # (test_http_lowmem: a burst of 16 held open at once)
)


@app.route("/")
def index(req):
    return "<!DOCTYPE html><title>t</title><p>hello</p>"


@app.route("/bytes")
def raw(req):
    return b"<p>bytes</p>"


@app.route("/json", methods=("GET", "POST"))
def as_json(req):
    return {"method": req.method, "json": req.json, "form": req.form, "q": req.query}


@app.route("/text")
def text(req):
    r = Response("plain\n", content_type="text/plain; charset=utf-8")
    r.headers["Cache-Control"] = "no-store"
    return r


@app.route("/login", methods=("POST",))
def login(req):
    req.start_session(req.form.get("user", "admin"), ROLE_ADMIN)
    r = Response.redirect("/me")
    r.headers["Cache-Control"] = "no-store"
    return r


@app.route("/me")
def me(req):
    if req.session is None:
        return Response("not logged in\n", 401, content_type="text/plain; charset=utf-8")
    return Response.json({"user": req.session.user})


@app.route("/logout", methods=("POST",))
def logout(req):
    req.end_session()
    return Response.redirect("/")


@app.route("/empty", methods=("POST",))
def empty(req):
    return None


@app.route("/boom")
def boom(req):
    raise ValueError("boom")


@app.route("/oom")
def oom(req):
    raise MemoryError


_hog = []


@app.route("/hog", methods=("POST",))
def hog(req):
    # take nearly all the free heap and keep it (MicroPython under a small -X heapsize only):
    # blocks of 256 bytes, then smaller ones into the gaps those leave, down to the smallest,
    # so that no fragment is left for a connection's small objects; then give back 2 KB,
    # enough to answer this request but not to hold a burst of 16 connections
    for n in (256, 64, 16, 1):
        try:
            while True:
                _hog.append(bytearray(n))
        except MemoryError:
            pass
    for _ in range(64):
        if len(_hog[-1]) >= 256:
            break
        _hog.pop()  # (the smallest first: they sit in the gaps)
    _hog[-8:] = []
    return b"hogged"


@app.route("/free", methods=("POST",))
def free(req):
    _hog.clear()
    return b"freed"


async def main():
    task = asyncio.create_task(app.serve("127.0.0.1", 0))
    while not app.port:
        await asyncio.sleep(0)
    print("port", app.port)
    if hasattr(sys.stdout, "flush"):
        sys.stdout.flush()
    await task


asyncio.run(main())
