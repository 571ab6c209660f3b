# A body sent as application/json that does not decode: the server's 400 by default, or the
# handler's own answer with Server(handler_json_errors=True) (req.json_error says why).
from _http_support import fetch, serving

from sessionring.http import Response, Server

JSON = {"Content-Type": "application/json"}
BAD = (
    (b"{not json", "not valid JSON"),
    (b'{"a": "\xff"}', "not UTF-8"),
    (b'\xef\xbb\xbf{"a": 1}', "byte order mark"),
)


def _app(**kw):
    app = Server(**kw)

    @app.route("/j", methods=("POST",))
    def j(req):
        if req.json_error is not None:
            return Response.json({"error": req.json_error}, 400)
        return {"got": req.json}

    return app


def test_bad_json_is_the_servers_400_by_default():
    async def body(port):
        for raw, _ in BAD:
            st, h, b = await fetch(port, "POST", "/j", JSON, raw)
            assert st == 400 and h["content-type"].startswith("text/plain"), (raw, st, h)
        st, h, b = await fetch(port, "POST", "/j", JSON, b'{"a": 1}')
        assert st == 200 and b == b'{"got": {"a": 1}}', b

    serving(_app(), body)


def test_bad_json_reaches_the_handler_when_it_answers_it():
    async def body(port):
        for raw, why in BAD:
            st, h, b = await fetch(port, "POST", "/j", JSON, raw)
            assert st == 400 and h["content-type"] == "application/json", (raw, st, h)
            assert why.encode() in b, (raw, b)
        st, h, b = await fetch(port, "POST", "/j", JSON, b'{"a": 1}')
        assert st == 200 and b == b'{"got": {"a": 1}}', b

    serving(_app(handler_json_errors=True), body)
