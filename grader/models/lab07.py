"""Lab 07 model: what the seeded lab 07 tests must report, computed from the seed
(labs/07-io/tests/*.c); the kernel reports, this model judges.

completion_walk (irp.walk): four seeded scenarios of a device stack (filters that pass the
IRP down without a completion routine, continue, take it back with
STATUS_MORE_PROCESSING_REQUIRED and complete it again from a DPC, or pend) over a base
driver that completes at once or from its DPC, with success or an error. The model runs
its own IRP - stack locations, IoCallDriver, the completion walk of IoCompleteRequest,
the filters' and the base's routines and a FIFO DPC queue held while the caller is at
DISPATCH_LEVEL - and compares what IoCallDriver returned, each routine call (level,
PendingReturned), whether the originator's routine ran before IoCallDriver returned, and
the final IoStatus, with the kernel's `KTEST VALUE irp.walk returned|early|ran|final`.
cancel (irp.cancel): the seeded set of requests cancelled while queued, and the status
each request must end with.
"""
from __future__ import annotations

from grader.models.rng import KtRng

PASS, CONTINUE, MORE, PEND = 0, 1, 2, 3
NAMES = ["pass", "continue", "more", "pend"]
SYNC, PENDB = 0, 1
STATUS_SUCCESS = 0
STATUS_PENDING = 0x103
STATUS_END_OF_FILE = 0xC0000011
STATUS_DEVICE_DATA_ERROR = 0xC000009C
STATUS_MORE = 0xC0000016
STATUS_CANCELLED = 0xC0000120
SL_PENDING, SL_CANCEL, SL_SUCCESS, SL_ERROR = 0x01, 0x20, 0x40, 0x80


def _values(values, test: str, key: str) -> list[str]:
    return [v for t, k, v in values if t == test and k == key]


def walk_plan(rng: KtRng, s: int) -> dict:
    """KtWalkPlan (walk_tests.c)."""
    n = rng.range(4, 7)
    r = rng.range(0, 3)
    action = [(r + i) % 4 if i < 4 else rng.range(0, 3) for i in range(n)]
    for i in range(n - 1, 0, -1):
        j = rng.range(0, i)
        action[i], action[j] = action[j], action[i]
    flags = [rng.range(0, 2) for _ in range(n)]
    info = rng.range(1, 4095)
    mode = PENDB if s in (1, 3) else SYNC
    status = STATUS_SUCCESS if s < 2 else STATUS_END_OF_FILE if s == 2 else STATUS_DEVICE_DATA_ERROR
    if s == 3:
        q = rng.range(0, n - 1)
        action = [PASS if i == q else CONTINUE for i in range(n)]
        flags = [1] * n
    return {"n": n, "action": action, "flags": flags, "info": info, "mode": mode, "status": status}


def _nt_success(status: int) -> bool:
    return status < 0x80000000


class _Walk:
    """One IRP through the stack: locations 1..count, drivers at levels 1 (base)..n+1."""

    def __init__(self, plan: dict):
        self.plan = plan
        n = plan["n"]
        self.count = n + 1
        self.loc = {k: {"control": 0, "routine": None} for k in range(1, self.count + 1)}
        self.current = self.count + 1
        self.status = 0
        self.info = 0
        self.pending_returned = False
        self.dpcs: list = []
        self.log: list[tuple[int, int]] = []
        self.top_runs = 0
        self.dispatch_level = True

    # the I/O manager
    def next_loc(self) -> int:
        return self.current - 1

    def set_routine(self, level: int, success: bool, error: bool):
        self.loc[self.next_loc()]["routine"] = level
        self.loc[self.next_loc()]["control"] = (SL_SUCCESS if success else 0) | (SL_ERROR if error else 0)

    def mark_pending(self):
        self.loc[self.current]["control"] |= SL_PENDING

    def call(self, level: int) -> int:
        self.current -= 1
        return self.dispatch(level)

    def complete(self):
        while self.current <= self.count:
            sp = self.loc[self.current]
            self.current += 1
            self.pending_returned = bool(sp["control"] & SL_PENDING)
            ok = _nt_success(self.status)
            invoke = sp["routine"] is not None and (
                (ok and sp["control"] & SL_SUCCESS) or (not ok and sp["control"] & SL_ERROR))
            routine = sp["routine"]
            if not invoke and self.pending_returned and self.current <= self.count:
                self.mark_pending()
            sp["control"], sp["routine"] = 0, None
            if invoke and self.routine(routine) == STATUS_MORE:
                return

    # the drivers
    def dispatch(self, level: int) -> int:
        if level == 1:
            if self.plan["mode"] == PENDB:
                self.mark_pending()
                self.dpcs.append(("base",))
                return STATUS_PENDING
            self.status, self.info = self.plan["status"], self.plan["info"]
            self.complete()
            return self.plan["status"]
        i = level - 2
        action, fl = self.plan["action"][i], self.plan["flags"][i]
        if action == PASS:
            self.current += 1
            return self.call(level - 1)
        more = action == MORE
        self.set_routine(level, more or fl != 2, more or fl != 1)
        if action == CONTINUE:
            return self.call(level - 1)
        self.mark_pending()
        self.call(level - 1)
        return STATUS_PENDING

    def routine(self, level: int) -> int:
        self.log.append((level, int(self.pending_returned)))
        if level == 0:
            self.top_runs += 1
            return STATUS_MORE
        self.info += 1 << (16 + level)
        if self.plan["action"][level - 2] == MORE:
            self.dpcs.append(("filter", level))
            return STATUS_MORE
        if self.pending_returned:
            self.mark_pending()
        return STATUS_SUCCESS

    def run(self) -> dict:
        self.loc[self.count]["routine"] = 0
        self.loc[self.count]["control"] = SL_SUCCESS | SL_ERROR | SL_CANCEL
        returned = self.call(self.count)
        early = self.top_runs
        while self.dpcs:
            d = self.dpcs.pop(0)
            if d[0] == "base":
                self.status, self.info = self.plan["status"], self.plan["info"]
            self.complete()
        return {"returned": returned, "early": early, "ran": self.log, "final": (self.status, self.info),
                "top_runs": self.top_runs}


def walk_expected(seed: int, test: str = "irp.walk", scenarios: int = 4, planner=walk_plan) -> list[tuple[dict, dict]]:
    """The seeded walks of test: planner(rng, s) draws scenario s's plan as the test does."""
    rng = KtRng(seed, test)
    out = []
    for s in range(scenarios):
        plan = planner(rng, s)
        out.append((plan, _Walk(plan).run()))
    return out


def _describe(plan: dict) -> str:
    filters = ", ".join(f"{i + 2}:{NAMES[a]}" + ("" if a in (PASS, MORE) else ["", "/success-only", "/error-only"][f])
                        for i, (a, f) in enumerate(zip(plan["action"], plan["flags"])))
    base = "pends" if plan["mode"] == PENDB else "completes at once"
    return f"base {base} with 0x{plan['status']:x}, filters (level:action) {filters}"


def _judge_walk(seed, values, test: str = "irp.walk", scenarios: int = 4, planner=walk_plan) -> list[str]:
    problems = []
    for s, (plan, want) in enumerate(walk_expected(seed, test, scenarios, planner)):
        tag = f"s{s} "
        ret = [v[len(tag):] for v in _values(values, test, "returned") if v.startswith(tag)]
        ran = [tuple(int(x) for x in v[len(tag):].split()) for v in _values(values, test, "ran")
               if v.startswith(tag)]
        early = [v[len(tag):] for v in _values(values, test, "early") if v.startswith(tag)]
        final = [v[len(tag):] for v in _values(values, test, "final") if v.startswith(tag)]
        where = f"scenario {s} ({_describe(plan)})"
        if not ret:
            problems.append(f"{where}: the kernel did not report it (KTEST VALUE {test} returned s{s})")
            break
        if int(ret[0], 16) != want["returned"]:
            problems.append(f"{where}: IoCallDriver returned {ret[0]}, expected 0x{want['returned']:x} (what the top "
                            f"driver returns: STATUS_PENDING when it or a driver it passed through pended)")
        if ran != want["ran"]:
            problems.append(f"{where}: completion routines ran as (level, PendingReturned) {ran}, expected "
                            f"{want['ran']} (bottom-up, only those asking for this outcome, PendingReturned from the "
                            f"pending mark of the location below; 0 is the originator)")
        if early and int(early[0]) != want["early"]:
            problems.append(f"{where}: the originator's routine had run {early[0]} times when IoCallDriver returned at "
                            f"DISPATCH_LEVEL, expected {want['early']} (a pended IRP completes later, from a DPC)")
        if final:
            st, info = (int(x, 16) for x in final[0].split())
            if (st, info) != want["final"]:
                problems.append(f"{where}: the final IoStatus was 0x{st:x}/0x{info:x}, expected "
                                f"0x{want['final'][0]:x}/0x{want['final'][1]:x} (the base's status and Information "
                                f"plus 1 << (16 + level) for each filter routine that ran)")
        if problems:
            break
    return problems


def cancel_expected(seed: int) -> tuple[int, list[int]]:
    """irp.cancel (io_tests.c, KtCancelPlan): n requests; which are cancelled while queued."""
    rng = KtRng(seed, "irp.cancel")
    n = rng.range(4, 8)
    mask = rng.range(1, (1 << n) - 2)
    first = rng.range(0, n - 1)
    mask |= 1 << first
    last = (first + rng.range(1, n - 1)) % n
    mask &= ~(1 << last)
    return n, [i for i in range(n) if mask >> i & 1]


def _judge_cancel(seed, values) -> list[str]:
    n, cancelled = cancel_expected(seed)
    seen = {}
    for v in _values(values, "irp.cancel", "status"):
        i, st = v.split()
        seen[int(i)] = int(st, 16)
    problems = []
    for i in range(n):
        want = STATUS_CANCELLED if i in cancelled else STATUS_SUCCESS
        if seen.get(i) != want:
            got = "no report" if i not in seen else f"0x{seen[i]:x}"
            problems.append(f"request {i} of {n} (cancelled while queued: {sorted(cancelled)}) ended with {got}, "
                            f"expected 0x{want:x}: a request cancelled while queued completes with STATUS_CANCELLED, "
                            f"the others complete normally")
    return problems[:3]


_JUDGES = {
    "completion_walk": _judge_walk,
    "cancel": _judge_cancel,
}


def judge(checkpoint: str, seed: int, values: list[tuple[str, str, str]]) -> list[str]:
    fn = _JUDGES.get(checkpoint)
    if fn is None:
        return [f"grader/models/lab07.py has no model for checkpoint {checkpoint}"]
    return fn(seed, values)
