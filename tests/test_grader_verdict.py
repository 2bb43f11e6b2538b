"""One test per verdict kind of grader.verdict.judge, on hand-written transcripts."""
from pathlib import Path

import pytest

from grader import verdict as v
from grader.labconfig import Checkpoint

T = Path(__file__).parent / "transcripts"


def cp(ktests=("pfn.totals", "pfn.zeroed"), name="pfn_totals", lab=1, **kw):
    return Checkpoint(lab=lab, name=name, title="Totals", points=10, ktests=tuple(ktests), **kw)


def stop_cp(ktests=("pfn.double_free",), code=0x4E):
    return cp(ktests, name="double_free", expect="stop", stop_code=code)


def judge(name, status, checkpoint, timed_out=False, flooded=False, sol="all", seed=1234, **kw):
    data = (T / name).read_bytes() if isinstance(name, str) else name
    r = v.judge(data, status, timed_out, flooded, checkpoint, sol=sol, seed=seed, timeout=10, **kw)
    assert "\n" not in r.summary
    if not r.passed:
        assert f"make grade SOL={sol} LAB={checkpoint.lab} CHECKPOINT={checkpoint.name} SEED={seed}" in r.details
        assert f"make qemu SOL={sol} KTEST={','.join(checkpoint.ktests)} SEED={seed}" in r.details
        assert "expected" in r.details and r.kind in r.details
    return r


def test_passed():
    r = judge("pass.txt", 33, cp())
    assert r.kind == v.PASSED and r.passed


def test_passed_expected_stop():
    r = judge("expected_stop.txt", 37, stop_cp())
    assert r.kind == v.PASSED and r.passed


def test_not_implemented():
    r = judge("not_implemented.txt", 35, cp(["rtl.stack_chain"], name="stack_chain", lab=0))
    assert r.kind == v.NOT_IMPLEMENTED and not r.passed
    assert "not implemented: RtlpWalkFrameChain returned STATUS_NOT_IMPLEMENTED (lab 00 stub)" in r.summary
    assert "LAB=0 " in r.details


def test_failed_check():
    r = judge("failed_check.txt", 35, cp())
    assert r.kind == v.FAILED_CHECK
    assert "KTEST CHECK pfn.totals every_frame_once FAIL frame 0x1234 is on 2 lists (free, zeroed)" in r.details
    assert "KTEST CHECK pfn.totals totals_conserved FAIL free 100 + zeroed 20 != usable 119" in r.details
    assert "mm: walking the zeroed list" in r.details     # context before
    assert "mm: done" in r.details                        # context after
    assert "every_frame_once" in r.summary


def test_unexpected_stop():
    r = judge("unexpected_stop.txt", 37, cp())
    assert r.kind == v.UNEXPECTED_STOP
    assert "0x0000004E" in r.summary and "PFN_LIST_CORRUPT" in r.summary and "pfn.zeroed" in r.summary
    for line in ("BT 0 0xffffffff80102345 KeBugCheckEx+0x4a", "BT 1 0xffffffff80103456 MiFreePfn+0x1c",
                 "BT 2 0xffffffff80104567 ?", "BT END", "0x0000000000001234"):
        assert line in r.details


def test_unexpected_stop_nested():
    r = judge("nested_stop.txt", 37, cp(["rtl.symbols"]))
    assert r.kind == v.UNEXPECTED_STOP
    assert "*** STOP during bugcheck: trap at RIP" in r.details


def test_wrong_stop_code():
    r = judge("expected_stop.txt", 37, stop_cp(code=0x4F))
    assert r.kind == v.WRONG_STOP
    assert "expected STOP 0x0000004F" in r.details and "seen STOP 0x0000004E (PFN_LIST_CORRUPT)" in r.details


def test_wrong_stop_params_and_backtrace():
    r = judge("wrong_stop_params.txt", 37, stop_cp())
    assert r.kind == v.WRONG_STOP
    assert "parameter 2: expected 0x0000000000001234" in r.details and "seen 0x0000000000005678" in r.details
    assert "KeBugCheckEx -> MiInsertPageInList -> MmFreePage" in r.details
    assert "seen KeBugCheckEx, MmFreePage, MiInsertPageInList" in r.details


def test_expected_stop_without_walker_is_not_implemented():
    r = judge("bt_unavailable.txt", 37, stop_cp(["ke.bugcheck_line"], code=0xE2))
    assert r.kind == v.NOT_IMPLEMENTED
    assert r.summary.endswith("not implemented: RtlpWalkFrameChain is not implemented (lab 00 stub)")
    assert "BT UNAVAILABLE RtlpWalkFrameChain is not implemented (lab 00 stub)" in r.details


def test_wrong_stop_backtrace_unavailable():
    data = (T / "bt_unavailable.txt").read_bytes().replace(b"is not implemented (lab 00 stub)",
                                                           b"failed with status 0xC0000001")
    r = judge(data, 37, stop_cp(["ke.bugcheck_line"], code=0xE2))
    assert r.kind == v.WRONG_STOP
    assert "BT UNAVAILABLE RtlpWalkFrameChain failed with status 0xC0000001" in r.details


def test_wrong_stop_outside_the_test():
    data = b"NTLAB BOOT 0.1 all\n*** STOP 0x0000004E (PFN_LIST_CORRUPT) 0x1 0x2 0x3 0x4\nBT END\n"
    r = judge(data, 37, stop_cp())
    assert r.kind == v.WRONG_STOP and "before any ktest began" in r.details


def test_expected_stop_missing():
    r = judge("stop_missing.txt", 35, stop_cp())
    assert r.kind == v.STOP_MISSING
    assert "KTEST CHECK pfn.double_free second_free FAIL MmFreePage returned twice without a bugcheck" in r.details
    assert "ended FAIL" in r.summary


def test_triple_fault():
    r = judge("triple_fault.txt", 0, cp(["mm.map_large"]))
    assert r.kind == v.TRIPLE_FAULT
    assert "mm.map_large" in r.summary
    assert "mm: loading CR3" in r.details and "triple fault" in r.details


def test_timeout(monkeypatch):
    monkeypatch.setenv("NTLAB_TIMEOUT_SCALE", "1.5")
    r = judge("timeout.txt", -9, cp(["ke.dpc_order"]), timed_out=True)
    assert r.kind == v.TIMEOUT
    assert "10s" in r.summary and "ke.dpc_order" in r.summary
    assert "ke: lowering IRQL to PASSIVE" in r.details and "NTLAB_TIMEOUT_SCALE=3" in r.details


def test_timeout_shows_only_last_15_lines():
    data = "NTLAB BOOT 1 none\nKTEST BEGIN t\n" + "".join(f"line {i}\n" for i in range(100))
    r = judge(data.encode(), -9, cp(["t"]), timed_out=True)
    assert "line 99" in r.details and "line 85" in r.details and "line 84" not in r.details


def test_serial_flood():
    data = b"NTLAB BOOT 1 none\nKTEST BEGIN t\n" + b"spam\n" * 1000
    r = judge(data, -9, cp(["t"]), flooded=True)
    assert r.kind == v.SERIAL_FLOOD and "t" in r.summary and "spam" in r.details


def test_no_boot():
    r = judge("no_boot.txt", -9, cp(), timed_out=True)
    assert r.kind == v.NO_BOOT
    assert "NTLAB BOOT" in r.summary
    assert "error: file `/boot/ntlab.elf' not found." in r.details


def test_qemu_error():
    r = judge(b"", 1, cp(), stderr="qemu-system-x86_64: -drive file=x: Could not open 'x'",
              command=["qemu-system-x86_64", "-m", "64M"])
    assert r.kind == v.QEMU_ERROR and "Could not open" in r.summary and "Could not open" in r.details


def test_qemu_missing_verdict():
    r = v.qemu_error_verdict("qemu-system-x86_64 is not installed; install it with: sudo apt-get install "
                             "qemu-system-x86", cp(), sol="none", seed=3)
    assert r.kind == v.QEMU_ERROR and "apt-get install qemu-system-x86" in r.details
    assert "make grade LAB=1 CHECKPOINT=pfn_totals SEED=3" in r.details     # SOL= omitted for none
    assert "make qemu KTEST=pfn.totals,pfn.zeroed SEED=3" in r.details


def test_build_error():
    log = "\n".join(["CC kernel/ke/init.c"] * 30 + [
        "labs/01-pfn/pfnlist.c:12:5: error: expected ';' before 'return'",
        "   12 |     return x", "      |     ^~~~~~"] + ["make: *** [Makefile:40: x.o] Error 1"] +
        [f"tail {i}" for i in range(40)])
    r = v.build_error_verdict(log, cp(), sol="", seed=5, message="make exited with status 2",
                              log_path="build/none/build.log")
    assert r.kind == v.BUILD_ERROR and not r.passed
    assert "expected ';' before 'return'" in r.summary
    assert "   12 |     return x" in r.details and "build/none/build.log" in r.details
    assert "CC kernel/ke/init.c" not in r.details and "tail 30" not in r.details
    assert "make grade LAB=1 CHECKPOINT=pfn_totals SEED=5" in r.details


def test_build_error_without_error_lines_shows_the_tail():
    log = "\n".join(f"line {i}" for i in range(50))
    r = v.build_error_verdict(log, cp(), sol="all", seed=5, message="make exited with status 2")
    assert "line 49" in r.details and "line 30" in r.details and "line 29" not in r.details


def test_test_missing():
    r = judge("test_missing.txt", 35, cp(["pfn.totalz"]))
    assert r.kind == v.TEST_MISSING
    assert "KTEST unknown test 'pfn.totalz'" in r.details and "pfn.totalz" in r.summary


@pytest.mark.parametrize("status", [35, 37])
def test_inconsistent_output(status):
    r = judge("pass.txt", status, cp())
    assert r.kind == v.INCONSISTENT
    assert f"exit status {status}" in r.summary


def test_inconsistent_done_count():
    data = b"NTLAB BOOT 1 all\nKTEST BEGIN a\nKTEST END a PASS\nKTEST DONE passed=0 failed=3\n"
    r = judge(data, 33, cp(["a"]))
    assert r.kind == v.INCONSISTENT and "failed=3" in r.details


def test_skip_is_not_a_pass():
    data = b"NTLAB BOOT 1 all\nKTEST BEGIN a\nKTEST END a SKIP\nKTEST DONE passed=0 failed=0\n"
    r = judge(data, 33, cp(["a"]))
    assert not r.passed and "skipped" in r.summary


def test_every_kind_is_named():
    assert len(set(v.KINDS)) == 15


def test_hang_names_every_thread_and_backtrace():
    r = judge("hang.txt", 39, cp(["ke.deadlock"], name="deadlock", lab=0))
    assert r.kind == v.HANG and not r.passed
    assert "ktest ke.deadlock hung" in r.summary and "2 waiting" in r.summary
    assert "HANG THREAD 3 deadlock_a state=Waiting wait=WrKernel" in r.details
    assert "HANG BT 3 0xffffffff8010b8fa KtDeadlockA+0x1a" in r.details
    assert "QEMU exited with status 39" in r.details


def test_unexpected_stop_lists_checks_that_failed_before():
    data = (b"NTLAB BOOT 1 all\nKTEST BEGIN a\nKTEST CHECK a finds_run FAIL no run of 4 pages\n"
            b"*** STOP 0x0000004E (PFN_LIST_CORRUPT) 0x1 0x2 0x3 0x4\nBT END\n")
    r = judge(data, 37, cp(["a"]))
    assert r.kind == v.UNEXPECTED_STOP and "KTEST CHECK a finds_run FAIL no run of 4 pages" in r.details


def test_stop_params_wildcards():
    base = (b"NTLAB BOOT 1 all\nKTEST BEGIN pfn.double_free\nKTEST VALUE pfn.double_free stop_params 0x99 %s * *\n"
            b"*** STOP 0x0000004E (PFN_LIST_CORRUPT) 0x99 0x1234 0xFFFF 0x1\nBT END\n")
    assert judge(base % b"0x1234", 37, stop_cp()).passed
    r = judge(base % b"0x1235", 37, stop_cp())
    assert r.kind == v.WRONG_STOP and "parameter 2: expected 0x0000000000001235" in r.details


# ---------------------------------------------------------------- host-side judging: stop_params, model

def test_host_stop_params_pass_and_mismatch():
    ok = stop_cp()
    good = judge("stop_host_params.txt", 37, Checkpoint(**{**ok.__dict__, "stop_params": (0x99, 0x5678, None, 0)}))
    assert good.passed
    bad = judge("stop_host_params.txt", 37,
                Checkpoint(**{**ok.__dict__, "stop_params": (0x99, 0x1234, (1 << 64) - 1, 0)}))
    assert bad.kind == v.WRONG_STOP and not bad.passed
    assert ("parameter 2: expected 0x0000000000001234 (stop_params of checkpoint double_free), "
            "seen 0x0000000000005678") in bad.details
    # signed where negative
    assert "parameter 3: expected 0xFFFFFFFFFFFFFFFF (-1) (stop_params of checkpoint double_free), " \
           "seen 0xFFFFFFFFFFFFFFF0 (-16)" in bad.details
    assert "with parameters 0x0000000000000099 0x0000000000001234 0xFFFFFFFFFFFFFFFF 0x0000000000000000" \
        in bad.details


def test_host_stop_params_announced_value():
    """"=pfn": the parameter equals the stopping test's one KTEST VALUE <test> pfn record; a
    missing, doubled or unreadable record is a mismatch, never a pass."""
    from grader.labconfig import StopParamRef
    text = (T / "stop_host_params.txt").read_text()
    want = Checkpoint(**{**stop_cp().__dict__, "stop_params": (0x99, StopParamRef("value", "pfn"), None, 0)})

    def with_records(*records):
        rec = "".join(f"KTEST VALUE pfn.double_free {r}\n" for r in records)
        return text.replace("KTEST VALUE pfn.double_free backtrace", rec + "KTEST VALUE pfn.double_free backtrace",
                            1).encode()
    assert judge(with_records("pfn 0x5678"), 37, want).passed
    r = judge(with_records("pfn 0x5679"), 37, want)
    assert r.kind == v.WRONG_STOP and ("parameter 2: expected 0x0000000000005679 (announced as KTEST VALUE "
                                       "pfn.double_free pfn; stop_params of checkpoint double_free), seen "
                                       "0x0000000000005678") in r.details
    r = judge(with_records(), 37, want)
    assert r.kind == v.WRONG_STOP and "announces as KTEST VALUE pfn.double_free pfn" in r.details \
        and "it printed 0 such records" in r.details
    r = judge(with_records("pfn 0x5678", "pfn 0x5678"), 37, want)
    assert r.kind == v.WRONG_STOP and "it printed 2 such records" in r.details
    r = judge(with_records("pfn frame"), 37, want)
    assert r.kind == v.WRONG_STOP and "cannot read the announced KTEST VALUE pfn.double_free pfn" in r.details
    assert "with parameters 0x0000000000000099 =pfn * 0x0000000000000000" in r.details


def test_host_stop_params_from_the_seed(monkeypatch):
    """"seed": the parameter is what the checkpoint's model computes from the seed (stop_params);
    a model that gives no number for it is a mismatch."""
    from grader.labconfig import StopParamRef

    class Model:
        @staticmethod
        def stop_params(checkpoint, seed):
            return (0x99, 0x5678 if seed == 5 else 0x1111, None, 0)

        @staticmethod
        def judge(checkpoint, seed, values):
            return []
    monkeypatch.setattr(v, "_load_model", lambda name, path=None: Model)
    seeded = StopParamRef("seed")
    want = Checkpoint(**{**stop_cp().__dict__, "stop_params": (0x99, seeded, seeded, 0), "model": "fake"})
    r = judge("stop_host_params.txt", 37, want, seed=5)                  # P3: the model gives None
    assert r.kind == v.WRONG_STOP and "parameter 3: the model fake gives no value for it from seed 5" in r.details
    want = Checkpoint(**{**want.__dict__, "stop_params": (0x99, seeded, None, 0)})
    assert judge("stop_host_params.txt", 37, want, seed=5).passed
    r = judge("stop_host_params.txt", 37, want, seed=6)
    assert r.kind == v.WRONG_STOP and ("parameter 2: expected 0x0000000000001111 (computed from seed 6 by the "
                                       "model fake; stop_params of checkpoint double_free), seen "
                                       "0x0000000000005678") in r.details


def test_host_stop_params_too_few():
    text = (T / "stop_host_params.txt").read_text().replace(
        " 0xFFFFFFFFFFFFFFF0 0x0000000000000000", "")
    r = judge(text.encode(), 37, Checkpoint(**{**stop_cp().__dict__, "stop_params": (0x99, None, None, 0)}))
    assert r.kind == v.WRONG_STOP and "the STOP line has only 2 parameters" in r.details


class _FakeModel:
    seen = None

    @staticmethod
    def judge(checkpoint, seed, values):
        _FakeModel.seen = (checkpoint, seed, values)
        depth = next(int(val) for test, key, val in values if key == "depth")
        return [] if depth == 2 else [f"walk order: expected depth 2, seen {depth}"]


def _model_cp():
    return cp(("rtl.stack_chain",), name="stack_chain", lab=0, model="fake")


def test_model_judges_values(monkeypatch):
    monkeypatch.setattr(v, "_load_model", lambda name, path=None: _FakeModel)
    r = judge("model_values.txt", 33, _model_cp(), seed=7)
    assert r.kind == v.FAILED_CHECK and not r.passed
    assert "model fake: walk order: expected depth 2, seen 3" in r.summary
    assert "grader/models/fake.py disagrees" in r.details
    assert "KTEST VALUE rtl.stack_chain frame 1 0xffffffff80102000 KtChainLevel" in r.details
    name, seed, values = _FakeModel.seen
    assert (name, seed) == ("stack_chain", 7)
    assert values == [("rtl.stack_chain", "depth", "3"),
                      ("rtl.stack_chain", "frame", "0 0xffffffff80101000 KtChainLevel"),
                      ("rtl.stack_chain", "frame", "1 0xffffffff80102000 KtChainLevel")]
    text = (T / "model_values.txt").read_text().replace("depth 3", "depth 2")
    assert judge(text.encode(), 33, _model_cp(), seed=7).passed


def test_model_that_raises_fails_the_checkpoint(monkeypatch):
    class Broken:
        @staticmethod
        def judge(checkpoint, seed, values):
            raise ValueError("bad record")
    monkeypatch.setattr(v, "_load_model", lambda name, path=None: Broken)
    r = judge("model_values.txt", 33, _model_cp())
    assert r.kind == v.FAILED_CHECK and "could not judge" in r.summary and "ValueError: bad record" in r.summary


def test_model_not_consulted_when_ktests_fail(monkeypatch):
    def boom(name, path=None):
        raise AssertionError("model must not run")
    monkeypatch.setattr(v, "_load_model", boom)
    r = judge("failed_check.txt", 35, cp(model="fake"))
    assert r.kind == v.FAILED_CHECK and "every_frame_once" in r.summary


def test_lab00_model_on_recorded_runs():
    """Real serial output of the reference (seed 1): grader/models/lab00.py agrees at seed 1 and
    names the clause, expected and seen values when judged against another seed."""
    bc = cp(("ke.bugcheck_deliberate",), name="bugcheck_stop", lab=0, expect="stop", stop_code=0xE2,
            stop_params=(None, None, None, None), model="lab00")
    assert judge("lab00_bugcheck_seed1.txt", 37, bc, seed=1).passed
    r = judge("lab00_bugcheck_seed1.txt", 37, bc, seed=2)
    assert r.kind == v.FAILED_CHECK
    assert "KeBugCheckEx parameters P1..P4 (seeded): expected 0x" in r.summary
    assert "announced 0x375cb8eda6359cfe" in r.details
    pf = cp(("ke.page_fault",), name="kernel_page_fault", lab=0, expect="stop", stop_code=0x50,
            stop_params=(None, None, None, None), model="lab00")
    assert judge("lab00_page_fault_seed1.txt", 37, pf, seed=1).passed
    r = judge("lab00_page_fault_seed1.txt", 37, pf, seed=3)
    assert r.kind == v.FAILED_CHECK and "P1 (address), P2 (access, 1 = write), P4 (error code)" in r.summary


def test_lab00_stack_chain_model_on_recorded_run():
    sc = cp(("rtl.stack_chain",), name="stack_chain", lab=0, model="lab00")
    assert judge("lab00_stack_chain_seed5.txt", 33, sc, seed=5).passed
    r = judge("lab00_stack_chain_seed5.txt", 33, sc, seed=6)
    assert r.kind == v.FAILED_CHECK and "the seeded call chain: expected depth" in r.summary
    # a walk that lost a frame in the middle: the model names the first frame that differs
    text = (T / "lab00_stack_chain_seed5.txt").read_text().splitlines()
    frames = [i for i, l in enumerate(text) if "rtl.stack_chain frame " in l]
    del text[frames[2]]
    renumbered, n = [], 0
    for l in text:
        if "rtl.stack_chain frame " in l:
            f = l.split()
            f[4] = str(n)
            n += 1
            l = " ".join(f)
        renumbered.append(l.replace("captured 17", "captured 16"))
    r = judge(("\n".join(renumbered) + "\n").encode(), 33, sc, seed=5)
    assert r.kind == v.FAILED_CHECK and "frame 2 expected" in r.summary


LAB01_MODEL = Path(__file__).parent.parent / "solutions" / "01-pfn" / "hidden" / "models" / "lab01.py"


@pytest.mark.skipif(not LAB01_MODEL.is_file(), reason="needs the instructor tree (solutions/)")
def test_lab01_layout_model_on_recorded_run():
    lay = cp(("pfn.layout",), name="database_layout", lab=1, model="lab01", hidden=True,
             model_path=str(LAB01_MODEL))
    assert judge("lab01_layout_seed3.txt", 33, lay, seed=3).passed
    text = (T / "lab01_layout_seed3.txt").read_text()
    r = judge(text.replace("usable 108 available 108", "usable 109 available 108").encode(), 33, lay, seed=3)
    assert r.kind == v.FAILED_CHECK
    assert "MmNumberOfPhysicalPages = the frames put on the free list" in r.summary and "(+1)" in r.summary
    r = judge(text.replace("status 0xC0000017", "status 0x00000000").encode(), 33, lay, seed=3)
    assert r.kind == v.FAILED_CHECK and "STATUS_NO_MEMORY if no usable run can hold the database" in r.summary
    r = judge(text.replace("highest 0x39b", "highest 0x39a").encode(), 33, lay, seed=3)
    assert "MmHighestPhysicalPage = the highest frame of any usable range: expected 0x39b, seen 0x39a" in r.summary
