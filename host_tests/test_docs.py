"""Every Python example in README.md and docs/*.md runs: each ```python block, in its own CPython
process, with the library on the path. The scaffolding, stated here and nowhere else:
- paths on a board's flash ("/keys", "/gens.json", ...) become files in a temporary folder;
- `mip` is a stand-in that checks the package named ("github:OWNER/REPO/..." is this
  repository) exists and lists files that exist;
- an app's run() does not listen on port 80 for ever: sessionring's Server.run serves on a free
  port of 127.0.0.1 and GETs every GET route once, microdot's Microdot.run does the same through
  microdot's TestClient; a 5xx answer (a handler that raised) fails the example.
Blocks of other languages (```sh, plain ```) are not run."""

import ast
import re
import subprocess
import sys

import pytest

from harness import ROOT

DOCS = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)

PRELUDE = r"""
import asyncio, json, os, sys, types
os.chdir(sys.argv[1])
ROOT = sys.argv[2]


def _mip_install(package, target=None, version=None, mpy=True):
    # "github:OWNER/REPO[/path]" is this repository: the package.json (or .json) it names must
    # exist and list files that exist
    assert package.startswith("github:OWNER/REPO"), package
    rel = package[len("github:OWNER/REPO") :].strip("/")
    path = os.path.join(ROOT, rel)
    if not path.endswith(".json"):
        path = os.path.join(path, "package.json")
    with open(path) as f:
        urls = json.load(f)["urls"]
    for _, url in urls:
        assert os.path.isfile(os.path.join(os.path.dirname(path), url)), url
    print("DOCS-MIP", rel or "package.json", len(urls))


sys.modules["mip"] = types.ModuleType("mip")
sys.modules["mip"].install = _mip_install
from sessionring.http import Server

def _serve_once(self, host="0.0.0.0", port=80):
    async def main():
        task = asyncio.create_task(self.serve("127.0.0.1", 0))
        for _ in range(200):
            await asyncio.sleep(0.01)
            if self.port:
                break
        assert self.port, "the example's server did not start"
        try:
            for path, (handler, methods, _) in sorted(self.routes.items()):
                if "GET" not in methods:
                    continue
                tls = None
                if self.tls is not None:  # the example serves HTTPS: trust its own certificate
                    import ssl
                    tls = ssl.create_default_context()
                    tls.check_hostname = False
                    tls.verify_mode = ssl.CERT_NONE
                r, w = await asyncio.open_connection("127.0.0.1", self.port, ssl=tls)
                w.write(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                         % path).encode())
                await w.drain()
                status = int((await asyncio.wait_for(r.readline(), 10)).split()[1])
                w.close()
                assert status < 500, "GET %s answered %d" % (path, status)
                print("DOCS-GET", path, status)
        finally:
            self.close()
            await asyncio.wait_for(task, 10)
    asyncio.run(main())

Server.run = _serve_once

try:
    from microdot import Microdot
    from microdot.test_client import TestClient

    def _md_once(self, host="0.0.0.0", port=5000, debug=False, ssl=None):
        async def main():
            for route in self.url_map:
                methods, pattern = route[0], route[1]
                path = getattr(pattern, "url_pattern", "/")
                if "GET" in methods and "<" not in path:
                    res = await TestClient(self).get(path)
                    assert res.status_code < 500, "GET %s answered %d" % (path, res.status_code)
                    print("DOCS-GET", path, res.status_code)
        asyncio.run(main())

    Microdot.run = _md_once
except ImportError:
    pass
"""


def blocks():
    out = []
    for doc in DOCS:
        text = doc.read_text()
        for m in FENCE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            out.append(pytest.param(doc, m.group(1), id="%s:%d" % (doc.relative_to(ROOT), line)))
    return out


def board_paths(code, tmp):
    # "/name" string literals are files on the board's flash: here, files in tmp
    return re.sub(r'"/([\w.]+)"', lambda m: repr(str(tmp / m.group(1))), code)


def test_the_docs_have_python_examples():
    assert len(blocks()) >= 6


@pytest.mark.parametrize("doc,code", blocks())
def test_example_runs(doc, code, tmp_path):
    if "tls.key.der" in code:  # the device's key pair, as tools/cert.py makes it at deploy
        sys.path.insert(0, str(ROOT / "tools"))
        import cert

        key, crt = cert.make("sessionring-test", ["localhost"], ["127.0.0.1"])
        (tmp_path / "tls.key.der").write_bytes(key)
        (tmp_path / "tls.cert.der").write_bytes(crt)
    script = tmp_path / "example.py"
    script.write_text(PRELUDE + "\n" + board_paths(code, tmp_path))
    env = {
        "PYTHONPATH": "%s:%s" % (ROOT / "lib", ROOT / "lib" / "hostshim"),
        "PATH": "/usr/bin:/bin",
        "SESSIONRING_DOCS": "1",
    }
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path), str(ROOT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, "%s\n%s%s" % (doc.name, proc.stdout, proc.stderr[-3000:])
    if ".run(" in code:  # an app was served: every GET route answered
        assert "DOCS-GET" in proc.stdout, proc.stdout
    if "mip.install(" in code:
        assert "DOCS-MIP" in proc.stdout, proc.stdout


# ---- figures the docs quote that are not in docs/benchmarks.md (make bench writes that): each
# is computed here from the code it describes


def _lib():
    for p in (str(ROOT / "lib"), str(ROOT / "lib" / "hostshim")):
        if p not in sys.path:
            sys.path.insert(0, p)


def test_sealed_cookie_sizes_in_sessions_md():
    _lib()
    from sessionring import auth
    from sessionring.sealed import SealedStore
    from sessionring.session import ROLE_ADMIN

    s = SealedStore(keys=[bytes(range(32))]).create("admin", ROLE_ADMIN)
    empty = s.sealed_size
    s["c"] = auth.new_csrf()  # the admin app's session: a CSRF token ...
    csrf = s.sealed_size
    s["a"] = "192.168.4.2"  # ... and the client's address (firmware/admin/web.py)
    admin = s.sealed_size
    text = " ".join((ROOT / "docs" / "sessions.md").read_text().split())
    assert len(s["c"]) == 32
    assert (
        "holding a 32-character CSRF token is a %d-byte cookie value (%d with no data)"
        % (csrf, empty)
        in text
    )
    assert "keeps the client's address, %d." % admin in text
    assert (
        "%d characters (admin session with a CSRF token), %d with the client"
        % (
            csrf,
            admin,
        )
        in text
    )


def test_deploy_sample_output_matches_a_dry_run():
    # docs/deploy.md's sample: the file count of `tools/deploy.py --dry-run` for esp32, exactly,
    # and its size within 10 % (every change to lib/ or firmware/ moves it a little)
    text = (ROOT / "docs" / "deploy.md").read_text()
    m = re.search(r"deploy: board esp32 \([^)]*\), (\d+) files, ([\d.]+) KB", text)
    assert m, "no sample output in docs/deploy.md"
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "deploy.py"), "--board", "esp32", "--dry-run"],
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    n = re.search(r"(\d+) files, ([\d.]+) KB", out.stdout)
    assert int(m.group(1)) == int(n.group(1)), (m.group(0), n.group(0))
    assert abs(float(m.group(2)) - float(n.group(2))) <= 0.1 * float(n.group(2))
    assert "[%d/%d] board.json" % (int(n.group(1)), int(n.group(1))) in text


def test_api_login_fields_are_named_in_readme_and_admin_md():
    # every field of POST /api/login's answer: the keys of the dict literal it answers with
    # (the one with a "token" key) in the firmware's own code
    tree = ast.parse((ROOT / "firmware" / "admin" / "api.py").read_text())
    fields = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
            if "token" in keys:
                fields.update(keys)
    assert {"token", "expires_in", "device"} <= fields, fields
    for doc in ("README.md", "docs/admin.md"):
        text = (ROOT / doc).read_text()
        line = [
            x
            for x in re.split(r"\n(?=\s*[-|])|\n\n", text)
            if "/api/login" in x and '"token"' in x
        ]
        assert line, doc
        for f in fields:
            assert '"%s"' % f in line[0], (doc, f)
