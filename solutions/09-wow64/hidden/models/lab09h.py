"""Lab 09 hidden model: the thunk sweep (wow64.thunks_sweep: KtwRunThunkCases three rounds),
judged by the public model's reference thunk (grader/models/lab09.py)."""
from __future__ import annotations

from grader.models import lab09


def judge(checkpoint: str, seed: int, values: list[tuple[str, str, str]]) -> list[str]:
    if checkpoint == "thunks_sweep":
        return lab09.judge_thunks(seed, values, "wow64.thunks_sweep", 3)
    return []
