"""Boot smoke tests: the real kernel, built by the Makefile, boots through GRUB in
QEMU, speaks the serial protocol and ends the run itself. The QEMU command comes from
grader/qemu.py, as for the grader."""
import os
import subprocess

import pytest

from grader import qemu as q
from kernel_harness import PYTHON, ROOT, clean_env, grade, has_solutions, make

pytestmark = pytest.mark.skipif(not has_solutions(), reason="needs the instructor tree (solutions/)")


@pytest.fixture(scope="module")
def iso():
    proc = make(ROOT, "SOL=all", "iso")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    path = os.path.join(ROOT, "build", "all", "ntlab.iso")
    assert os.path.exists(path)
    return path


def boot(iso, cmdline):
    opts = dict(p.split("=", 1) for p in cmdline.split())
    cmd = q.qemu_command(iso, opts.get("ktest", ""), opts.get("seed", "1"))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)


def test_boots_and_lists_tests(iso):
    p = boot(iso, "ktest=list")
    lines = p.stdout.splitlines()
    assert lines[0].startswith("NTLAB BOOT "), p.stdout
    assert lines[0].split()[3] == "all"
    assert "rtl.stack_chain" in p.stdout and "pfn.double_free(bugchecks)" in p.stdout
    assert "KTEST DONE passed=0 failed=0" in p.stdout
    assert p.returncode == 33  # isa-debug-exit: all passed


def test_unknown_test_fails_the_run(iso):
    p = boot(iso, "ktest=no.such_test seed=1")
    assert "KTEST unknown test 'no.such_test'" in p.stdout
    assert "KTEST DONE passed=0 failed=1" in p.stdout
    assert p.returncode == 35


def test_all_tests_pass_and_seed_is_used(iso):
    a = boot(iso, "ktest=all seed=11")
    b = boot(iso, "ktest=all seed=11")
    c = boot(iso, "ktest=all seed=12")
    assert a.returncode == 33, a.stdout[-2000:]
    assert "ktest: seed 11" in a.stdout
    assert a.stdout == b.stdout                # same seed, same transcript (timings included)
    assert a.stdout != c.stdout                # the seed changes what the tests do


def test_bugcheck_ends_run_with_stop_and_backtrace(iso):
    p = boot(iso, "ktest=ke.page_fault seed=3")
    assert p.returncode == 37
    stop = [l for l in p.stdout.splitlines() if l.startswith("*** STOP")]
    assert len(stop) == 1 and "(PAGE_FAULT_IN_NONPAGED_AREA)" in stop[0]
    assert "BT 0 " in p.stdout and "KtFaultTouch+" in p.stdout and "BT END" in p.stdout


def test_stub_tree_boots_degraded(tmp_path):
    """With every lab stubbed, the kernel still boots and runs tests to the end."""
    proc = make(ROOT, "SOL=none", "iso")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    p = boot(os.path.join(ROOT, "build", "none", "ntlab.iso"), "ktest=all seed=1")
    assert "MiInitializePfnDatabase is not implemented (lab 01 stub)" in p.stdout
    assert "KTEST DONE" in p.stdout and p.returncode == 35


def test_make_qemu_runs_one_test():
    p = subprocess.run(["make", "--no-print-directory", "qemu", "SOL=all", "KTEST=rtl.sym_lookup", "SEED=4"],
                       cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert "KTEST END rtl.sym_lookup PASS" in p.stdout, p.stdout + p.stderr
    assert p.returncode == 0, p.stdout + p.stderr


def test_results_json_is_gradescope_shaped(tmp_path):
    data, proc = grade(ROOT, "all", lab=0, results=str(tmp_path / "results.json"))
    assert data["score"] == sum(t["max_score"] for t in data["tests"]), proc.stdout[-3000:]
    assert isinstance(data["execution_time"], (int, float))
    numbers = [t["number"] for t in data["tests"]]
    assert numbers == sorted(numbers) and numbers[0] == "00.1"
    for t in data["tests"]:
        assert set(t) >= {"name", "number", "score", "max_score", "status", "output", "visibility"}
        assert t["status"] == "passed"
    hidden = [t for t in data["tests"] if t["visibility"] == "after_published"]
    assert hidden, "the instructor tree has hidden checkpoints"


def test_build_error_is_reported_per_checkpoint(tmp_path):
    from kernel_harness import copy_tree
    # with build/none's objects: only the broken file is compiled (not the whole kernel again)
    assert make(ROOT, "SOL=none", "images").returncode == 0
    root = copy_tree(str(tmp_path / "tree"), with_build="none")
    with open(os.path.join(root, "labs", "01-pfn", "pfndb.c"), "a") as f:
        f.write("\nint this_is_not_c(void) { return undeclared_identifier; }\n")
    data, proc = grade(root, "none", lab=1)
    assert data["score"] == 0
    for t in data["tests"]:
        assert t["status"] == "failed"
        assert "build error" in t["output"] and "undeclared_identifier" in t["output"], t["output"]


def test_bad_selection_is_a_clear_error():
    p = subprocess.run(["make", "--no-print-directory", "SOL=17-19"], cwd=ROOT, env=clean_env(),
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert "there is no lab 17" in (p.stdout + p.stderr)
    p = subprocess.run([PYTHON, "-m", "grader.selection", "dir", "banana"], cwd=ROOT, capture_output=True,
                       text=True)
    assert p.returncode == 2 and "cannot read" in p.stderr


def test_memory_is_poisoned(iso):
    """Every checkpoint runs on dirty memory (kernel/mm/poison.c): at the first test every
    frame on the free list carries the seeded pattern, the zeroed list reads as zeros."""
    import re
    p = boot(iso, "ktest=mm.poisoned seed=9")
    m = re.search(r"KTEST VALUE mm.poisoned free_poisoned_at_start (\d+) of (\d+)", p.stdout)
    assert m and int(m.group(2)) > 1000 and m.group(1) == m.group(2), p.stdout
    assert "KTEST END mm.poisoned PASS" in p.stdout and p.returncode == 33, p.stdout
