"""Lab 05 model: the schedule the seeded lab 05 tests must report, computed from the seed
(labs/05-threads/tests/*.c); the kernel reports each trace as a KTEST VALUE, this model
judges it and shows expected and seen schedules as a timeline.

sched.priority: n threads of seeded priorities (the test's own KtRandomRange calls,
replayed) run highest first, first in first out within a priority.
sched.round_robin: k threads of one priority take turns in creation order, R turns each.
sched.preempt: the fixed nesting 1 2 3 4, then L.
sched.boost_decay: base + increment (cap 15; none for real time) down to base, one a quantum.
event.*, wait.multiple, wait.semaphore: wait order (a, b, c...), the seeded counts.
"""
from __future__ import annotations

from grader.models.rng import KtRng


def _values(values, test: str, key: str) -> list[str]:
    return [v for t, k, v in values if t == test and k == key]


def priority_expected(seed: int) -> str:
    rng = KtRng(seed, "sched.priority")
    n = rng.range(4, 8)
    prio = [rng.range(9, 14) for _ in range(n)]
    prio[n - 1] = prio[0]
    prio[1] = 9
    prio[2] = 14
    order = sorted(range(n), key=lambda i: (-prio[i], i))
    return "".join(chr(ord("a") + i) for i in order)


def round_robin_expected(seed: int) -> str:
    rng = KtRng(seed, "sched.round_robin")
    k = rng.range(3, 5)
    turns = rng.range(2, 3)
    return "".join(str(i) for i in range(k)) * turns


def boost_expected(seed: int) -> list[str]:
    rng = KtRng(seed, "sched.boost_decay")
    out = []
    for rnd in range(3):
        base = rng.range(9, 11) if rnd == 0 else rng.range(13, 14) if rnd == 1 else 16
        inc = rng.range(2, 3) if rnd == 0 else rng.range(3, 5)
        top = base if base >= 16 else min(base + inc, 15)
        out.append("".join(f"{p} " for p in range(top, base - 1, -1)).strip())
    return out


def sync_event_expected(seed: int) -> str:
    k = KtRng(seed, "event.synchronization").range(2, 5)
    return "".join(chr(ord("a") + i) for i in range(k))


def notification_expected(seed: int) -> tuple[str, str]:
    k = KtRng(seed, "event.notification").range(2, 3)
    return ("".join(chr(ord("a") + i) for i in range(k)), "".join(chr(ord("a") + i) for i in range(2 * k)))


def semaphore_expected(seed: int) -> str:
    rng = KtRng(seed, "wait.semaphore")
    limit = rng.range(2, 6)
    rng.range(0, limit - 1)
    k = min(rng.range(2, 4), limit + 1)
    return "".join(chr(ord("a") + i) for i in range(k - 1))


def _timeline(expected: str, seen: str) -> str:
    """Two rows, one column per event, a caret under the first difference."""
    width = max(len(expected), len(seen))
    first = next((i for i in range(width) if (expected[i:i + 1] or " ") != (seen[i:i + 1] or " ")), width)
    return (f"\n      event     {''.join(str(i % 10) for i in range(width))}"
            f"\n      expected  {expected}\n      seen      {seen}\n                {' ' * first}^")


def _compare(test, key, expected, values, clause):
    seen = _values(values, test, key)
    if not seen:
        return  # the kernel's own check reports what stopped it before the trace
    got = seen[-1].strip()
    if got == "-":
        got = ""
    if got != expected:
        yield f"{test} {key}: {clause}: the schedule differs from the model" + _timeline(expected, got)


def judge(checkpoint: str, seed: int, values):
    if checkpoint == "priority_order":
        yield from _compare("sched.priority", "order", priority_expected(seed), values,
                            "the highest-priority ready thread runs first, FIFO within a priority")
    elif checkpoint == "round_robin":
        yield from _compare("sched.round_robin", "turns", round_robin_expected(seed), values,
                            "equal priorities take turns at quantum end in queue order")
    elif checkpoint == "preemption":
        yield from _compare("sched.preempt", "preempt", "1234", values, "a higher-priority thread preempts at once")
        yield from _compare("sched.preempt", "raised", "1234L", values, "KeSetPriorityThread preempts")
        yield from _compare("sched.preempt", "displaced", "BDA", values,
                            "a displaced NextThread goes back Ready to the head of its queue")
        yield from _compare("sched.preempt", "quantum_next", "HT", values,
                            "a quantum end keeps a NextThread already chosen")
    elif checkpoint == "boost_decay":
        want = boost_expected(seed)
        seen = [s.strip() for s in _values(values, "sched.boost_decay", "priorities")]
        for i, (w, s) in enumerate(zip(want, seen)):
            if w != s:
                yield (f"sched.boost_decay round {i}: priorities after the wake, one per quantum end: "
                       f"expected {w}, seen {s}")
                break
    elif checkpoint == "sync_event":
        want = sync_event_expected(seed)
        seen = _values(values, "event.synchronization", "released")
        for j, s in enumerate(seen):
            if s.strip() != want[:j + 1]:
                yield ("event.synchronization: one waiter per set, in wait order" + _timeline(want[:j + 1], s.strip()))
                break
    elif checkpoint == "notification_event":
        first, both = notification_expected(seed)
        yield from _compare("event.notification", "released", first, values, "a set releases every waiter")
        yield from _compare("event.notification", "pulsed", both, values, "a pulse releases every waiter")
        yield from _compare("event.pulse_sync", "pulsed", "a", values,
                            "a pulse of a synchronization event releases its first waiter only")
    elif checkpoint == "semaphore":
        yield from _compare("wait.semaphore", "released", semaphore_expected(seed), values,
                            "a release of n wakes n waiters in wait order")
