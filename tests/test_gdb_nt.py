"""The `nt` debugger commands (tools/gdb) and post-mortem STOPs (NTLAB_ON_STOP).

The reference kernel is booted by the grader's QEMU command with a gdbstub on a Unix socket of its own
and stopped (hbreak) in the framework ktest gdb.snapshot (kernel/ktest/gdb_tests.c), which
prints what the kernel itself sees in KTEST VALUE records; GDB in batch mode runs every nt
command there, and the outputs are compared with those records. In phase 2 the test has
corrupted a pool header and a PFN entry: the commands must say so, never a traceback.
A dump (NTLAB_ON_STOP=dump) is opened with `make debug-dump`; the grader's report names it.
"""
from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from kernel_harness import PYTHON, ROOT, SEED, clean_env, has_solutions, make

pytestmark = [pytest.mark.skipif(not has_solutions(), reason="needs the instructor tree (solutions/)"),
              pytest.mark.skipif(shutil.which("gdb") is None, reason="needs gdb (apt-get install gdb)")]

NTLAB_PY = os.path.join(ROOT, "tools", "gdb", "ntlab.py")
BAD_OUTPUT = ("Traceback", "Python Exception", "internal error", "Error occurred in Python")
COMMANDS = {"help", "pte", "vtop", "pfn", "pool", "poolused", "stack", "bugcheck", "attach", "irql", "dpcs", "timers"}


def _iso(sol: str) -> str:
    proc = make(ROOT, f"SOL={sol}", "iso")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return os.path.join(ROOT, "build", sol)


@pytest.fixture(scope="module")
def reference():
    return _iso("all")


@pytest.fixture(scope="module")
def stubs():
    return _iso("none")


def gdbstub(tmp: str) -> tuple[list[str], str]:
    """QEMU arguments for a gdbstub on a Unix socket private to the test (no port to race for,
    no chance of reaching another QEMU), and GDB's target command."""
    path = os.path.join(tmp, "gdb.sock")
    return (["-chardev", f"socket,id=g,path={path},server=on,wait=off", "-gdb", "chardev:g", "-S"],
            f"target remote {path}")


def gdb_batch(elf: str, commands: list[str], *, target: str, stdin: str | None = None,
              timeout: float = 60) -> str:
    argv = ["gdb", "-q", "-batch", "-nx", "-iex", "set auto-load local-gdbinit off", elf, "-x", NTLAB_PY,
            "-ex", "set architecture i386:x86-64", "-ex", target]
    for c in commands:
        argv += ["-ex", c]
    p = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=clean_env())
    return p.stdout + p.stderr


def _wait_for(path: str, qemu: subprocess.Popen, limit: float = 30) -> None:
    """Until QEMU has created its gdb socket (it does so before it runs anything)."""
    deadline = time.monotonic() + limit
    while not os.path.exists(path):
        assert qemu.poll() is None, f"QEMU exited with status {qemu.returncode} before opening {path}"
        assert time.monotonic() < deadline, f"QEMU did not open {path} within {limit}s"
        time.sleep(0.02)


def sections(text: str) -> dict[str, str]:
    """Splits GDB output at the '@@name' markers the tests echo."""
    out, name = {}, None
    for line in text.splitlines():
        m = re.match(r"^@@(\S+)$", line.strip())
        if m:
            name = m.group(1)
            out[name] = ""
        elif name:
            out[name] += line + "\n"
    return out


def run_snapshot(build: str, seed, commands: list[tuple[str, str]], ktest: str = "gdb.snapshot",
                 first_stop: int = 2) -> tuple[dict, dict, str]:
    """Boots ktest (gdb.snapshot, or gdb.dpc for lab 04) stopped for GDB at its first_stop-th
    call of KtGdbSnapshotPoint; runs (marker, command) pairs, where a command 'continue'
    moves to the next stop point. Returns (sections, KTEST VALUEs, serial)."""
    import sys
    sys.path.insert(0, ROOT)
    from grader import qemu as q
    iso, elf = os.path.join(build, "ntlab.iso"), os.path.join(build, "ntlab.elf")
    with tempfile.TemporaryDirectory() as tmp:
        serial = os.path.join(tmp, "serial.txt")
        stub, target = gdbstub(tmp)
        cmd = q.qemu_command(iso, ktest, seed) + stub
        with open(serial, "wb") as f:
            qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
        _wait_for(os.path.join(tmp, "gdb.sock"), qemu)
        try:
            gcmds = ["hbreak KtGdbSnapshotPoint"] + ["continue"] * first_stop
            for marker, c in commands:
                gcmds += [f"echo @@{marker}\\n", c]
            gcmds += ["delete", "continue"]
            text = gdb_batch(elf, gcmds, target=target)
            qemu.wait(timeout=30)
        finally:
            if qemu.poll() is None:
                os.killpg(qemu.pid, 9)
                qemu.wait()
        with open(serial, encoding="utf-8", errors="replace") as f:
            serial_text = f.read()
    values = {}
    for line in serial_text.splitlines():
        m = re.match(rf"^KTEST VALUE {re.escape(ktest)} (\S+) ?(.*)$", line.strip())
        if m:
            values.setdefault(m.group(1), []).append(m.group(2))
    return sections(text), values, text + "\n--- serial ---\n" + serial_text


def _no_traceback(text: str) -> None:
    for bad in BAD_OUTPUT:
        assert bad not in text, text


@pytest.mark.parametrize("seed", [SEED, "7"])
def test_nt_commands_match_the_kernel(reference, seed):
    s, v, text = run_snapshot(reference, seed, [
        ("help", "nt help"), ("gdbhelp", "help nt"),
        ("pte", "nt pte KtGdbSnapshot.Va"), ("vtop", "nt vtop KtGdbSnapshot.Va"),
        ("pte_kernel", "nt pte KtGdbSnapshot.KernelVa"),
        ("pfn_mapped", "nt pfn KtGdbSnapshot.MappedPfn"), ("pfn_free", "nt pfn KtGdbSnapshot.FreePfn"),
        ("pool", "nt pool KtGdbSnapshot.Block"), ("big", "nt pool KtGdbSnapshot.Big"),
        ("poolused", "nt poolused"), ("stack", "nt stack"), ("bugcheck", "nt bugcheck"),
        ("next", "continue"),
        ("pool_corrupt", "nt pool KtGdbSnapshot.Block"), ("pfn_corrupt", "nt pfn KtGdbSnapshot.FreePfn"),
    ])
    _no_traceback(text)
    assert "KTEST END gdb.snapshot PASS" in text, text

    # nt help lists every command GDB knows under the prefix, and nothing else.
    listed = set(re.findall(r"^\s+nt (\w+)", s["help"], re.M))
    known = set(re.findall(r"^nt (\w+) --", s["gdbhelp"], re.M))
    assert listed == known and COMMANDS <= listed, (listed, known)

    # nt pte: every level's entry as the kernel's own walk (MiInspectTranslation) saw it.
    for key, sec in (("pte", "pte"), ("pte_kernel", "pte_kernel")):
        f = v[key][0].split()
        level = int(f[2].split("=")[1])
        entries = [int(x, 16) for x in f[5:5 + 4 - level + 1]]
        seen = [int(x, 16) for x in re.findall(r"contains ([0-9a-f]{16})", s[sec])]
        assert seen == entries, (key, s[sec], v[key])
        leaf = re.findall(r"pfn [0-9a-f]+\s+(\S{11})", s[sec])[-1]
        assert leaf[-1] == "V" and leaf[-3] == ("R" if not entries[-1] & 2 else "W")
        assert leaf[-2] == ("-" if entries[-1] >> 63 else "E"), s[sec]
    phys = int(v["pte"][0].split()[3].split("=")[1], 16)
    assert f"translates to physical address {phys:x} " in s["vtop"], s["vtop"]

    # nt pfn: the MMPFN fields and the place on the free list.
    for key in ("pfn_mapped", "pfn_free"):
        f = dict(x.split("=") for x in v[key][0].split()[1:])
        sec = s[key]
        assert f"PFN {int(v[key][0].split()[0], 16):08x}" in sec, sec
        link = lambda x: "MM_EMPTY_LIST" if int(x, 16) == 2 ** 64 - 1 else f"{int(x, 16):x}"  # noqa: E731
        assert re.search(rf"flink\s+{link(f['flink'])}\s+blink\s+{link(f['blink'])}\s", sec), sec
        assert f"reference count {int(f['refcount']):04x}" in sec and f"PageLocation {f['location']} " in sec, sec
    listname, position, total = v["pfn_free_list"][0].split()
    assert f"entry {position} of {total} " in s["pfn_free"] and "FreePageList" in s["pfn_free"], s["pfn_free"]
    assert "ActiveAndValid" in s["pfn_mapped"]

    # nt pool: the page's blocks as the headers say, the block of the address marked.
    page = int(v["pool_page"][0], 16)
    block = int(v["block"][0], 16)
    rows = re.findall(r"^([ *])([0-9a-f]{16}) size:\s+([0-9a-f]+) previous size:\s+([0-9a-f]+)\s+\((\w+)\)\s+[ *](\S{4})",
                      s["pool"], re.M)
    want = []
    for b in v["pool_blocks"][0].split(","):
        off, units, prev, ptype, tag = (int(x, 16) for x in b.split(":"))
        tagtext = "".join(chr(c) if 0x20 <= c < 0x7F else "." for c in tag.to_bytes(4, "little"))
        mark = "*" if page + off <= block < page + off + units * 16 else " "
        want.append((mark, f"{page + off:016x}", f"{units * 16:x}", f"{prev * 16:x}",
                     "Free" if ptype == 0 else "Allocated", tagtext))
    assert rows == want, s["pool"] + "\n" + v["pool_blocks"][0]
    big, tag, pages = v["big"][0].split()
    assert f"*{int(big, 16):016x} : large page allocation, tag {tag}, size {int(pages) * 4096:#x} ({pages} pages)" \
        in s["big"], s["big"]

    # nt poolused: the tag table rows of the test's tags.
    for row in v["poolused"]:
        tag, *nums = row.split()
        m = re.search(rf"^ {re.escape(tag)}\s+(.*)$", s["poolused"], re.M)
        assert m and m.group(1).split() == nums, (row, s["poolused"])

    # nt stack: the frame-pointer walk names the same functions as the kernel's own walk.
    # The kernel's own table leaves out the test harness (tools/mksyms.py HARNESS: KtpRun,
    # KtRunTests...), so its walk says '?' where GDB, with the full debug information, names them.
    import importlib.util
    spec = importlib.util.spec_from_file_location("mksyms", os.path.join(ROOT, "tools", "mksyms.py"))
    mksyms = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mksyms)
    names = re.findall(r"^[0-9a-f]{2} [0-9a-f]{16}  [0-9a-f]{16}  (\w+)\+", s["stack"], re.M)
    names = ["?" if mksyms.HARNESS.match(n) else n for n in names]
    assert names == v["stack"][0].split(","), s["stack"]
    assert re.search(r"KtTestGdbSnapshot\+0x[0-9a-f]+  \[kernel/ktest/gdb_tests\.c:\d+\]", s["stack"]), s["stack"]
    assert "No STOP has happened" in s["bugcheck"]

    # Phase 2: corrupt structures are called corrupt, with the place.
    corrupt = int(v["corrupt_header"][0], 16)
    assert f"the header at {corrupt:016x} has BlockSize 0" in s["pool_corrupt"], s["pool_corrupt"]
    assert "PageLocation 0x5a is not an MMLISTS value" in s["pfn_corrupt"], s["pfn_corrupt"]
    assert "corrupt: Flink" in s["pfn_corrupt"], s["pfn_corrupt"]


@pytest.mark.parametrize("seed", [SEED, "7"])
def test_lab04_commands_match_the_kernel(reference, seed):
    """nt irql, nt dpcs, nt timers at the stop of gdb.dpc (kernel/ktest/gdb_dpc_tests.c):
    DISPATCH_LEVEL, seeded DPCs queued, seeded timers set; then a corrupt DPC and timer."""
    s, v, text = run_snapshot(reference, seed, [
        ("irql", "nt irql"), ("dpcs", "nt dpcs"), ("timers", "nt timers"), ("next", "continue"),
        ("dpcs_corrupt", "nt dpcs"), ("timers_corrupt", "nt timers"),
    ], ktest="gdb.dpc", first_stop=1)
    _no_traceback(text)
    assert "KTEST END gdb.dpc PASS" in text, text

    # nt irql: CR8 named, and the DISPATCH_LEVEL request the queued DPCs made.
    level, pending = v["irql"][0].split()
    assert level == "2" and f"Current IRQL (CR8): {level} DISPATCH_LEVEL" in s["irql"], s["irql"]
    assert re.search(rf"SoftwareInterruptPending {int(pending, 16):#x}: DISPATCH_LEVEL$", s["irql"], re.M), s["irql"]
    assert "corrupt" not in s["irql"], s["irql"]

    # nt dpcs: the queue in the kernel's order, every field, the routine by name.
    names = {0: "Low", 1: "Medium", 2: "High"}
    rows = re.findall(r"^\s+(\d+)  ([0-9a-f]{16})  (\w+)\s+(\S+)\s+([0-9a-f]{16})  ([0-9a-f]{16})  ([0-9a-f]{16})$",
                      s["dpcs"], re.M)
    want = []
    for i, row in enumerate(v["dpc"]):
        addr, routine, imp, ctx, a1, a2 = row.split()
        assert int(routine, 16) == int(v["routine"][0], 16)
        want.append((str(i), f"{int(addr, 16):016x}", names[int(imp)], "KtGdbDpcRoutine+0x0",
                     *(f"{int(x, 16):016x}" for x in (ctx, a1, a2))))
    assert rows == want, s["dpcs"] + "\n" + "\n".join(v["dpc"])
    assert f"DpcQueueDepth {v['depth'][0]}, " in s["dpcs"] and "corrupt" not in s["dpcs"], s["dpcs"]

    # nt timers: each of the test's timers on the list of its hand, with due time, period, DPC.
    hand = int(v["hand"][0])
    assert f"hand {hand} (KeTickCount" in s["timers"] and "corrupt" not in s["timers"], s["timers"]
    lists = {}
    current = None
    for line in s["timers"].splitlines():
        m = re.match(r"^List (\d+)", line)
        if m:
            current = int(m.group(1))
        m = re.match(r"^  KTIMER ([0-9a-f]{16})  due (0x[0-9a-f]+) .*period (-?\d+) ms  DPC ([0-9a-f]{16}) \((\S+)\)",
                     line)
        if m:
            lists[int(m.group(1), 16)] = (current, int(m.group(2), 16), int(m.group(3)), int(m.group(4), 16),
                                          m.group(5))
    for row in v["timer"]:
        addr, index, due, period, dpc = row.split()
        assert lists.get(int(addr, 16)) == (int(index), int(due, 16), int(period), int(dpc, 16),
                                            "KtGdbDpcRoutine+0x0"), (row, s["timers"])

    # Phase 5: the corrupt DPC and timer are called corrupt, with the address.
    bad = int(v["corrupt_dpc"][0], 16)
    assert re.search(rf"{bad:016x} .*<- corrupt: Type 90 is not DpcObject", s["dpcs_corrupt"]), s["dpcs_corrupt"]
    assert f"corrupt: KPRCB.DpcListHead: the KDPC {bad:016x} has Blink 5a5a5a5a5a5a5a58" in s["dpcs_corrupt"], \
        s["dpcs_corrupt"]
    timer, wrong = v["corrupt_timer"][0].split()
    assert re.search(rf"KTIMER {int(timer, 16):016x} .*<- corrupt: Hand {wrong} is not \d+", s["timers_corrupt"]), \
        s["timers_corrupt"]


def test_nt_commands_on_a_stubbed_kernel(stubs):
    """Every command on a kernel whose labs are stubs (phase 0: nothing built yet), and bad
    arguments: a clear message each, never a traceback."""
    cmds = [("pte", "nt pte KtGdbSnapshot.KernelVa"), ("vtop", "nt vtop 0xffffffff80100000"),
            ("pfn", "nt pfn 100"), ("pool", "nt pool fffffa8000000010"), ("poolused", "nt poolused"),
            ("stack", "nt stack"), ("bugcheck", "nt bugcheck"), ("noncanon", "nt pte 0x0000900000000000"),
            ("badexpr", "nt pfn NoSuchSymbol+1"), ("noarg", "nt pool"), ("unknown", "nt frobnicate"),
            ("badtag", "nt poolused ZZZZ"), ("badstack", "nt stack 0x1234"),
            ("irql", "nt irql"), ("dpcs", "nt dpcs"), ("timers", "nt timers")]
    import sys
    sys.path.insert(0, ROOT)
    from grader import qemu as q
    build = stubs
    with tempfile.TemporaryDirectory() as tmp:
        stub, target = gdbstub(tmp)
        cmd = q.qemu_command(os.path.join(build, "ntlab.iso"), "gdb.snapshot", SEED) + stub
        with open(os.path.join(tmp, "serial"), "wb") as f:
            qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
        try:
            _wait_for(os.path.join(tmp, "gdb.sock"), qemu)
            g = ["hbreak KtGdbSnapshotPoint", "continue"]
            for marker, c in cmds:
                g += [f"echo @@{marker}\\n", c]
            text = gdb_batch(os.path.join(build, "ntlab.elf"), g + ["kill"], target=target)
        finally:
            if qemu.poll() is None:
                os.killpg(qemu.pid, 9)
            qemu.wait()
    s = sections(text)
    _no_traceback(text)
    assert "there is no PFN database (MmPfnDatabase is NULL); MiInitializePfnDatabase returned 0xc0000002" \
        in s["pfn"], s["pfn"]
    assert "contains" in s["pte"] and "nt pte:" not in s["pte"], s["pte"]          # the boot page tables
    assert "translates to physical address" in s["vtop"], s["vtop"]
    assert "nt pool: cannot read" in s["pool"], s["pool"]
    assert " 0 tags" in s["poolused"]
    assert "KtGdbSnapshotPoint" in s["stack"] and "KtTestGdbSnapshot" in s["stack"], s["stack"]
    assert "No STOP has happened" in s["bugcheck"]
    assert "is not canonical" in s["noncanon"], s["noncanon"]
    assert "nt pfn: cannot evaluate 'NoSuchSymbol+1'" in s["badexpr"], s["badexpr"]
    assert "nt pool: which address?" in s["noarg"], s["noarg"]
    assert "nt frobnicate" in s["unknown"] or "no command 'frobnicate'" in s["unknown"], s["unknown"]
    assert "no tag 'ZZZZ'" in s["badtag"], s["badtag"]
    assert "nt stack: cannot read" in s["badstack"], s["badstack"]
    assert "Current IRQL (CR8): 0 PASSIVE_LEVEL" in s["irql"], s["irql"]
    assert "DpcQueueDepth 0, DpcCount 0, 0 queued" in s["dpcs"] and "corrupt" not in s["dpcs"], s["dpcs"]
    assert "0 timers set" in s["timers"] and "corrupt" not in s["timers"], s["timers"]


def _stop_line(text: str) -> tuple[int, list[int]]:
    m = re.search(r"^\*\*\* STOP 0x([0-9A-F]{8}) \(\w+\) (.*)$", text, re.M)
    assert m, text
    return int(m.group(1), 16), [int(x, 16) for x in m.group(2).split()]


def test_dump_opens_with_bt_and_bugcheck(reference):
    """make qemu with NTLAB_ON_STOP=dump saves the STOP; make debug-dump opens it: bt goes
    through the trap frame to the faulting line; nt bugcheck decodes the STOP line's values."""
    dump = os.path.join(ROOT, "build", "dumps", f"ke.page_fault-{SEED}.core")
    if os.path.exists(dump):
        os.unlink(dump)
    env = {**clean_env(), "NTLAB_ON_STOP": "dump"}
    p = subprocess.run(["make", "--no-print-directory", "qemu", "SOL=all", "KTEST=ke.page_fault", f"SEED={SEED}"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert os.path.isfile(dump), p.stdout + p.stderr
    assert f"crash dump: build/dumps/ke.page_fault-{SEED}.core" in p.stderr, p.stderr
    assert "NTLAB HALTED after STOP 0x00000050" in p.stdout
    code, params = _stop_line(p.stdout)
    try:
        d = subprocess.run(["make", "--no-print-directory", "debug-dump", "SOL=all",
                            f"DUMP=build/dumps/ke.page_fault-{SEED}.core"], cwd=ROOT, env=clean_env(),
                           input="bt\nnt stack\n", capture_output=True, text=True, timeout=120)
        text = d.stdout + d.stderr
        _no_traceback(text)
        assert f"Bugcheck code {code:08x} (PAGE_FAULT_IN_NONPAGED_AREA)" in text, text
        ticks = " ".join(f"{x >> 32:08x}`{x & 0xFFFFFFFF:08x}" for x in params)
        assert f"Arguments {ticks}" in text, text
        assert re.search(r"P3 0x[0-9a-f]+: the instruction that referenced it  = KtFaultTouch\+0x[0-9a-f]+ "
                         r"\[labs/00-bugcheck/tests/bugcheck_tests\.c:\d+\]", text), text
        # GDB's own bt continues through KiTrapCommon into the code that faulted, with file:line.
        frames = re.findall(r"^#(\d+)\s+(?:0x[0-9a-f]+ in )?(\w+) ", text, re.M)
        names = [n for _i, n in frames]
        assert "KiTrapCommon" in names and names[names.index("KiTrapCommon") + 1] == "KtFaultTouch", text
        i = names.index("KtFaultTouch")
        assert names[i:i + 3] == ["KtFaultTouch", "KtFaultLevel1", "KtTestPageFault"], names
        assert re.search(r"KtFaultTouch \(.*?\)\s+at labs/00-bugcheck/tests/bugcheck_tests\.c:\d+", text, re.S), text
        # nt stack from the halted CPU's registers walks into the trap frame and on.
        walk = text[text.rindex("# FramePtr"):]
        assert re.search(r"--- trap frame at [0-9a-f]{16}: vector 14 \(page fault\).*\n"
                         r"[0-9a-f]{2} [0-9a-f]{16}  [0-9a-f]{16}  KtFaultTouch\+", walk), walk
    finally:
        if os.path.exists(dump):
            os.unlink(dump)


def test_dump_of_a_stubbed_kernel(stubs, reference):
    """A student's kernel whose lab 00 walker is a stub: the STOP has no BT lines, but the dump
    still gives the stack; opened with another build's symbols it says so."""
    dump = os.path.join(ROOT, "build", "dumps", f"ke.page_fault-{SEED}.core")
    env = {**clean_env(), "NTLAB_ON_STOP": "dump"}
    try:
        p = subprocess.run(["make", "--no-print-directory", "qemu", "KTEST=ke.page_fault", f"SEED={SEED}"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert "BT UNAVAILABLE" in p.stdout and os.path.isfile(dump), p.stdout + p.stderr
        rel = os.path.relpath(dump, ROOT)
        mine = subprocess.run(["make", "--no-print-directory", "debug-dump", f"DUMP={rel}"], cwd=ROOT,
                              env=clean_env(), input="nt stack\n", capture_output=True, text=True, timeout=120)
        text = mine.stdout + mine.stderr
        _no_traceback(text)
        assert "warning: the kernel in" not in text and "PAGE_FAULT_IN_NONPAGED_AREA" in text, text
        assert re.search(r"KtFaultTouch\+0x[0-9a-f]+  \[labs/00-bugcheck/tests/bugcheck_tests\.c:\d+\]\n"
                         r".*KtFaultLevel1\+", text), text
        other = subprocess.run(["make", "--no-print-directory", "debug-dump", "SOL=all", f"DUMP={rel}"], cwd=ROOT,
                               env=clean_env(), input="", capture_output=True, text=True, timeout=120)
        assert "warning: the kernel in this dump is not build/all/ntlab.elf" in other.stdout, other.stdout
    finally:
        if os.path.exists(dump):
            os.unlink(dump)


def _checkpoint(lab: int, name: str):
    import sys
    sys.path.insert(0, ROOT)
    from grader import labconfig
    for lb in labconfig.load_labs(ROOT):
        for cp in lb.checkpoints:
            if cp.lab == lab and cp.name == name:
                return cp
    raise AssertionError(f"no checkpoint {lab}.{name}")


def test_grader_report_names_the_dump(reference, monkeypatch):
    """An unexpected STOP under NTLAB_ON_STOP=dump leaves build/dumps/<checkpoint>-<seed>.core
    and the failure report names it; an expected STOP is not dumped."""
    from grader import runner
    monkeypatch.setenv("NTLAB_ON_STOP", "dump")
    expected = _checkpoint(0, "kernel_page_fault")
    unexpected = dataclasses.replace(expected, name="page_fault_as_pass", expect="pass", stop_code=None)
    dumps = os.path.join(ROOT, "build", "dumps")
    paths = [os.path.join(dumps, f"{cp.id}-{SEED}.core") for cp in (expected, unexpected)]
    for path in paths:
        if os.path.exists(path):
            os.unlink(path)
    try:
        verdict, run = runner.run_checkpoint(expected, sol="all", seed=int(SEED), root=ROOT)
        assert verdict.passed, verdict.text
        assert not os.path.exists(paths[0]) and "dump" not in run.extra
        verdict, run = runner.run_checkpoint(unexpected, sol="all", seed=int(SEED), root=ROOT)
        assert verdict.kind == "unexpected STOP", verdict.text
        assert os.path.isfile(paths[1]), verdict.text
        rel = os.path.relpath(paths[1], ROOT)
        assert f"crash dump: {rel}" in verdict.details and f"make debug-dump SOL=all DUMP={rel}" in verdict.details
        assert "run ended: QEMU exited with status 37" in verdict.details, verdict.details
    finally:
        for path in paths:
            if os.path.exists(path):
                os.unlink(path)


def test_halt_keeps_the_machine_for_gdb(reference, monkeypatch):
    """NTLAB_ON_STOP=halt: the grader leaves QEMU halted with a gdbstub; `nt attach` (what
    make gdb runs) shows the STOP and the faulting stack."""
    from grader import runner
    monkeypatch.setenv("NTLAB_ON_STOP", "halt")
    cp = dataclasses.replace(_checkpoint(0, "kernel_page_fault"), name="page_fault_kept", expect="pass",
                             stop_code=None)
    verdict, run = runner.run_checkpoint(cp, sol="all", seed=int(SEED), root=ROOT)
    halted = run.extra.get("halted")
    assert halted, verdict.text
    try:
        assert f"kill {halted['pid']}" in verdict.details and f"target remote {halted['socket']}" in verdict.details
        text = gdb_batch(os.path.join(reference, "ntlab.elf"), ["nt attach", "bt"],
                         target=f"target remote {halted['socket']}")
        _no_traceback(text)
        assert "The kernel is halted after a STOP" in text and "PAGE_FAULT_IN_NONPAGED_AREA" in text, text
        assert re.search(r"KtFaultTouch\+0x[0-9a-f]+  \[labs/00-bugcheck/tests/bugcheck_tests\.c:\d+\]", text), text
        assert re.search(r"in KtFaultTouch \(", text), text
    finally:
        try:
            os.killpg(halted["pid"], 9)
        except ProcessLookupError:
            pass
        shutil.rmtree(os.path.dirname(halted["socket"]), ignore_errors=True)


def test_on_stop_rejects_a_bad_mode(reference, monkeypatch):
    from grader import onstop, runner
    monkeypatch.setenv("NTLAB_ON_STOP", "keep")
    with pytest.raises(onstop.OnStopError, match="must be one of: halt, dump, exit"):
        onstop.mode()
    verdict, run = runner.run_checkpoint(_checkpoint(0, "stack_chain"), sol="all", seed=1, root=ROOT)
    assert verdict.kind == "QEMU error" and "NTLAB_ON_STOP='keep'" in verdict.text and run is None


def test_help_and_handouts_list_every_command():
    """`nt help` (no target needed) lists every command, the handouts name each one, and the
    `nt help` block pasted in handout 00 is the live output."""
    text = subprocess.run(["gdb", "-q", "-batch", "-nx", "-x", NTLAB_PY, "-ex", "nt help", "-ex", "help nt"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, env=clean_env()).stdout
    _no_traceback(text)
    listed = re.findall(r"^  (nt \w+.*?)\s*$", text, re.M)
    names = {line.split()[1] for line in listed}
    assert names == set(re.findall(r"^nt (\w+) --", text, re.M)) and COMMANDS <= names, text
    handouts = ""
    for name in sorted(os.listdir(os.path.join(ROOT, "handouts"))):
        if name.endswith(".md"):
            with open(os.path.join(ROOT, "handouts", name), encoding="utf-8") as f:
                handouts += f.read()
    for name in names:
        assert f"nt {name}" in handouts, f"no handout mentions `nt {name}`"
    with open(os.path.join(ROOT, "handouts", "00-bugcheck.md"), encoding="utf-8") as f:
        handout = f.read()
    live = [l for l in text.splitlines() if l.startswith("  nt ")]
    assert "\n".join(live) in handout, "handouts/00-bugcheck.md: the `nt help` block is not the live output"


@pytest.mark.parametrize("seed", [SEED, "7"])
def test_lab06_commands_match_the_kernel(reference, seed):
    """nt handle, nt object, nt dir at the stops of gdb.ob (labs/06-objects/tests/gdb_ob_tests.c):
    seeded handles in a process of their own and a named object; then a corrupt count."""
    s, v, text = run_snapshot(reference, seed, [
        ("handle", "nt handle"), ("object", "nt object KtGdbObNamed"), ("dir", "nt dir \\\\BaseNamedObjects"),
        ("types", "nt dir \\\\ObjectTypes"), ("next", "continue"), ("handle_corrupt", "nt handle"),
    ], ktest="gdb.ob", first_stop=1)
    _no_traceback(text)
    assert "KTEST END gdb.ob PASS" in text, text
    named_handle, named_name = v["named"][0].split()
    # nt handle: every handle with its access, bits, counts; the named one too.
    for row in v["handle"]:
        value, access, bits, pc, hc = row.split()
        flags = ("P" if int(bits) & 1 else "-") + ("I" if int(bits) & 2 else "-")
        assert re.search(rf"^\s+{int(value, 16):#6x}  access {int(access, 16):#010x} {flags}  [0-9a-f]{{16}} "
                         rf"KtObject\s+P={pc}\s+H={hc}\s", s["handle"], re.M), (row, s["handle"])
    m = re.search(rf"^\s+{int(named_handle, 16):#6x} .* ([0-9a-f]{{16}}) KtObject .* {named_name}$", s["handle"], re.M)
    assert m and "corrupt" not in s["handle"], s["handle"]
    body = m.group(1)
    # nt object: the header decoded, the name and its directory.
    assert f"Object {body}" in s["object"] and f"Name          '{named_name}'" in s["object"], s["object"]
    assert "PointerCount  2" in s["object"] and "HandleCount   1" in s["object"], s["object"]
    # nt dir: the named object in \BaseNamedObjects; every framework type in \ObjectTypes.
    assert re.search(rf"{body} KtObject .* {named_name}$", s["dir"], re.M), s["dir"]
    for t in ("Type", "Directory", "SymbolicLink", "Process", "Thread", "Event", "Semaphore", "Mutant", "Timer"):
        assert re.search(rf" Type\s+P=\d+\s+H=0\s+flags PERMANENT\s+{t}$", s["types"], re.M), (t, s["types"])
    # Phase 2: the corrupt count is called corrupt.
    bad = int(v["corrupt"][0], 16)
    assert re.search(rf"^\s+{bad:#6x} .* KtObject\s+P=0 .*\n\s+corrupt: PointerCount 0 < HandleCount",
                     s["handle_corrupt"], re.M), s["handle_corrupt"]


@pytest.mark.parametrize("seed", [SEED, "7"])
def test_lab07_commands_match_the_kernel(reference, seed):
    """nt irp, nt devstack, nt drvobj at the stop of gdb.io (labs/07-io/tests/gdb_io_tests.c):
    an IRP held by the base driver under a seeded stack of filters."""
    # Addresses are known only from the run: boot once for the values, then with the commands.
    _, v, _ = run_snapshot(reference, seed, [("irp", "nt help")], ktest="gdb.io", first_stop=1)
    irp, count, current, length = v["irp"][0].split()
    devices = [row.split() for row in v["device"]]
    base_drv, filter_drv = v["drivers"][0].split()
    s, v2, text = run_snapshot(reference, seed, [
        ("irp", f"nt irp {irp}"), ("devstack", f"nt devstack {devices[-1][0]}"), ("drvobj", f"nt drvobj {filter_drv}"),
    ], ktest="gdb.io", first_stop=1)
    _no_traceback(text)
    assert "KTEST END gdb.io PASS" in text and v2["irp"] == v["irp"], text
    # nt irp: the header, the current location marked, every location listed, the routines named.
    assert f"IRP {int(irp, 16):016x}" in s["irp"] and f"StackCount {count}  CurrentLocation {current}" in s["irp"], \
        s["irp"]
    assert re.search(rf"^ >\[{current}\] ", s["irp"], re.M), s["irp"]
    assert len(re.findall(r"^ [ >]\[\d+\] ", s["irp"], re.M)) == int(count), s["irp"]
    assert re.search(rf"^  \[{count}\] .*IRP_MJ_WRITE .*completion KtTopCompletion", s["irp"], re.M), s["irp"]
    assert "completion FilterCompletion" in s["irp"] and f"Length {length}" in s["irp"], s["irp"]
    assert "corrupt" not in s["irp"], s["irp"]
    # nt devstack: top to bottom, each device's StackSize and driver; the asked-for one marked.
    rows = re.findall(r"^ ([ >])([0-9a-f]{16})  StackSize (\d+)  driver ([0-9a-f]{16})", s["devstack"], re.M)
    want = [(" " if i < len(devices) - 1 else ">", f"{int(d, 16):016x}", size, f"{int(drv, 16):016x}")
            for i, (d, size, drv) in enumerate(devices)]
    assert rows == want, (s["devstack"], devices)
    # nt drvobj: the filter driver, its devices, its dispatch routine.
    assert f"Driver {int(filter_drv, 16):016x} 'KtFilter'" in s["drvobj"], s["drvobj"]
    for d, _, drv in devices:
        if int(drv, 16) == int(filter_drv, 16):
            assert f"device {int(d, 16):016x}" in s["drvobj"], s["drvobj"]
    assert "FilterDispatch" in s["drvobj"] and "corrupt" not in s["drvobj"], s["drvobj"]
