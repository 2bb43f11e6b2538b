"""The model of the user-program harness's example checkpoint (ktest user.seedcalc,
labs/08-usermode/tests/user_tests.c; the program user/programs/seedcalc.c): the arguments of
each run from the seed, and every record the program must report and its exit status.

How to write a user-program checkpoint (kernel/include/usertest.h): the ktest derives the
arguments with KtRandom/KtRandomRange and calls KtRunUserProgram; this model recomputes them with
KtRng (grader/models/rng.py) in the same order, computes what the program must say, and compares
with the `KTEST VALUE <test> u<k>.<key>` and `user<k>.exit` records. Copy it for a new program.
"""
from __future__ import annotations

from grader.models.rng import KtRng, M64

TEST = "user.seedcalc"
MIX = [0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0x2545F4914F6CDD1D,
       0x0123456789ABCDEF, 0xFEDCBA9876543210, 0x1000000000000001, 0x00000000DEADBEEF]


def _splitmix(z: int) -> int:
    z = (z + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def seedcalc(argv: list[str]) -> tuple[dict[str, str], int]:
    """What seedcalc.exe reports for argv, and its exit status."""
    out = {"argc": str(len(argv))}
    for i, a in enumerate(argv):
        out[f"argv{i}"] = a
    if len(argv) != 3:
        out["print"] = "usage: seedcalc X R"
        return out, 2
    x, rounds = int(argv[1], 0), int(argv[2], 0)
    out["data"] = "1000"
    out["bss_nonzero"] = "0"
    trail = [0] * 64
    for r in range(rounds):
        x = _splitmix(x) ^ MIX[r % 8]
        trail[r % 64] = (trail[r % 64] + x) & M64
    t = 0
    for v in trail:
        t ^= v
    out["x"] = f"0x{x:x}"
    out["trail"] = f"0x{t:x}"
    return out, x & 0x7FFFFFFF


def runs(seed: int) -> list[list[str]]:
    """The command lines of the three runs (user_tests.c's order of KtRandom calls)."""
    rng = KtRng(seed, TEST)
    x = rng.random()
    rounds = rng.range(100, 3000)
    return [["seedcalc.exe", str(x), str(rounds)], ["seedcalc.exe", f"0x{x:x}", "0"], ["seedcalc.exe"]]


def judge_runs(test: str, planned: list[list[str]], program, values) -> list[str]:
    """Each run's start line, every u<k>.* record (no more, no fewer) and user<k>.exit."""
    problems = []
    got: dict[str, list[str]] = {}
    for t, k, v in values:
        if t == test:
            got.setdefault(k, []).append(v)
    for k, argv in enumerate(planned, 1):
        line = " ".join(argv)
        start = got.get(f"user{k}.start", [])
        if start != [f"{argv[0]} {line}"]:
            problems.append(f"run {k}: expected the harness to start `{line}`, saw {start or 'no start record'}")
            continue
        want, status = program(argv)
        seen = {key[len(f"u{k}."):]: vals for key, vals in got.items() if key.startswith(f"u{k}.")}
        for key, value in want.items():
            if seen.get(key) != [value]:
                problems.append(f"run {k} (`{line}`): the program must report {key} = {value}, "
                                f"reported {seen.get(key, 'nothing')}")
        for key in sorted(set(seen) - set(want)):
            problems.append(f"run {k} (`{line}`): unexpected record u{k}.{key} = {seen[key]}")
        exit_ = got.get(f"user{k}.exit", [])
        if exit_ != [f"0x{status:x}"]:
            problems.append(f"run {k} (`{line}`): exit status must be 0x{status:x}, was {exit_ or 'not reported'}")
    return problems


def judge(checkpoint: str, seed: int, values: list[tuple[str, str, str]]) -> list[str]:
    return judge_runs(TEST, runs(seed), seedcalc, values)
