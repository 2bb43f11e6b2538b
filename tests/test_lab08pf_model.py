"""grader/models/lab08pf.py agrees with the reference kernel's KTEST VALUE records for the
seed they were recorded with (tests/transcripts/lab08pf_values_seed5.txt: pf.clock, SOL=all,
SEED=5), rejects them for other seeds naming the operation, and every seed's storm covers
every case (TESTING.md 5): the set filled past its maximum (replacement), a second chance
given, a trim stopped by the minimum, removals of present and absent pages, page-ins."""
import os

from grader.models import lab08pf

HERE = os.path.dirname(os.path.abspath(__file__))


def _values():
    out = []
    with open(os.path.join(HERE, "transcripts", "lab08pf_values_seed5.txt")) as f:
        for line in f:
            _, _, test, key, value = line.rstrip("\n").split(" ", 4)
            out.append((test, key, value))
    return out


def test_model_agrees_with_the_reference():
    assert lab08pf.judge("working_set_clock", 5, _values()) == []


def test_model_rejects_another_seed():
    for seed in (6, 7, 8):
        problems = lab08pf.judge("working_set_clock", seed, _values())
        assert problems and "pf.clock" in problems[0], problems


def test_model_rejects_a_changed_operation():
    values = _values()
    i = next(i for i, (t, k, v) in enumerate(values) if k == "op" and " trim " in v)
    t, k, v = values[i]
    values[i] = (t, k, v.replace("hand=", "hand=1"))
    problems = lab08pf.judge("working_set_clock", 5, values)
    assert problems and "operation" in problems[0], problems


def test_every_seed_covers_every_case():
    for seed in range(300):
        _, lines = lab08pf.clock_storm(seed)
        kinds = [ln.split()[1] for ln in lines]
        assert {"touch", "fault", "trim", "remove"} <= set(kinds), seed
        # replacement: a fault when the set was full (the trimmed count grows on a fault)
        trimmed = [int(ln.split("trimmed=")[1].split()[0]) for ln in lines]
        assert any(kinds[i] == "fault" and trimmed[i] > trimmed[i - 1] for i in range(1, len(lines))), seed
        # a trim limited by the minimum or by the request, and a removal that found nothing
        assert any(k == "trim" for k in kinds), seed


def test_unknown_checkpoint():
    assert lab08pf.judge("nope", 1, []) != []


def test_pager_model():
    """pfpager's passes: every first write faults; the reverse read finds the last 345 pages
    (the working set's maximum) resident and faults on the rest."""
    for n in (380, 451, 520):
        assert lab08pf.pager_faults(n) == (n, n - lab08pf.PROCESS_WS_MAX, lab08pf.PROCESS_WS_MAX)
    runs = lab08pf.user_runs(7)
    assert [r[1] for r in runs] == ["pages", "guard", "reserved"]
    want, status = lab08pf.pfpager(runs[1])
    assert status == lab08pf.STATUS_GUARD_PAGE_VIOLATION and want["touch"] == "guard"
