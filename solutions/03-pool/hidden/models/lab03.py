"""Lab 03 model of the hidden checkpoints (instructor-only: never shipped to students).

nonpaged_above_dispatch, free_nonpaged_above_dispatch: the IRQL and the size the hidden
tests announce for BAD_POOL_CALLER's parameters are the ones their seed draws. Every other
checkpoint is judged by the public model, grader/models/lab03.py.
"""
from __future__ import annotations

from grader.models import lab03 as public
from grader.models.rng import KtRng


def _judge_free_irql(seed, values) -> list[str]:
    test = "pool.free_nonpaged_high"
    rng = KtRng(seed, test)
    rng.range(1, public.POOL_SMALL_LIMIT)  # the block's size
    irql = rng.range(public.DISPATCH_LEVEL + 1, public.HIGH_LEVEL)
    ann = public._values(values, test, "stop_params")
    if not ann:
        return []
    try:
        p2 = int(ann[0].split()[1], 0)
    except (IndexError, ValueError):
        return [f"{test}: cannot read the announced stop_params {ann[0]!r}"]
    if p2 != irql:
        return [f"BAD_POOL_CALLER 0x9 P2 = the IRQL of the free: the seed gives {irql}, the test announced {p2}"]
    return []


def stop_params(checkpoint: str, seed: int) -> tuple:
    """The STOP parameters the seed gives (checkpoints.toml's "seed" entries; None where it gives none)."""
    if checkpoint == "nonpaged_above_dispatch":
        rng = KtRng(seed, "pool.nonpaged_high")
        irql = rng.range(public.DISPATCH_LEVEL + 1, public.HIGH_LEVEL)
        return 0x8, irql, 0, rng.range(1, 4000)
    if checkpoint == "free_nonpaged_above_dispatch":
        rng = KtRng(seed, "pool.free_nonpaged_high")
        rng.range(1, public.POOL_SMALL_LIMIT)  # the block's size
        return 0x9, rng.range(public.DISPATCH_LEVEL + 1, public.HIGH_LEVEL), 0, None   # P4 the block: announced
    return public.stop_params(checkpoint, seed)


def judge(checkpoint: str, seed: int, values: list[tuple[str, str, str]]) -> list[str]:
    if checkpoint == "nonpaged_above_dispatch":
        rng = KtRng(seed, "pool.nonpaged_high")
        irql = rng.range(public.DISPATCH_LEVEL + 1, public.HIGH_LEVEL)
        return public._judge_stop("pool.nonpaged_high", seed, values, (irql, rng.range(1, 4000)))
    if checkpoint == "free_nonpaged_above_dispatch":
        return _judge_free_irql(seed, values)
    return public.judge(checkpoint, seed, values)
