"""The concurrency foundation, booted for real through the grader (grader/runner.py and
grader/qemu.py): the framework ktests (not graded) pass, a deadlock ends in the "hang"
verdict naming every thread with its backtrace well before the timeout, a stack overflow
bugchecks naming the thread's guard page, and runs are deterministic: the same seed gives
a byte-identical transcript, also with two boots at once."""
import concurrent.futures
import os
import subprocess

import pytest

from grader import build, qemu as q, runner, verdict as v
from grader.labconfig import Checkpoint
from kernel_harness import ROOT, has_solutions, make

pytestmark = pytest.mark.skipif(not has_solutions(), reason="needs the instructor tree (solutions/)")


@pytest.fixture(scope="module")
def status():
    proc = make(ROOT, "SOL=all", "iso")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    st = build.wait_for_build("all", ROOT)
    assert st.ok, st.message
    return st


def framework_cp(ktests, name, **kw):
    return Checkpoint(lab=0, name=name, title=name, points=1, ktests=tuple(ktests), **kw)


@pytest.mark.parametrize("ktest", ["ke.clock_rate", "ke.thread_pingpong", "ke.preempt", "ke.pool_threads"])
def test_framework_ktests_pass(status, ktest):
    verdict, run = runner.run_checkpoint(framework_cp([ktest], ktest), sol="all", seed=7, root=ROOT, status=status)
    assert verdict.passed, verdict.text


def test_deadlock_is_a_hang_verdict_with_every_thread(status):
    cp = framework_cp(["ke.deadlock"], "deadlock", timeout=20)
    verdict, run = runner.run_checkpoint(cp, sol="all", seed=3, root=ROOT, status=status)
    assert verdict.kind == v.HANG, verdict.text
    assert run.exit_status == q.EXIT_HANG and not run.timed_out
    assert run.elapsed < cp.timeout / 4, f"the hang took {run.elapsed:.1f}s of a {cp.timeout}s timeout"
    text = verdict.text
    for thread, routine in (("deadlock_a", "KtDeadlockA"), ("deadlock_b", "KtDeadlockB")):
        assert f"{thread} state=Waiting wait=WrKernel" in text, text
        assert routine + "+0x" in text, text
    assert "KeWaitForGate+0x" in text and "initial state=Waiting" in text and "KtTestDeadlock+0x" in text
    assert "make grade SOL=all LAB=0 CHECKPOINT=deadlock SEED=3" in text      # re-run commands
    assert "make qemu SOL=all KTEST=ke.deadlock SEED=3" in text


def test_stack_overflow_names_the_guard_page(status):
    cp = framework_cp(["ke.stack_overflow"], "overflow", expect="stop", stop_code=0x7F)
    verdict, run = runner.run_checkpoint(cp, sol="all", seed=3, root=ROOT, status=status)
    assert verdict.passed, verdict.text
    out = run.output.decode()
    assert "is the guard page of thread" in out and "(overflow)" in out, out[-2000:]
    assert "BT 0 " in out and "KtRecurse+0x" in out


def _boot(iso, ktests, seed):
    cmd = q.qemu_command(iso, ktests, seed)
    return subprocess.run(cmd, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)


DETERMINISM_TESTS = "ke.preempt,ke.thread_pingpong,ke.clock_rate,pool.bench,pfn.totals,paging.storm,pool.tags"


def test_same_seed_gives_byte_identical_transcripts(status):
    """Interrupts, preemption points and HPET readings (pool.bench prints timings, ke.preempt
    counts where preemption fell) repeat exactly: one after the other and two at once."""
    if q.kvm_enabled() or os.environ.get("NTLAB_ICOUNT", "").strip() in ("0", "off", "no"):
        pytest.skip("determinism needs instruction counting (software emulation)")
    first = _boot(status.iso, DETERMINISM_TESTS, 41)
    assert first.returncode == q.EXIT_ALL_PASSED, first.stdout.decode()[-3000:]
    assert b"KTEST VALUE pool.bench" in first.stdout and b"KTEST VALUE ke.preempt switches" in first.stdout
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        pair = list(pool.map(lambda _: _boot(status.iso, DETERMINISM_TESTS, 41), range(2)))
    for other in [_boot(status.iso, DETERMINISM_TESTS, 41)] + pair:
        assert other.stdout == first.stdout, "same tree and seed, different transcript"
    assert _boot(status.iso, DETERMINISM_TESTS, 42).stdout != first.stdout


def test_records_of_many_threads_stay_whole_and_authentic(status):
    """Three threads write records at once with preemption on: every line parses, none is
    lost, and the authenticated END tag (checked by the grader) covers them all."""
    verdict, run = runner.run_checkpoint(framework_cp(["ke.records_threads"], "records"), sol="all", seed=5,
                                         root=ROOT, status=status)
    assert verdict.passed, verdict.text
    from grader.transcript import parse
    t = parse(run.output)
    assert not t.malformed, [t.lines[i] for i in t.malformed]
    each = int(t.test("ke.records_threads").values["records_each"])
    lines = [l for l in t.lines if l.startswith("KTEST VALUE ke.records_threads record writer ")]
    assert len(lines) == 3 * each
    assert all(l.endswith("were it not written under the record lock") for l in lines)
    assert {l.split()[5] for l in lines} == {"0", "1", "2"}


def test_stub_without_status_is_not_implemented(status):
    """A stub returning BOOLEAN calls KeNotImplemented: the verdict is "not implemented",
    naming the function and the lab, reported once though called twice (once from a thread)."""
    verdict, run = runner.run_checkpoint(framework_cp(["ke.stub_not_implemented"], "stub"), sol="all", seed=2,
                                         root=ROOT, status=status)
    assert verdict.kind == v.NOT_IMPLEMENTED, verdict.text
    assert "KtFakeBooleanStub is not implemented (lab 04 stub)" in verdict.summary
    out = run.output.decode()
    assert out.count(" implemented FAIL ") == 1 and "reported_once ok" in out
