"""grader/models/lab05.py agrees with the reference kernel's KTEST VALUE records for the
seed they were recorded with (tests/transcripts/lab05_values_seed5.txt: every traced lab 05
test, SOL=all, SEED=5) and rejects them for another seed, showing the expected and seen
schedules as a timeline."""
import os

from grader.models import lab05

HERE = os.path.dirname(os.path.abspath(__file__))
TRACED = ["priority_order", "preemption", "round_robin", "boost_decay", "sync_event", "notification_event",
          "semaphore"]


def _values():
    out = []
    with open(os.path.join(HERE, "transcripts", "lab05_values_seed5.txt")) as f:
        for line in f:
            parts = line.rstrip("\n").split(" ", 4)
            out.append((parts[2], parts[3], parts[4] if len(parts) > 4 else ""))
    return out


def test_model_agrees_with_the_reference():
    for cp in TRACED:
        assert list(lab05.judge(cp, 5, _values())) == [], cp


def test_model_rejects_another_seed_with_a_timeline():
    wrong = [s for s in range(6, 40) if list(lab05.judge("priority_order", s, _values()))]
    assert wrong, "no other seed gives another priority order"
    problem = list(lab05.judge("priority_order", wrong[0], _values()))[0]
    assert "highest-priority ready thread runs first" in problem
    assert "expected" in problem and "seen" in problem and "^" in problem


def test_a_missing_trace_is_left_to_the_kernel_check():
    assert list(lab05.judge("round_robin", 5, [])) == []
