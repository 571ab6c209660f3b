# Freeze manifest of sessionring-core: the HTTP server, cookies, tokens, login helpers.
# lib/sessionring/manifest.py requires every part; a board manifest may require fewer.
# ruff: noqa: F821 - metadata(), add_library(), require(), package(): manifestfile.py
metadata(
    description="sessionring: the HTTP server, cookies, tokens, login helpers.",
    version="0.1.0",
    license="MIT",
)

package(
    "sessionring",
    files=(
        "__init__.py",
        "_plain.py",
        "_viper.py",
        "auth.py",
        "binding.py",
        "conn.py",
        "cookie.py",
        "flashfile.py",
        "head.py",
        "host.py",
        "http.py",
        "pool.py",
        "request.py",
        "response.py",
        "session.py",
        "share.py",
        "sockio.py",
        "throttle.py",
        "token.py",
    ),
    base_path="../../..",
)
