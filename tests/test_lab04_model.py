"""grader/models/lab04.py agrees with the reference kernel's KTEST VALUE records for the
seed they were recorded with (tests/transcripts/lab04_values_seed5.txt: dpc.queue and
timer.order, SOL=all, SEED=5) and rejects them for any other seed, naming the clause."""
import os

from grader.models import lab04

HERE = os.path.dirname(os.path.abspath(__file__))


def _values():
    out = []
    with open(os.path.join(HERE, "transcripts", "lab04_values_seed5.txt")) as f:
        for line in f:
            _, _, test, key, value = line.rstrip("\n").split(" ", 4)
            out.append((test, key, value))
    return out


def test_model_agrees_with_the_reference():
    assert lab04.judge("dpc_queue", 5, _values()) == []
    assert lab04.judge("timer_order", 5, _values()) == []


def test_model_rejects_another_seed():
    assert "HighImportance" in lab04.judge("dpc_queue", 6, _values())[0]
    assert "due-time order" in lab04.judge("timer_order", 6, _values())[0]


def test_seeded_stop_levels():
    from grader.models.rng import KtRng
    level = KtRng(3, "irql.acquire_above_dispatch").range(3, 12)
    good = [("irql.acquire_above_dispatch", "stop_params", f"0x{level:016x} 0x2 0x0 0x0")]
    bad = [("irql.acquire_above_dispatch", "stop_params", f"0x{level + 1:016x} 0x2 0x0 0x0")]
    assert lab04.judge("acquire_above_dispatch", 3, good) == []
    assert "seeded IRQL" in lab04.judge("acquire_above_dispatch", 3, bad)[0]
