"""Lab 04 model: what the seeded lab 04 tests must report, computed from the seed
(labs/04-irql-dpc/tests/*.c); the kernel reports, this model judges.

dpc_queue: the seeded importances of dpc.queue give the run order (HighImportance at the
head, so the high ones in reverse order of insertion, then the others first in, first out);
the kernel reports each routine call as `KTEST VALUE dpc.queue ran <id>`.
timer_order: the seeded due times of timer.order (relative and absolute, offsets from one
frozen interrupt time) give the firing order: ascending due time, equal due times in the
order they were set; the kernel reports `increment` (KeTimeIncrement) and each timer DPC as
`fired <id>`.
acquire_above_dispatch / release_to_higher: the seeded IRQL in the announced STOP
parameters (the verdict compares the STOP line with the announcement).
"""
from __future__ import annotations

from grader.models.rng import KtRng

TIMER_TABLE_SIZE = 64   # kernel/include/ketimer.h
ORDER_FAR = 4           # KT_ORDER_FAR, timer_tests.c
HIGH = 2


def _values(values, test: str, key: str) -> list[str]:
    return [v for t, k, v in values if t == test and k == key]


def dpc_order_expected(seed: int) -> list[int]:
    """dpc.queue: KtSeededImportances, then the insert order 0..n-1."""
    rng = KtRng(seed, "dpc.queue")
    n = rng.range(5, 12)
    imp = [rng.range(0, 2) for _ in range(n)]
    imp[0] = imp[n // 2] = imp[n - 1] = HIGH
    imp[1] = 0
    imp[2] = 1
    queue: list[int] = []
    for i in range(n):
        if imp[i] == HIGH:
            queue.insert(0, i)
        else:
            queue.append(i)
    return queue


def _due_tick(time: int, inc: int) -> int:
    return (time + inc - 1) // inc


def timer_order_expected(seed: int, inc: int) -> list[int]:
    """timer.order: KtOrderSchedule; the near timers in firing order."""
    rng = KtRng(seed, "timer.order")
    n = rng.range(12, 24)
    offset = []
    for _ in range(n):
        ticks = rng.range(2, 16)
        offset.append(ticks * inc - rng.range(0, inc - 1))
    offset[1] = offset[0]
    offset[2] = _due_tick(offset[0], inc) * inc - rng.range(0, inc - 1)
    return sorted(range(n), key=lambda i: (offset[i], i))


def _judge_dpc_queue(seed, values) -> list[str]:
    want = dpc_order_expected(seed)
    seen = [int(v) for v in _values(values, "dpc.queue", "ran")]
    if seen != want:
        return [f"the drain runs the queue from the head: HighImportance DPCs were inserted at the head, the others "
                f"at the tail (seeded importances): expected the run order {want}, seen {seen}"]
    return []


def _judge_timer_order(seed, values) -> list[str]:
    inc = _values(values, "timer.order", "increment")
    if len(inc) != 1:
        return [f"timer.order: expected one KTEST VALUE increment record, seen {len(inc)}"]
    want = timer_order_expected(seed, int(inc[0]))
    seen = [int(v) for v in _values(values, "timer.order", "fired")]
    if seen != want:
        return [f"timers fire in due-time order, equal due times in the order they were set (seeded due times): "
                f"expected the firing order {want}, seen {seen}"]
    return []


def _judge_stop_level(test: str, position: int, clause: str):
    def judge(seed, values) -> list[str]:
        level = KtRng(seed, test).range(3, 12)
        text = _values(values, test, "stop_params")
        if len(text) != 1:
            return [f"{clause}: expected one KTEST VALUE {test} stop_params record, seen {len(text)}"]
        fields = text[0].split()
        if len(fields) != 4 or int(fields[position], 16) != level:
            return [f"{clause}: the seeded IRQL is {level}, P{position + 1} announced {text[0]}"]
        return []
    return judge


_JUDGES = {
    "dpc_queue": _judge_dpc_queue,
    "timer_order": _judge_timer_order,
    "acquire_above_dispatch": _judge_stop_level("irql.acquire_above_dispatch", 0,
                                                "IRQL_NOT_GREATER_OR_EQUAL P1 (the IRQL KeAcquireSpinLock ran at)"),
    "release_to_higher": _judge_stop_level("irql.release_to_higher", 1,
                                           "IRQL_NOT_LESS_OR_EQUAL P2 (the IRQL KeReleaseSpinLock was asked for)"),
}


def stop_params(checkpoint: str, seed: int) -> tuple:
    """The STOP parameters the seed gives (lab.toml's "seed" entries; None where it gives none)."""
    if checkpoint == "acquire_above_dispatch":
        return KtRng(seed, "irql.acquire_above_dispatch").range(3, 12), 2, 0, 0
    if checkpoint == "release_to_higher":
        return 2, KtRng(seed, "irql.release_to_higher").range(3, 12), 0, 0
    return None, None, None, None


def judge(checkpoint: str, seed: int, values: list[tuple[str, str, str]]) -> list[str]:
    fn = _JUDGES.get(checkpoint)
    if fn is None:
        return [f"grader/models/lab04.py has no model for checkpoint {checkpoint}"]
    return fn(seed, values)
