# Every input that ever failed a fuzz check, replayed on both interpreters: the checks are the
# same functions the hypothesis tests call (_fuzz_checks.py), the inputs are kept in
# data/fuzz_regressions.json.
import binascii
import json

import _fuzz_checks as fc


def _cases():
    with open(fc.REGRESSIONS) as f:
        return json.load(f)["cases"]


def test_regression_file_is_well_formed():
    cases = _cases()
    assert len(cases) >= 5
    for c in cases:
        assert c["check"] in fc.CHECKS, c
        assert c["why"], c
        binascii.unhexlify(c["hex"])


def test_replay_every_kept_input():
    failed = []
    for c in _cases():
        raw = binascii.unhexlify(c["hex"])
        try:
            got = fc.CHECKS[c["check"]](raw)
            if "expect" in c and got != c["expect"]:
                failed.append((c["why"], "got %r" % (got,)))
        except Exception as e:  # noqa: BLE001 - every case is reported, none stops the replay
            failed.append((c["why"], repr(e)))
    assert not failed, failed
