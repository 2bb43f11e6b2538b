"""grader/models/lab07.py agrees with the reference kernel's KTEST VALUE records for the
seed they were recorded with (tests/transcripts/lab07_values_seed5.txt: irp.walk and
irp.cancel, SOL=all, SEED=5), rejects them for other seeds naming the clause, and its
seeded plans cover every case on every seed (TESTING.md 5)."""
import os

from grader.models import lab07

HERE = os.path.dirname(os.path.abspath(__file__))


def _values():
    out = []
    with open(os.path.join(HERE, "transcripts", "lab07_values_seed5.txt")) as f:
        for line in f:
            _, _, test, key, value = line.rstrip("\n").split(" ", 4)
            out.append((test, key, value))
    return out


def test_model_agrees_with_the_reference():
    assert lab07.judge("completion_walk", 5, _values()) == []
    assert lab07.judge("cancel", 5, _values()) == []


def test_model_rejects_another_seed():
    for seed in (6, 7, 8):
        walk = lab07.judge("completion_walk", seed, _values())
        assert walk and "scenario" in walk[0], walk
        assert lab07.judge("cancel", seed, _values()) or lab07.cancel_expected(seed) == lab07.cancel_expected(5)


def test_every_seed_covers_every_case():
    """Each run has every filter action, both base modes, success and error, a walk where
    MORE_PROCESSING_REQUIRED stops and resumes, a pending mark propagated through filters
    without routines; and a cancellation set that is neither empty nor everything."""
    for seed in range(200):
        runs = lab07.walk_expected(seed)
        actions = {a for plan, _ in runs[:3] for a in plan["action"]}
        assert actions == {lab07.PASS, lab07.CONTINUE, lab07.MORE, lab07.PEND}, seed
        assert {plan["mode"] for plan, _ in runs} == {lab07.SYNC, lab07.PENDB}, seed
        assert any(plan["status"] >= 0x80000000 for plan, _ in runs), seed
        plan3, want3 = runs[3]
        assert want3["ran"] == [(0, 1)], (seed, want3)  # no filter routine runs; the pending mark reaches the top
        n, cancelled = lab07.cancel_expected(seed)
        assert 0 < len(cancelled) < n, seed
