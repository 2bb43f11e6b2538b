"""Lab 09 model, threads (w16t): what user/programs/wowthreads.c must report for the seed of
ktest wow64.threads (labs/09-wow64/tests/wow64_thread_tests.c), built 32-bit (run 1, in a
WOW64 process) and 64-bit (run 2). Every record is computed from the seed; the 32-bit
transcript must equal the 64-bit one but for the redir* records, which only the 32-bit build
makes (file system redirection is a WOW64 thing), and the native_* records, which only the
64-bit build makes (the kernel's own refusals and probes, called directly). Each difference names the clause it breaks.
"""
from __future__ import annotations

from grader.models.rng import KtRng, M64

TEST = "wow64.threads"
PENDING = 0x103
TIMEOUT = 0x102

# What each record (or each field of a thread<i> record) proves, for the failure message.
CLAUSES = {
    "threads": "the thread count from the seed",
    "events": "NtCreateEvent from 32-bit code (whNtCreateEvent: a 0 attributes slot is NULL, the handle written "
              "back as 32 bits)",
    "create": "NtCreateEvent and NtCreateThreadEx statuses, the thread handle written back",
    "started": "every thread's start event waited on (whNtWaitForSingleObject, a 0 timeout slot: no timeout)",
    "wait_running": "whNtWaitForSingleObject: a zero LARGE_INTEGER timeout (not a 0 slot) polls - STATUS_TIMEOUT on "
                    "a thread that is still waiting",
    "wait_self": "whNtWaitForSingleObject: the handle slot is sign-extended - 0xFFFFFFFE stays NtCurrentThread(), "
                 "a wait on the caller itself with a zero timeout is STATUS_TIMEOUT",
    "go": "NtSetEvent: status and the previous state (0) written back",
    "wait_long": "whNtWaitForSingleObject: the whole 64-bit timeout (-2^32 x 100 ns: its low half alone is 0) - the "
                 "wait ends when the thread does, STATUS_SUCCESS",
    "redir_wait": "whNtWaitForSingleObject with a 0 timeout slot (NULL: no timeout) on an event",
    "redir_states": "redirection state is per thread: after thread 0's Wow64DisableWow64FsRedirection its own "
                    "state is 1, the main thread's and every other thread's still 0 (each thread's own wow64 block)",
    "redir_disable": "Wow64DisableWow64FsRedirection: STATUS_SUCCESS, the old state 0, the thread's state 1 after",
    "redir_revert": "Wow64RevertWow64FsRedirection(old): STATUS_SUCCESS, the thread's state back to 0",
    "native": "the kernel's services from user mode (kernel/ps/psthread.c, kernel/ob/obsync.c): a kernel pointer "
              "is STATUS_ACCESS_VIOLATION before anything is created; NtCreateThreadEx refuses CREATE_SUSPENDED "
              "(parameter 7), another process's handle (4), an attribute list (11); NtTerminateThread on an event "
              "is a type mismatch; NtQueryInformationThread checks the class, then the length",
}
THREAD_FIELDS = [
    ("done", "its event waited on (whNtWaitForSingleObject, no timeout)"),
    ("joined", "its thread handle waited on: the thread object is signalled when it ends"),
    ("query", "NtQueryInformationThread(handle) status"),
    ("exit", "the thread's exit status (NtTerminateThread's, from the seed)"),
    ("teb_query", "NtQueryInformationThread's TebBaseAddress and thread id are the TEB the thread saw and the id in it"),
    ("teb_self", "in the thread, FS:[0x18] (32-bit: its TEB32's Self) / GS:[0x30] is the TEB "
                 "NtQueryInformationThread(NtCurrentThread()) names, its id and STATUS_PENDING as exit status"),
    ("teb_stable", "FS:[0x18] stays the thread's own TEB32 after every yield: the context switch writes the new "
                   "thread's TEB32 into the GDT's 0x53 descriptor base (and reloads FS)"),
    ("distinct", "every thread has its own TEB (TEB32) and id, different from every other's and the main thread's"),
    ("result", "the thread's seeded computation"),
]


def _next(state: list[int]) -> int:
    state[0] = (state[0] + 0x9E3779B97F4A7C15) & M64
    z = state[0]
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def exit_code(result: int) -> int:
    return (result & 0x0FFFFFFF) | 0x10000000


def wowthreads(argv: list[str], wow64: bool) -> tuple[dict[str, str], int]:
    """What wowthreads.exe reports for argv (wow64: the 32-bit build), and its exit status."""
    if len(argv) != 2:
        return {"print": "usage: wowthreads SEED"}, 2
    x = [int(argv[1], 0) & M64]
    n = 2 + _next(x) % 3
    out = {"threads": str(n), "events": "0x0 0x0 0x0"}
    results = []
    for i in range(n):
        value = _next(x)
        rounds = 40 + _next(x) % 200
        for r in range(rounds):
            s = [value]
            value = _next(s) ^ r
        results.append(value)
        out[f"create{i}"] = "0x0 0x0 1"
    out["started"] = "0x0"
    out["wait_running"] = f"0x{TIMEOUT:x}"
    out["wait_self"] = f"0x{TIMEOUT:x}"
    out["go"] = "0x0 0"
    out["wait_long"] = "0x0"
    if wow64:
        out["redir_wait"] = "0x0"
        out["redir_states"] = "1 0 0"
        out["redir_disable"] = "0x0 0 1"
        out["redir_revert"] = "0x0 0"
    if not wow64:
        out.update({"native_event_bad_handle": "0xc0000005", "native_wait_bad_timeout": "0xc0000005",
                    "native_set_bad_state": "0xc0000005", "native_thread_suspended": "0xc00000f5 0",
                    "native_thread_process": "0xc00000f2", "native_thread_attributes": "0xc00000f9",
                    "native_thread_bad_handle": "0xc0000005", "native_terminate_event": "0xc0000024",
                    "native_query_class": "0xc0000003", "native_query_length": "0xc0000004"})
    for i, value in enumerate(results):
        out[f"thread{i}"] = f"0x0 0x0 0x0 0x{exit_code(value):x} 1 1 1 1 0x{value:x}"
        out[f"start{i}"] = "0x0 " + (f"0x{TIMEOUT:x}" if i == n - 1 else "0x0")
    return out, 0


def _explain(key: str, want: str, seen: str) -> str:
    base = "native" if key.startswith("native_") else key.rstrip("0123456789")
    if base == "thread":
        w, s = want.split(), seen.split()
        bad = [f"{name} ({why}): expected {w[j]}, saw {s[j] if j < len(s) else 'nothing'}"
               for j, (name, why) in enumerate(THREAD_FIELDS) if j >= len(s) or s[j] != w[j]]
        return "; ".join(bad) or f"expected {want}, saw {seen}"
    if base == "start":
        return (f"the thread's wait on the start event (no timeout) and the last thread's 20 ms nap (a small "
                f"relative timeout: STATUS_TIMEOUT): expected {want}, saw {seen}")
    return f"{CLAUSES.get(base, key)}: expected {want}, saw {seen}"


def planned(seed: int) -> list[str]:
    rng = KtRng(seed, TEST)
    return ["wowthreads.exe", str(rng.random())]


def judge(seed: int, values) -> list[str]:
    argv = planned(seed)
    line = " ".join(argv)
    got: dict[str, list[str]] = {}
    for t, k, v in values:
        if t == TEST:
            got.setdefault(k, []).append(v)
    problems = []
    runs = {}
    for k, wow64 in ((1, True), (2, False)):
        build = "32-bit" if wow64 else "64-bit"
        start = got.get(f"user{k}.start", [])
        if start != [f"{argv[0]} {line}"]:
            problems.append(f"run {k} ({build}): expected the harness to start `{line}`, saw {start or 'no start record'}")
            continue
        want, status = wowthreads(argv, wow64)
        seen = {key[len(f"u{k}."):]: vals for key, vals in got.items() if key.startswith(f"u{k}.")}
        runs[k] = {key: vals[0] for key, vals in seen.items() if len(vals) == 1}
        for key, value in want.items():
            if seen.get(key) != [value]:
                s = " | ".join(seen.get(key, [])) or "nothing"
                problems.append(f"run {k} ({build} `{line}`) {key}: {_explain(key, value, s)}")
        for key in sorted(set(seen) - set(want)):
            problems.append(f"run {k} ({build} `{line}`): unexpected record u{k}.{key} = {seen[key]}")
        exit_ = got.get(f"user{k}.exit", [])
        if exit_ != [f"0x{status:x}"]:
            problems.append(f"run {k} ({build} `{line}`): exit status must be 0x{status:x} (every thread's exit status "
                            f"from the seed), was {exit_ or 'not reported'}")
    if 1 in runs and 2 in runs:
        a = {k: v for k, v in runs[1].items() if not k.startswith("redir")}
        b = {k: v for k, v in runs[2].items() if not k.startswith("native_")}
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                problems.append(f"{TEST}: the 32-bit build reported {key} = {a.get(key, 'nothing')}, the 64-bit build "
                                f"{b.get(key, 'nothing')}: the same program must give the same transcript through the "
                                f"wow64 layer")
    return problems
