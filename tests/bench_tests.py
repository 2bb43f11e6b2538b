#!/usr/bin/env python3
"""Where `make test`'s time goes: runs the project's tests (all of tests/, or the files named)
in one pytest process without xdist and prints the CPU seconds (this process and its children:
make, gcc, QEMU, GDB, the nested grades) and wall seconds of each test file, plus collection;
then `make test`'s projected wall time on two idle cores. make test has two xdist workers
(tests/conftest.py): the first runs the files of conftest.FIRST_WORKER (two boots or cases at a
time, the mutation runner last), the second every other file one test at a time. With three
busy threads on two cores the second worker gets about 2/3 of a core while both run, so the
projection is max(all CPU / 2, the second worker's CPU * 3/2, capped by all CPU).
CPU time depends much less on the machine's load than wall time: on a shared machine compare
CPU figures. Asserts nothing (failures are counted and listed by pytest as usual).

  /usr/bin/python3 tests/bench_tests.py [--mutations-step N] [pytest args or test files]

--mutations-step N (default 10) runs every N-th mutation case and scales its figure by N; 1
runs them all. Without test files, every test file under tests/ runs.
"""
import argparse
import os
import resource
import sys
import time
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu() -> float:
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


class Meter:
    """A pytest plugin: CPU and wall seconds of every test file (setup, call and teardown of
    its tests; module fixtures count where they run), and of collection."""

    def __init__(self, step: int):
        self.step = step
        self.scale = 1.0            # all mutation cases / the ones run
        self.cpu = defaultdict(float)
        self.wall = defaultdict(float)
        self.count = defaultdict(int)
        self.skipped = defaultdict(int)

    def pytest_collection(self, session):
        self._c0, self._w0 = cpu(), time.monotonic()

    def pytest_collection_modifyitems(self, session, config, items):
        if self.step > 1:
            keep = []
            seen = 0
            for item in items:
                if getattr(item, "originalname", "") == "test_mutation_is_caught":
                    seen += 1
                    if (seen - 1) % self.step:
                        continue
                keep.append(item)
            items[:] = keep

    def pytest_collection_finish(self, session):
        kept = sum(getattr(i, "originalname", "") == "test_mutation_is_caught" for i in session.items)
        if kept:
            import test_mutations
            self.scale = len(test_mutations.CASES) / kept
        self.cpu["(collection)"] += cpu() - self._c0
        self.wall["(collection)"] += time.monotonic() - self._w0

    def pytest_runtest_protocol(self, item, nextitem):
        self._file = item.nodeid.split("::", 1)[0]
        self._c, self._w = cpu(), time.monotonic()

    def pytest_runtest_logfinish(self, nodeid, location):
        f = nodeid.split("::", 1)[0]
        self.cpu[f] += cpu() - self._c
        self.wall[f] += time.monotonic() - self._w
        self.count[f] += 1

    def pytest_runtest_logreport(self, report):
        if report.skipped:
            self.skipped[report.nodeid.split("::", 1)[0]] += 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mutations-step", type=int, default=10)
    args, rest = ap.parse_known_args()
    import pytest
    meter = Meter(max(1, args.mutations_step))
    os.chdir(ROOT)
    sys.path.insert(0, ROOT)                # as `python3 -m pytest` from the tree
    os.environ["NTLAB_ON_STOP"] = ""
    c0, w0 = cpu(), time.monotonic()
    code = pytest.main(["-p", "no:cacheprovider", "-p", "no:xdist", "-q", *(rest or ["tests"])],
                       plugins=[meter])
    total_cpu, total_wall = cpu() - c0, time.monotonic() - w0
    mut = "tests/test_mutations.py"
    scale = {mut: meter.scale}
    print(f"\n{'file':<34} {'tests':>5} {'skip':>5} {'CPU s':>8} {'wall s':>8}   "
          f"({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")
    for f in sorted(meter.cpu, key=lambda k: -meter.cpu[k] * scale.get(k, 1)):
        s = scale.get(f, 1)
        note = f"  (a sample of the cases, x{s:.1f})" if s > 1 else ""
        print(f"{f:<34} {meter.count[f]:>5} {meter.skipped[f]:>5} {meter.cpu[f] * s:8.1f} "
              f"{meter.wall[f] * s:8.1f}{note}")
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from conftest import FIRST_WORKER
    first = sum(v * scale.get(k, 1) for k, v in meter.cpu.items() if k.rsplit("/", 1)[-1] in FIRST_WORKER)
    second = sum(v for k, v in meter.cpu.items() if k.rsplit("/", 1)[-1] not in FIRST_WORKER)
    total = first + second
    print(f"{'all':<34} {'':>5} {'':>5} {total:8.1f} {total_wall:8.1f}  (measured, unscaled CPU "
          f"{total_cpu:.1f})")
    print(f"make test on 2 idle cores, projected: first worker {first / 60:.1f} CPU-min (mutations "
          f"{meter.cpu.get(mut, 0.0) * meter.scale / 60:.1f}), second worker {second / 60:.1f} CPU-min: "
          f"about {min(total, max(total / 2, second * 1.5)) / 60:.1f} min wall")
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
