"""Crash reports with source (issue 9): every backtrace frame as `function+0xNN (file.c:line)`
from the ELF's DWARF, P1..P4 decoded for the course's bugcheck codes, negative counters shown
signed, a missing backtrace that never hides a wrong STOP, and a build error reported once.
On recorded transcripts: addresses written `@Function+0xNN` are resolved against the kernel
ELF's symbol table at test time, so the transcripts hold across rebuilds."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from grader import bugcodes, policy, symbolize
from grader import verdict as v
from grader.labconfig import Checkpoint
from kernel_harness import PYTHON, ROOT, copy_tree, clean_env, has_solutions

T = Path(__file__).parent / "transcripts"


def cp(ktests, name="x", lab=3, **kw):
    return Checkpoint(lab=lab, name=name, title="t", points=10, ktests=tuple(ktests), **kw)


@pytest.fixture(scope="module")
def kernel_elf():
    from grader import build as b
    status = b.build("all" if has_solutions() else "none", ROOT)
    assert status.ok, status.log[-2000:]
    return status.elf


def resolve(name: str, elf: str) -> bytes:
    """The transcript with every @Function+0xNN replaced by its address in elf."""
    syms = {}
    for line in subprocess.run(["nm", elf], capture_output=True, text=True).stdout.splitlines():
        f = line.split()
        if len(f) == 3:
            syms[f[2]] = int(f[0], 16)
    text = (T / name).read_text()
    return re.sub(r"@(\w+)\+0x([0-9a-f]+)", lambda m: f"0x{syms[m.group(1)] + int(m.group(2), 16):016x}",
                  text).encode()


def test_every_frame_has_its_source_line(kernel_elf):
    data = resolve("pool_double_free_stop.txt", kernel_elf)
    r = v.judge(data, 37, False, False, cp(["pool.double_free"], name="storm"), sol="all", seed=5, elf=kernel_elf)
    assert r.kind == v.UNEXPECTED_STOP
    frames = [l for l in r.details.splitlines() if l.strip().startswith("BT ") and l.strip() != "BT END"]
    assert len(frames) == 8
    for line in frames:
        assert re.search(r"\w+\+0x[0-9a-f]+ \((kernel|labs|solutions)/[\w/.-]+\.(c|asm):\d+\)", line), line
    assert "ExpFreePool+0x34a (" in r.details and "/03-pool/pool.c:" in r.details
    assert "labs/03-pool/tests/pool_tests.c:" in r.details
    # The frame the kernel could not name is named from the ELF.
    assert "-> KtTestPoolDoubleFree+0x9a (labs/03-pool/tests/pool_tests.c:" in r.details
    assert "kernel/arch/x86_64/boot.asm:" in r.details
    assert ROOT not in r.details                                   # no host path
    # P1..P4 decoded.
    assert "P1 0x7 BAD_POOL_CALLER_DOUBLE_FREE" in r.details
    assert "P4 0xFFFFF8A000000060: the address freed" in r.details


def test_source_lines_are_exact(tmp_path):
    """Against a small program whose call lines are known."""
    src = tmp_path / "prog.c"
    src.write_text("int leaf(int x) { return x * 3; }\n"
                   "int middle(int x)\n{\n    int y = leaf(x);\n    return y + 1;\n}\n"
                   "int main(void) { return middle(2); }\n")
    elf = tmp_path / "prog"
    subprocess.run(["gcc", "-g", "-O0", "-no-pie", "-o", str(elf), str(src)], check=True)
    dis = subprocess.run(["objdump", "-d", str(elf)], capture_output=True, text=True).stdout
    body = dis.split("<middle>:")[1].split("\n\n")[0].splitlines()
    call = next(i for i, l in enumerate(body) if "call" in l and "<leaf>" in l)
    ret = int(body[call + 1].split(":")[0], 16)
    sym = symbolize.for_elf(str(elf))
    loc = sym.locate(ret, return_address=True)
    assert (loc.function, loc.line) == ("middle", 4) and loc.file.endswith("prog.c")
    assert str(loc).startswith("middle+0x") and str(loc).endswith("prog.c:4)")
    start = int(dis.split("<leaf>:")[0].splitlines()[-1].split()[0], 16)
    assert sym.locate(start).line == 1 and sym.locate(start).offset == 0


def test_page_fault_decoded_with_the_faulting_line(kernel_elf):
    data = resolve("page_fault_stop.txt", kernel_elf)
    r = v.judge(data, 37, False, False, cp(["paging.translate"], lab=2), sol="0-1", seed=9, elf=kernel_elf)
    assert "P1 0xFFFFF8A000123000: the address referenced (CR2)" in r.details
    assert "P2 1: a write" in r.details
    assert re.search(r"P3 0x[0-9A-F]{16} = MmMapPage\+0x40 \([\w/-]+/map\.c:\d+\): the faulting instruction", r.details)
    assert "P4 0x2: the page-fault error code (write); not present" in r.details
    # Frame 0 of a trap is the faulting instruction itself, not a return address.
    assert re.search(r"BT 0 0x[0-9a-f]+ MmMapPage\+0x40 \(", r.details)


def test_pfn_list_corrupt_decoded():
    r = v.judge((T / "unexpected_stop.txt").read_bytes(), 37, False, False, cp(["pfn.zeroed"], lab=1))
    assert "P1 0x99 PFN_LIST_CORRUPT_PFN_CORRUPT" in r.details
    assert "P2 0x1234: the page frame number (physical address 0x1234000)" in r.details
    assert "P3 0 (ZeroedPageList): its PageLocation" in r.details


@pytest.mark.parametrize("code, params, want", [
    (0xC2, [8, 2, 1, 64], ["P1 0x8 BAD_POOL_CALLER_ALLOCATE_IRQL", "P2 IRQL 2 (DISPATCH_LEVEL)", "P3 1 (PagedPool)"]),
    (0xC2, [9, 2, 1, 0x10], ["P1 0x9 BAD_POOL_CALLER_FREE_IRQL", "P4 0x0000000000000010: the address freed"]),
    (0xC2, [0xA, 0x10, 0x6C6F6F50, 0x41414141], ["BAD_POOL_CALLER_WRONG_TAG", "('Pool')", "('AAAA')"]),
    (0x19, [0x20, 0x100, 0x200, 0], ["P1 0x20 BAD_POOL_HEADER_SIZE_CORRUPT", "P3 0x0000000000000200"]),
    (0x4E, [0x99, 0x5000, 2**64 - 1, 2**64 - 1], ["P3 ~0: the frame is above MmHighestPhysicalPage"]),
    (0x1E, [0xC0000094, 0x10, 0, 0], ["P1 0xC0000094 (STATUS_INTEGER_DIVIDE_BY_ZERO)"]),
    (0x7F, [8, 0, 0x10, 0], ["P1 8 (#DF double fault)"]),
    (0x0A, [2, 15, 0, 0], ["KeLowerIrql to a higher IRQL", "P2 IRQL 15 (HIGH_LEVEL)"]),
    (0x32, [0xC0000017, 0, 0, 0], ["STATUS_NO_MEMORY"]),
    (0xC2, [0x55, 0, 0, 0], ["not a BAD_POOL_CALLER subcode"]),
])
def test_every_course_bugcheck_is_decoded(code, params, want):
    text = "\n".join(bugcodes.decode(code, params))
    for w in want:
        assert w in text, text


def test_every_code_in_bugcodes_h_has_a_decoder():
    for name, (value, _c) in bugcodes.constants().items():
        if name.startswith("STATUS_") or "_" not in name or int(value, 16) > 0xFF:
            continue
        code = int(value, 16)
        if any(name.startswith(p) for p in ("BAD_POOL_CALLER_", "BAD_POOL_HEADER_", "PFN_LIST_CORRUPT_", "EXCEPTION_")):
            continue
        assert bugcodes.decode(code, [0, 0, 0, 0]), name


def test_negative_counter_is_shown_signed():
    r = v.judge((T / "negative_counter.txt").read_bytes(), 35, False, False, cp(["pfn.alloc_free"], lab=1))
    assert r.kind == v.FAILED_CHECK
    assert "MmAvailablePages is 18446744073709550977 (= -639), expected 14940" in r.details
    assert "(= -639)" in r.summary


def test_missing_backtrace_does_not_hide_a_wrong_stop():
    r = v.judge((T / "wrong_params_no_walker.txt").read_bytes(), 37, False, False,
                cp(["pool.double_free"], expect="stop", stop_code=0xC2))
    assert r.kind == v.WRONG_STOP, r.text
    assert "parameter 1: expected 0x0000000000000007" in r.summary
    assert "P1 0x9 BAD_POOL_CALLER_FREE_IRQL" in r.details
    assert "SOL=0" in r.details                     # how to see the backtrace meanwhile


def test_build_error_verdict_brief_and_once():
    log = "  CC  labs/00-bugcheck/symbols.c\nlabs/00-bugcheck/symbols.c:12:5: error: expected ';' before '}'\n"
    r = v.build_error_verdict(log, cp(["rtl.symbols"], lab=0), brief=True)
    assert r.kind == v.BUILD_ERROR and "not built" in r.summary and "symbols.c" not in r.summary
    assert "first error: labs/00-bugcheck/symbols.c:12:5: error: expected ';' before '}'" in r.details
    assert "first errors of the build log" not in r.details
    # grader submit: the full error once in the overall output, each checkpoint "not built".
    full = v.build_error_verdict(log, cp(["rtl.symbols"], lab=0))
    data = {"output": "table", "tests": [{"name": f"00.c{i}", "output": full.details} for i in range(9)]}
    policy._build_error_once(data)
    assert data["output"].count("error: expected ';'") == 1
    assert all(t["output"].startswith("verdict: build error\nnot built") for t in data["tests"])


@pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None, reason="needs the build tools")
def test_make_grade_reports_a_build_error_once(tmp_path):
    # with build/none's objects: only the broken file is compiled (not the whole kernel again)
    assert subprocess.run(["make", "--no-print-directory", "SOL=none", "images"], cwd=ROOT, env=clean_env(),
                          capture_output=True, timeout=600).returncode == 0
    tree = Path(copy_tree(str(tmp_path / "t"), with_build="none"))
    f = tree / "labs" / "00-bugcheck" / "symbols.c"
    f.write_text(f.read_text() + "\nint broken(void) { return 0 }\n")
    p = subprocess.run(["make", "--no-print-directory", "grade", "LAB=0"], cwd=tree, env=clean_env(),
                       capture_output=True, text=True, timeout=300)
    out = p.stdout + p.stderr
    assert p.returncode != 0
    error = re.compile(r"symbols\.c:\d+:\d+: error: ")
    assert len(error.findall(out)) == 1, out[-4000:]
    n = len([l for l in (tree / "labs/00-bugcheck/lab.toml").read_text().splitlines() if l == "[[checkpoint]]"])
    assert out.count("build error: not built") >= n, out[-4000:]
    data = json.loads((tree / "build" / "results.json").read_text())
    assert len(error.findall(data["output"])) == 1


def test_wrong_subcode_is_named():
    r = v.judge((T / "wrong_params_no_walker.txt").read_bytes(), 37, False, False,
                cp(["pool.double_free"], expect="stop", stop_code=0xC2))
    assert ("parameter 1: expected 0x0000000000000007 (BAD_POOL_CALLER_DOUBLE_FREE) (announced by KTEST VALUE "
            "pool.double_free stop_params), seen 0x0000000000000009 (BAD_POOL_CALLER_FREE_IRQL)") in r.details
