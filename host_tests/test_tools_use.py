"""What a newcomer meets first in tools/ and the Makefile: executable tools, the port `make run`
says, and `make bench`'s answer to a missed target."""

import os
import subprocess

from bench import __main__ as bench_main
from bench import common

from harness import ROOT


def _tracked(folder):
    out = subprocess.run(
        ["git", "ls-files", "-s", folder], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return [(line.split()[0], line.split("\t", 1)[1]) for line in out.splitlines()]


def test_every_tool_with_a_shebang_is_executable():
    tools = _tracked("tools")
    with_shebang = [p for _, p in tools if (ROOT / p).read_bytes()[:2] == b"#!"]
    assert {"tools/deploy.py", "tools/keys.py", "tools/run.py", "tools/setup.sh"} <= set(
        with_shebang
    )
    for mode, path in tools:
        if path in with_shebang:
            assert mode == "100755", path  # in the repository, so a fresh clone has it
            assert os.access(ROOT / path, os.X_OK), path
        else:
            assert mode == "100644", path  # a module, not a command


def _make_n(*args, **env):
    e = {k: v for k, v in os.environ.items() if k not in ("PORT", "SESSIONRING_PORT")}
    e.update(env)
    cmd = ["make", "-n", "--no-print-directory", "-o", "setup"] + list(args)
    out = subprocess.run(cmd, cwd=ROOT, env=e, capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())


def test_make_run_echoes_only_the_port_it_is_given():
    # SESSIONRING_PORT=8082 make run listened on 8082 while echoing --port 8080
    assert "--port" not in _make_n("run", SESSIONRING_PORT="8082")
    assert "--port" not in _make_n("run")
    assert "--port 8081" in _make_n("run", "PORT=8081")


def test_make_bench_strict_only_when_asked():
    assert "tools/bench all" in _make_n("bench") and "--strict" not in _make_n("bench")
    assert "tools/bench --strict all" in _make_n("bench", "STRICT=1")
    assert "tools/bench http" in _make_n("bench-http")


def test_bench_reports_a_miss_plainly_and_exits_0(monkeypatch, capsys):
    codes = {"ring": 0, "http": common.MISS_EXIT, "sealed": 1}
    monkeypatch.setattr(bench_main, "run_one", lambda name, extra=(): codes[name])
    assert bench_main.main(["ring", "http"]) == 0
    out = capsys.readouterr().out
    assert "MISS: http" in out and "error" not in out.lower()
    assert bench_main.main(["ring", "http", "--strict"]) == 1
    assert bench_main.main(["sealed"]) == 1  # a benchmark that fails to run is an error
    assert "error" in capsys.readouterr().out.lower()


def test_bench_passes_options_on_with_or_without_a_double_dash(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(bench_main, "run_one", lambda name, extra=(): calls.append((name, extra)))
    bench_main.main(["firmware", "--sessions", "sealed"])  # as docs/sessions.md writes it
    bench_main.main(["tls", "--", "heap", "cheap"])  # as docs/benchmarks.md writes it
    bench_main.main(["--strict", "soak", "--", "--minutes", "1"])
    assert calls == [
        ("firmware", ["--sessions", "sealed"]),
        ("tls", ["heap", "cheap"]),
        ("soak", ["--minutes", "1"]),
    ]
    calls.clear()
    bench_main.main(["--seconds", "1"])  # no name: all of them, each with the option
    assert calls == [(name, ["--seconds", "1"]) for name in bench_main.ALL]
    assert "tls" not in bench_main.ALL and "soak" not in bench_main.ALL


def test_bench_tables_are_markdown():
    text = common.table("a | b | ", [(1, "x", ""), ("y", 2.5, "z")])
    assert text.splitlines() == [
        "| a | b |  |",
        "|---|---|---|",
        "| 1 | x |  |",
        "| y | 2.5 | z |",
    ]
    table, status = common.verdict([("t", "1 B", True), ("u", "2 B", False)])
    assert status == common.MISS_EXIT and "| u | 2 B | MISS |" in table
    assert common.verdict([("t", "1 B", True)])[1] == 0
