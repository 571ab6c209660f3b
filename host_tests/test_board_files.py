"""Board files against the code: each section's keys are keyword arguments of the class it
configures, the firmware sets the rest itself, and docs/admin.md's table of keys is the one
these tests render from the code (defaults and each board's values; only the meanings are
written by hand). Regenerate the table after a change: python host_tests/test_board_files.py."""

import inspect
import json
import re
import sys

from harness import ROOT

for _p in (ROOT / "firmware", ROOT / "lib", ROOT / "lib" / "hostshim"):
    if str(_p) not in sys.path:
        sys.path.append(str(_p))

from admin import board  # noqa: E402
from sessionring.http import Server  # noqa: E402
from sessionring.ring import SessionRing  # noqa: E402
from sessionring.sealed import SealedStore  # noqa: E402
from sessionring.throttle import Throttle  # noqa: E402

BOARDS = ("esp32", "rpi_pico_w", "unix")
CLASSES = {"store": SessionRing, "sealed": SealedStore, "throttle": Throttle}
# keyword arguments the firmware gives these classes itself (not board.json's to set)
FIRMWARE_SETS = {
    "store": {"idle_s", "absolute_s", "clock"},
    "sealed": {"keys", "gen_file", "deny_file", "cookie_name", "idle_s", "absolute_s"}
    | {"clock", "ticks"},
    "throttle": {"clock", "key"},
}
DOC = ROOT / "docs" / "admin.md"
HEAD = "| Key | Default | esp32 | rpi_pico_w | unix | Meaning |"


def signature_defaults(cls):
    return {k: p.default for k, p in inspect.signature(cls).parameters.items()}


def server_tunables():
    out = {}
    for k in sorted(vars(Server)):
        v = getattr(Server, k)
        if k.startswith("_") or callable(v) or isinstance(v, property):
            continue
        if k not in board.SERVER_SET:
            out[k] = v
    return out


def keys():
    """[(key as the table names it, default)] for every key board.json may hold."""
    out = [(k, d) for k, d in board.BOARD.items()]
    out += [("firmware.%s" % k, d) for k, d in board.FIRMWARE.items()]
    out += [("server.%s" % k, d) for k, d in server_tunables().items()]
    for sec, cls in CLASSES.items():
        d = signature_defaults(cls)
        out += [("%s.%s" % (sec, k), d[k]) for k in board.SECTIONS[sec]]
    return out


def given(name):
    return json.loads((ROOT / "boards" / name / "board.json").read_text())


def value(prof, key):
    sec, _, k = key.rpartition(".")
    where = prof.get(sec, {}) if sec else prof
    return json.dumps(where[k]) if k in where else ""


def render(meanings):
    rows = [HEAD, "|---|---|---|---|---|---|"]
    profs = [given(b) for b in BOARDS]
    for key, default in keys():
        cells = ["`%s`" % key, json.dumps(default)]
        cells += [value(p, key) for p in profs]
        cells.append(meanings.get(key, "?"))
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def doc_table():
    text = DOC.read_text()
    start = text.index(HEAD)
    end = text.index("\n\n", start)
    return text[start:end]


def doc_meanings():
    out = {}
    for line in doc_table().splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        out[cells[0].strip("`")] = cells[-1]
    return out


def test_section_keys_are_the_keywords_of_their_class():
    for sec, cls in CLASSES.items():
        params = set(signature_defaults(cls))
        names = set(board.SECTIONS[sec])
        assert names <= params, (sec, names - params)
        assert params - names == FIRMWARE_SETS[sec], sec
    assert board.SECTIONS["server"] is None  # every Server tunable (its class attributes)
    for k in board.SERVER_SET:
        assert hasattr(Server, k)


def test_board_files_are_valid_and_state_only_what_differs():
    defaults = dict(keys())
    for name in BOARDS:
        prof = given(name)
        assert board.problems(prof) == [], name
        for sec, v in prof.items():
            if not isinstance(v, dict):
                continue
            for k, x in v.items():
                assert x != defaults["%s.%s" % (sec, k)], "%s restates %s.%s" % (name, sec, k)


def test_the_board_files_differ_where_the_boards_do():
    esp, pico = given("esp32"), given("rpi_pico_w")
    same = {k for k in esp if esp[k] == pico[k]}
    # the same limits (both small boards), different chips
    assert {"server", "store"} <= same
    assert esp["firmware"] != pico["firmware"] and esp["mpy_arch"] != pico["mpy_arch"]


def test_admin_md_lists_every_key_with_the_code_defaults_and_board_values():
    meanings = doc_meanings()
    missing = [k for k, _ in keys() if k not in meanings or meanings[k] in ("", "?")]
    assert not missing, "docs/admin.md: no meaning for %s" % missing
    assert doc_table() == render(meanings), (
        "docs/admin.md's key table is out of date: python host_tests/test_board_files.py"
    )


def test_the_firmware_reads_the_tls_and_sealed_keys_it_documents():
    text = DOC.read_text()
    for k in ("firmware.https", "sealed.key_file", "server.hosts", "throttle.free"):
        assert re.search(r"`%s`" % re.escape(k), text), k


if __name__ == "__main__":
    text = DOC.read_text()
    old = doc_table()
    DOC.write_text(text.replace(old, render(doc_meanings())))
    print("docs/admin.md: key table rendered")
