"""`make soak` in short: tools/bench soak for 10 s into a temporary folder writes a CSV with a
row per second, a PNG plot and a one-line verdict, with figures that make sense."""

import csv
import subprocess
import sys

from harness import ROOT


def test_soak_ten_seconds(tmp_path):
    p = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "bench"),
            "soak",
            "--",
            "--seconds",
            "10",
            "--out",
            str(tmp_path),
        ],
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("soak: ")]
    assert len(lines) == 1, (p.stdout, p.stderr)
    verdict = lines[0]
    print("\n" + verdict)
    assert verdict.split()[1] in ("PASS", "FAIL")
    assert p.returncode == (0 if verdict.split()[1] == "PASS" else 1)
    assert (tmp_path / "verdict.txt").read_text().strip() == verdict
    rows = list(csv.DictReader((tmp_path / "soak.csv").open()))
    assert 9 <= len(rows) <= 10, len(rows)
    assert [int(r["t_s"]) for r in rows] == list(range(1, len(rows) + 1))
    for r in rows:
        assert int(r["open_conns"]) >= 0
        assert int(r["admin_status"]) in (200, 503)
        assert 0 <= float(r["admin_ms"]) < 60000
        assert int(r["heap_free_kb"]) > 0  # MicroPython reports its heap
        assert int(r["live_sessions"]) >= 1 or r["admin_status"] != "200"
    answers = sum(int(v) for r in rows for k, v in r.items() if k.startswith("n_"))
    assert answers > 100  # the mix did run
    assert sum(int(r["n_500"]) + int(r["n_hang"]) for r in rows) == 0, verdict
    png = (tmp_path / "soak.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20000
