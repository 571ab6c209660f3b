# The Settings page and its two forms (device settings, admin password), loaded on first use.
from sessionring import auth

from . import account, pages, web
from .account import USER


def render(o, device, csrf, values, errors=None, msg=None, pw_errors=None):
    errors = errors or {}
    pw_errors = pw_errors or {}
    pages.head(o, "Settings", device, "/settings", csrf)
    pages.message(o, msg, ok=True)
    o.w(b'<form class="card" method="post" action="/settings"><h2>Device</h2>')
    pages.hidden(o, "csrf", csrf)
    pages.hidden(o, "form", "device")
    pages.field(
        o, "name", b"Device name", values["name"], error=errors.get("name"), extra=b" required"
    )
    pages.field(
        o, "wifi_ssid", b"Wi-Fi network (SSID)", values["wifi_ssid"], error=errors.get("wifi_ssid")
    )
    pages.field(
        o,
        "wifi_password",
        b"Wi-Fi password <small>(blank: keep)</small>",
        kind="password",
        error=errors.get("wifi_password"),
        extra=b' autocomplete="off"',
    )
    pages.field(
        o,
        "ap_password",
        b"Access point password <small>(blank: keep)</small>",
        kind="password",
        error=errors.get("ap_password"),
        extra=b' autocomplete="off"',
    )
    pages.field(
        o,
        "idle_min",
        b"Log out after idle (minutes)",
        values["idle_min"],
        "number",
        errors.get("idle_s"),
        b' min="1" max="1440" inputmode="numeric" required',
    )
    pages.field(
        o,
        "absolute_min",
        b"Log out after at most (minutes)",
        values["absolute_min"],
        "number",
        errors.get("absolute_s"),
        b' min="5" max="10080" inputmode="numeric" required',
    )
    o.w(b'<p class="sub">Wi-Fi changes apply at the next restart; timeouts at once.</p>')
    o.w(b'<button class="wide">Save</button></form>')
    o.w(b'<form class="card" method="post" action="/settings"><h2>Admin password</h2>')
    pages.hidden(o, "csrf", csrf)
    pages.hidden(o, "form", "password")
    pages.field(
        o,
        "current",
        b"Current password",
        kind="password",
        error=pw_errors.get("current"),
        extra=b' autocomplete="current-password" required',
    )
    pages.field(
        o,
        "new",
        b"New password",
        kind="password",
        error=pw_errors.get("new"),
        extra=b' autocomplete="new-password" minlength="8" required',
    )
    pages.field(
        o,
        "confirm",
        b"New password again",
        kind="password",
        error=pw_errors.get("confirm"),
        extra=b' autocomplete="new-password" required',
    )
    o.w(b'<p class="sub">Changing it logs out every other session.</p>')
    o.w(b'<button class="wide">Change password</button></form>')
    pages.foot(o)


def _page(a, s, status=200, values=None, errors=None, msg=None, pw_errors=None):
    if values is None:
        st = a.settings
        values = {
            "name": st["name"],
            "wifi_ssid": st["wifi_ssid"],
            "idle_min": str(st["idle_s"] // 60),
            "absolute_min": str(st["absolute_s"] // 60),
        }
    o = pages.Out()
    render(o, a.name, s.get("c"), values, errors, msg, pw_errors)
    return web.html(o, status)


@web.admin_page
def show(a, req, s):
    return _page(a, s, msg=web.MESSAGES.get(req.query.get("m")))


@web.admin_form
def save(a, req, s):
    which = req.form.get("form")
    if which == "device":
        return _save_device(a, req, s)
    if which == "password":
        return _change_password(a, req, s)
    return a.problem(400, "Bad request", "Unknown form.")


def _save_device(a, req, s):
    f = req.form
    changes = {"name": f.get("name", "").strip(), "wifi_ssid": f.get("wifi_ssid", "")}
    for k in ("wifi_password", "ap_password"):
        if f.get(k):
            changes[k] = f[k]
    errors = {}
    for k, field in (("idle_s", "idle_min"), ("absolute_s", "absolute_min")):
        try:
            changes[k] = int(f.get(field, "")) * 60
        except ValueError:
            errors[k] = "a whole number of minutes"
    if not errors:
        errors = a.settings.update(changes)
    if errors:
        values = {
            "name": f.get("name", ""),
            "wifi_ssid": f.get("wifi_ssid", ""),
            "idle_min": f.get("idle_min", ""),
            "absolute_min": f.get("absolute_min", ""),
        }
        return _page(a, s, 400, values, errors)
    a.apply_timeouts()
    return web.redirect("/settings?m=saved")


def _change_password(a, req, s):
    f = req.form
    ok, wait = a.password_ok(req, USER, f.get("current", ""), device=True)
    if wait:
        resp = _page(a, s, 429, pw_errors={"current": "Too many failed attempts."})
        resp.headers["Retry-After"] = str(wait)
        return resp
    new = f.get("new", "")
    errors = {}
    if not ok:
        errors["current"] = "Wrong password."
    else:
        why = account.password_problem(new)
        if why is not None:
            errors["new"] = why
        elif f.get("confirm", "") != new:
            errors["confirm"] = "The two new passwords differ."
    if errors:
        return _page(a, s, 400, pw_errors=errors)
    a.account.set_password(new)
    a.store.revoke_user(USER, keep=s)  # (sealed: a generation bump, on flash)
    req.rotate_session()  # new token for this session too (no fixation)
    s["c"] = auth.new_csrf()
    return web.redirect("/settings?m=password")
