# Server-rendered pages. A page is written in pieces into one Out buffer: markup as bytes
# literals, every value that did not come from this file through text(), which escapes it.
# No JavaScript; a tiny inline style sheet (allowed by its hash in the CSP header, see web.py).

CSS = (
    b"*{box-sizing:border-box}"
    b"body{margin:0;font:17px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    b"color:#1b2430;background:#f3f5f8}"
    b"header{display:flex;flex-wrap:wrap;align-items:center;gap:.3rem .6rem;"
    b"padding:.5rem .8rem;background:#17324d;color:#fff}"
    b"header b{flex:1 1 auto;font-size:1.05rem;overflow-wrap:anywhere}"
    b"nav{display:flex;flex-wrap:wrap;gap:.2rem}"
    b"nav a,nav button{display:inline-block;color:#fff;font:inherit;padding:.6rem .7rem;"
    b"border:0;border-radius:.4rem;background:none;text-decoration:none;cursor:pointer}"
    b"nav a[aria-current]{background:#ffffff2e}nav form{margin:0}"
    b"nav button{border:1px solid #ffffff66;padding:.55rem .7rem}"
    b"main{max-width:38rem;margin:0 auto;padding:1rem}"
    b"h1{font-size:1.4rem;margin:.4rem 0 1rem}h2{font-size:1.1rem;margin:0 0 .5rem}"
    b".card{background:#fff;border:1px solid #d5dbe3;border-radius:.7rem;"
    b"padding:.9rem 1rem;margin:0 0 1rem}"
    b"label{display:block;margin:.8rem 0 .3rem;font-weight:600}label small{font-weight:400}"
    b"input{width:100%;min-height:2.9rem;padding:.5rem .7rem;font:inherit;color:inherit;"
    b"border:1px solid #9aa6b5;border-radius:.45rem;background:#fff}"
    b"button{min-height:2.9rem;padding:.5rem 1.1rem;font:inherit;font-weight:600;border:0;"
    b"border-radius:.45rem;background:#0b5cad;color:#fff;cursor:pointer;white-space:nowrap}"
    b".wide{width:100%;margin-top:1.1rem}.del{background:#b3261e}"
    b".msg{padding:.7rem .9rem;border-radius:.45rem;margin:0 0 1rem;"
    b"background:#fde8e7;color:#7a1410}.ok{background:#e3f3e7;color:#0f4d22}"
    b".err{color:#b3261e;font-size:.92rem}small,.sub{color:#5b6675}"
    b"dl{display:grid;grid-template-columns:auto 1fr;gap:.45rem 1rem;margin:0}"
    b"dt{color:#5b6675}dd{margin:0;overflow-wrap:anywhere}"
    b"ul{list-style:none;margin:0;padding:0}"
    b"li.card{display:flex;align-items:center;gap:.8rem}li.card div{flex:1 1 auto}"
    b".tag{display:inline-block;font-size:.8rem;padding:.05rem .45rem;border-radius:1rem;"
    b"background:#d9e8fb;color:#0b3f7a}"
)


class Out:
    # The page being written. .buf is the body when done.
    def __init__(self):
        self.buf = bytearray()

    def w(self, markup):
        # trusted markup: bytes, or a str from this package (names, paths)
        self.buf.extend(markup.encode() if isinstance(markup, str) else markup)

    def text(self, value):
        s = value if isinstance(value, str) else str(value)
        if "&" in s or "<" in s or ">" in s or '"' in s or "'" in s:
            s = (
                s.replace("&", "&amp;")
                .replace("<", "&lt;")
                .replace(">", "&gt;")
                .replace('"', "&quot;")
                .replace("'", "&#39;")
            )
        self.buf.extend(s.encode())


def duration(s):
    # 45 s, 12 min, 3 h 5 min, 2 d 4 h
    if s < 60:
        return "%d s" % s
    m = s // 60
    if m < 60:
        return "%d min" % m
    h = m // 60
    if h < 48:
        return "%d h %d min" % (h, m % 60) if m % 60 else "%d h" % h
    return "%d d %d h" % (h // 24, h % 24)


_NAV = (("/", b"/", b"Status"), ("/sessions", b"/sessions", b"Sessions"))
_NAV += (("/settings", b"/settings", b"Settings"),)


def head(o, title, device, here=None, csrf=None):
    # Everything up to the page's own content. here: path of the current page (logged in).
    # (Markup goes straight to the buffer's extend: a page is some forty pieces.)
    w = o.buf.extend
    w(
        b'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        b'<meta name="viewport" content="width=device-width,initial-scale=1"><title>'
    )
    o.text(title)
    w(b" \xc2\xb7 ")
    o.text(device)
    w(b"</title><style>")
    w(CSS)
    w(b"</style></head><body><header><b>")
    o.text(device)
    w(b"</b>")
    if here is not None:
        nav(o, here, csrf)
    w(b"</header><main><h1>")
    o.text(title)
    w(b"</h1>")


def nav(o, here, csrf):
    w = o.buf.extend
    w(b"<nav>")
    for path, bpath, label in _NAV:
        w(b'<a href="')
        w(bpath)
        w(b'" aria-current="page">' if path == here else b'">')
        w(label)
        w(b"</a>")
    w(b'<form method="post" action="/logout">')
    hidden(o, b"csrf", csrf)
    w(b"<button>Log out</button></form></nav>")


def foot(o):
    o.buf.extend(b"</main></body></html>")


def hidden(o, name, value):
    o.w(b'<input type="hidden" name="')
    o.w(name)
    o.w(b'" value="')
    o.text(value)
    o.w(b'">')


def message(o, text, ok=False):
    if text:
        o.w(b'<p class="msg ok" role="status">' if ok else b'<p class="msg" role="alert">')
        o.text(text)
        o.w(b"</p>")


def field(o, name, label, value="", kind="text", error=None, extra=b""):
    o.w(b'<label for="')
    o.w(name)
    o.w(b'">')
    o.w(label)
    o.w(b'</label><input id="')
    o.w(name)
    o.w(b'" name="')
    o.w(name)
    o.w(b'" type="')
    o.w(kind)
    o.w(b'"')
    if value:
        o.w(b' value="')
        o.text(value)
        o.w(b'"')
    o.w(extra)
    o.w(b">")
    if error:
        o.w(b'<div class="err">')
        o.text(error)
        o.w(b"</div>")


# -- pages -----------------------------------------------------------------------------------
def login(o, device, csrf, msg=None):
    head(o, "Log in", device)
    o.w(b'<form class="card" method="post" action="/login">')
    message(o, msg)
    field(
        o,
        "username",
        b"User name",
        "admin",
        extra=b' autocomplete="username" autocapitalize="none" spellcheck="false" required',
    )
    field(
        o,
        "password",
        b"Password",
        kind="password",
        extra=b' autocomplete="current-password" required autofocus',
    )
    hidden(o, "csrf", csrf)
    o.w(b'<button class="wide">Log in</button></form>')
    foot(o)


def dashboard(o, device, csrf, rows):
    # rows: (label bytes, value) pairs
    head(o, "Status", device, "/", csrf)
    facts(o, rows)
    foot(o)


def facts(o, rows):
    # A card of (label bytes, value) pairs
    w = o.buf.extend
    w(b'<div class="card"><dl>')
    for label, value in rows:
        w(b"<dt>")
        w(label)
        w(b"</dt><dd>")
        o.text(value)
        w(b"</dd>")
    w(b"</dl></div>")


def sessions(o, device, csrf, ring, mine, msg=None):
    # ring: the SessionRing (listed here, one view at a time); mine: the viewer's handle.
    head(o, "Sessions", device, "/sessions", csrf)
    message(o, msg, ok=True)
    o.w(b'<p class="sub">')
    o.text("%d of %d session slots in use" % (len(ring), ring.capacity))
    o.w(b"</p><ul>")
    for s in ring:
        h = s.handle
        o.w(b'<li class="card"><div><b>')
        o.text(s.user)
        o.w(b"</b>")
        if h == mine:
            o.w(b' <span class="tag">this session</span>')
        if s.get("k"):
            o.w(b' <span class="tag">API</span>')
        o.w(b"<br><small>")
        o.text(s.get("a") or "?")
        o.w(b" \xc2\xb7 started ")
        o.text(duration(s.age))
        o.w(b" ago \xc2\xb7 idle ")
        o.text(duration(s.idle))
        o.w(b'</small></div><form method="post" action="/sessions/revoke">')
        hidden(o, "csrf", csrf)
        hidden(o, "handle", h)
        o.w(b'<button class="del">')
        o.w(b"Log out" if h == mine else b"Revoke")
        o.w(b"</button></form></li>")
    o.w(b"</ul>")
    foot(o)


def sealed_sessions(o, device, csrf, mine, info, msg=None):
    # The Sessions page with the sealed store: each session lives in its browser's cookie,
    # so this device can show the viewer's own session, its deny-list and the generation.
    # mine: the viewer's session; info: the store's stats() plus the user's "generation".
    head(o, "Sessions", device, "/sessions", csrf)
    message(o, msg, ok=True)
    o.w(b'<p class="sub">Sessions are sealed in each browser&#39;s cookie: this device keeps')
    o.w(b" no list of them, so it cannot show or revoke them one by one.</p>")
    left = mine.expires_in()
    facts(
        o,
        (
            (b"This session", "%s, started %s ago" % (mine.user, duration(mine.age))),
            (b"Ends", "in %s if not used" % duration(left) if left is not None else "-"),
            (b"Logouts remembered", "%d of %d here" % (info["deny_used"], info["deny_slots"])),
            (b"Generation", "%d for %s" % (info["generation"], mine.user)),
        ),
    )
    o.w(b'<form class="card" method="post" action="/sessions/everywhere">')
    o.w(b'<h2>Log out everywhere</h2><p class="sub">Every session of this user ends, on')
    o.w(b" every browser and script, this one too: every older cookie is refused. A logout")
    o.w(b" is remembered by the device that served it only.</p>")
    hidden(o, "csrf", csrf)
    o.w(b'<button class="wide del">Log out everywhere</button></form>')
    foot(o)


def problem(o, device, title, text):
    # A short page for 403 and friends
    head(o, title, device)
    o.w(b'<div class="card"><p>')
    o.text(text)
    o.w(b'</p><p><a href="/">Back to the admin page</a></p></div>')
    foot(o)
