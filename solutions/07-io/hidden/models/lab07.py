"""Lab 07 model of the hidden checkpoints (instructor-only: never shipped to students).

walk_deep: two seeded stacks of eight filters, every action and flag drawn from the seed as
the hidden test draws them; the walk itself is the public model's (grader/models/lab07.py).
Every other checkpoint is judged by the public model.
"""
from __future__ import annotations

from grader.models import lab07 as public
from grader.models.lab07 import PENDB, STATUS_END_OF_FILE, STATUS_SUCCESS, SYNC
from grader.models.rng import KtRng


def deep_plan(rng: KtRng, s: int) -> dict:
    """irp.walk_deep (solutions/07-io/hidden/hidden_tests.c): eight filters, all seeded."""
    action, flags = [], []
    for _ in range(8):
        action.append(rng.range(0, 3))
        flags.append(rng.range(0, 2))
    status = STATUS_SUCCESS if rng.range(0, 1) else STATUS_END_OF_FILE
    info = rng.range(1, 4095)
    return {"n": 8, "action": action, "flags": flags, "info": info, "mode": PENDB if s == 0 else SYNC,
            "status": status}



def judge(checkpoint: str, seed: int, values: list[tuple[str, str, str]]) -> list[str]:
    if checkpoint == "walk_deep":
        return public._judge_walk(seed, values, "irp.walk_deep", 2, deep_plan)
    return public.judge(checkpoint, seed, values)
