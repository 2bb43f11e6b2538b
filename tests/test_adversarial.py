"""Adversarial submissions, each graded through `python3 -m grader submit`: every one must end
with a results.json (plus junit.xml and grade.log), the stated verdict, and no unearned
points. The boots grade lab 00 only, with small timeouts (--timeout-scale), to stay fast."""
import io
import json
import os
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from kernel_harness import PYTHON, ROOT, clean_env, has_solutions

FIX = Path(__file__).parent / "adversarial"
LAB0 = "labs/00-bugcheck"
needs_qemu = pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None, reason="needs QEMU")


def tar_of(tmp_path, files: dict, name="sub.tar.gz") -> Path:
    path = tmp_path / name
    with tarfile.open(path, "w:gz") as tar:
        for rel, data in files.items():
            data = data.encode() if isinstance(data, str) else data
            info = tarfile.TarInfo(rel)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def submit(sub, out, *extra, timeout=240):
    proc = subprocess.run([PYTHON, "-m", "grader", "submit", str(sub), "--out", str(out), "--seed", "11",
                           "--quiet", *extra], cwd=ROOT, env=clean_env(), capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("results.json", "junit.xml", "grade.log"):
        assert (Path(out) / name).is_file(), f"{name} missing"
    data = json.loads((Path(out) / "results.json").read_text())
    assert data["tests"], "results.json lists no checkpoint"
    return data, (Path(out) / "grade.log").read_text()


def by_name(data):
    return {t["name"].split(":")[0]: t for t in data["tests"]}


def assert_zero(data, why):
    assert data["score"] == 0, f"{why}: unearned points\n" + json.dumps(data, indent=1)[:3000]
    for t in data["tests"]:
        assert t["score"] == 0 and t["status"] == "failed"
        assert why in t["output"], t["output"][:1000]


def lab0(tmp_path, symbols: str, stackwalk: str | None = None):
    files = {f"{LAB0}/symbols.c": symbols}
    if stackwalk is not None:
        files[f"{LAB0}/stackwalk.c"] = stackwalk
    return tar_of(tmp_path, files)


# ---------------------------------------------------------------- boots

@needs_qemu
def test_hang_at_high_level_is_a_timeout(tmp_path):
    data, log = submit(lab0(tmp_path, (FIX / "hang_symbols.c").read_text()), tmp_path / "out",
                       "--lab", "0", "--timeout-scale", "0.5")
    t = by_name(data)
    assert t["00.symbol_lookup"]["status"] == "failed"
    out = t["00.symbol_lookup"]["output"]
    # the watchdog names the hang (its budget passed); on a heavily loaded machine the scaled
    # timeout can expire first, even before the boot line
    assert any(f"verdict: {k}" in out for k in ("hang", "timeout", "no boot")), out[:800]
    assert data["score"] == 0


@needs_qemu
def test_triple_fault(tmp_path):
    data, log = submit(lab0(tmp_path, (FIX / "triple_symbols.c").read_text()), tmp_path / "out",
                       "--lab", "0", "--timeout-scale", "0.5")
    t = by_name(data)
    out = t["00.symbol_lookup"]["output"]
    # the guard page below the stack (the boot stack has one too) turns the overflow into a
    # double fault named as a stack overflow; the kernel image below is never written
    assert "verdict: unexpected STOP" in out and "kernel stack overflow" in out, out[:1500]
    assert "nested fault" not in out, out[:1500]
    assert data["score"] == 0


@needs_qemu
def test_serial_flood_is_capped(tmp_path):
    out = tmp_path / "out"
    data, log = submit(lab0(tmp_path, (FIX / "flood_symbols.c").read_text()), out, "--lab", "0",
                       "--timeout-scale", "4", "--no-keep-work")
    t = by_name(data)
    assert "verdict: serial flood" in t["00.symbol_lookup"]["output"]
    assert data["score"] == 0
    stored = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    assert stored < 20 << 20, f"the pipeline stored {stored} bytes"


@needs_qemu
@pytest.mark.skipif(not has_solutions(), reason="needs the reference stack walker (solutions/)")
def test_forged_records_are_integrity_failures(tmp_path):
    walker = (Path(ROOT) / "solutions/00-bugcheck/stackwalk.c").read_text()
    data, log = submit(lab0(tmp_path, (FIX / "forged_symbols.c").read_text(), walker), tmp_path / "out",
                       "--lab", "0", "--timeout-scale", "1")
    t = by_name(data)
    for name in ("00.bugcheck_stop", "00.kernel_page_fault"):
        assert t[name]["score"] == 0
        # forged records fail authentication, or earlier the host's own expectations (the STOP
        # parameters in lab.toml, the grader's model of the seed): never points
        out = t[name]["output"]
        assert "verdict: integrity failure" in out or ("verdict: failed check" in out and (
            "model " in out or "parameter" in out)), out
        assert "KTEST VALUE" in out or "STOP AUTH" in out or "model " in out
    # the symbol checkpoints are not earned; the walker (the reference) legitimately is
    assert t["00.symbol_lookup"]["score"] == 0
    assert t["00.stack_chain"]["score"] == t["00.stack_chain"]["max_score"]


def test_forged_records_with_exit_are_refused_statically(tmp_path):
    data, log = submit(lab0(tmp_path, (FIX / "forged_exit_symbols.c").read_text()), tmp_path / "out")
    assert_zero(data, "static check")
    assert f"{LAB0}/symbols.c:14: uses HalExitQemu" in log


def test_port_io_fw_cfg_and_include_escape_are_refused(tmp_path):
    data, log = submit(lab0(tmp_path, (FIX / "port_io_symbols.c").read_text()), tmp_path / "out")
    assert_zero(data, "static check")
    assert "HalReadFirmwareConfigFile" in log and "assembly (__asm__)" in log
    assert "includes" in log or "compile FAILED" in log


def test_compile_error_reports_the_compiler_message(tmp_path):
    bad = "/* broken */\n#include \"rtl.h\"\nNTSTATUS RtlLookupSymbol(ULONG_PTR A, PCSTR *N, PULONG_PTR O)\n{\n" \
          "    return this_is_not_declared;\n}\n"
    data, log = submit(lab0(tmp_path, bad), tmp_path / "out")
    assert_zero(data, "build error")
    out = data["tests"][0]["output"]
    assert "labs/00-bugcheck/symbols.c" in out and "this_is_not_declared" in out and "error" in out


@needs_qemu
def test_non_student_files_are_ignored(tmp_path):
    """A whole tree whose framework and tests were changed to pass everything: only the
    student files (the stubs here) are used, so nothing is earned."""
    tree = tmp_path / "tree"
    for rel in ("Makefile", "kernel/ktest/runner.c", f"{LAB0}/tests/stack_tests.c", f"{LAB0}/lab.toml",
                f"{LAB0}/stackwalk.c", f"{LAB0}/symbols.c", "grader/verdict.py"):
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(ROOT) / rel, tree / rel)
    (tree / "kernel/ktest/runner.c").write_text("/* every test passes */\n")
    (tree / "grader/verdict.py").write_text("def judge(*a, **k): return None\n")
    (tree / f"{LAB0}/tests/stack_tests.c").write_text("/* no tests */\n")
    data, log = submit(tree, tmp_path / "out", "--lab", "0", "--timeout-scale", "1")
    assert data["score"] == 0
    assert "ignored kernel/ktest/runner.c: not a student file" in log
    assert "ignored grader/verdict.py: not a student file" in log
    assert "verdict: not implemented" in by_name(data)["00.stack_chain"]["output"]


def test_empty_submission(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    data, log = submit(empty, tmp_path / "out")
    assert_zero(data, "no student file")
    data, log = submit(tar_of(tmp_path, {"README.txt": "hello"}), tmp_path / "out2")
    assert_zero(data, "no student file")
    assert "ignored README.txt: not a student file" in data["output"]


# ---------------------------------------------------------------- unsafe archives

def raw_tar(tmp_path, members, name="evil.tar"):
    path = tmp_path / name
    with tarfile.open(path, "w") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def member(name, data=b"x", **kw):
    info = tarfile.TarInfo(name)
    info.size = len(data) if data is not None else 0
    for k, val in kw.items():
        setattr(info, k, val)
    return info, data


@pytest.mark.parametrize("case", ["dotdot", "absolute", "symlink", "hardlink", "device", "too_many"])
def test_unsafe_tar_is_refused_and_nothing_escapes(tmp_path, case):
    good = member(f"{LAB0}/symbols.c", b"/* ok */\n")
    members = {
        "dotdot": [good, member("labs/../../escaped.txt", b"owned")],
        "absolute": [good, member("/tmp/ntlab-escaped.txt", b"owned")],
        "symlink": [member(f"{LAB0}/symbols.c", None, type=tarfile.SYMTYPE, linkname="/etc/passwd")],
        "hardlink": [member(f"{LAB0}/symbols.c", None, type=tarfile.LNKTYPE, linkname="/etc/shadow")],
        "device": [member("dev0", None, type=tarfile.CHRTYPE, devmajor=1, devminor=3)],
        "too_many": [member(f"f{i}.c", b"x") for i in range(250)],
    }[case]
    out = tmp_path / "out"
    data, log = submit(raw_tar(tmp_path, members), out)
    assert_zero(data, "refused")
    assert not (tmp_path / "escaped.txt").exists() and not (out / "escaped.txt").exists()
    assert not Path("/tmp/ntlab-escaped.txt").exists()
    written = [p for p in (out / "work").rglob("*") if p.is_file() or p.is_symlink()]
    assert all(not p.is_symlink() for p in written)


def test_zip_with_symlink_and_dotdot_is_refused(tmp_path):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as z:
        info = zipfile.ZipInfo(f"{LAB0}/symbols.c")
        info.external_attr = 0o120777 << 16
        z.writestr(info, "/etc/passwd")
    data, log = submit(path, tmp_path / "out")
    assert_zero(data, "symbolic link")
    with zipfile.ZipFile(tmp_path / "evil2.zip", "w") as z:
        z.writestr("../../outside.c", "x")
    data, log = submit(tmp_path / "evil2.zip", tmp_path / "out2")
    assert_zero(data, "'..'")


@pytest.mark.skipif(shutil.which("tar") is None, reason="needs GNU tar")
def test_sparse_2gb_file_is_refused_without_writing_it(tmp_path):
    src = tmp_path / "src"
    (src / LAB0).mkdir(parents=True)
    with open(src / LAB0 / "symbols.c", "wb") as f:
        f.truncate(2 << 30)                         # 2 GiB, sparse
    archive = tmp_path / "sparse.tar.gz"
    subprocess.run(["tar", "--sparse", "-czf", str(archive), "-C", str(src), "labs"], check=True)
    assert archive.stat().st_size < 10 << 20
    out = tmp_path / "out"
    data, log = submit(archive, out, timeout=60)
    assert_zero(data, "refused")
    stored = sum(f.stat().st_blocks * 512 for f in out.rglob("*") if f.is_file())
    assert stored < 10 << 20


# ---------------------------------------------------------------- issue 8: every attack class
# Each case is graded through `grader submit --no-keep-work`; then every output file is searched
# for what must not leak (leaks()). Bounds: each case within its `timeout` and the grader's
# children within MAX_RSS of memory (ru_maxrss of the waited-for processes).

import re as _re
import resource
import time as _time

MAX_RSS = 1 << 30           # bytes: the largest process of a DoS case
SECRET = "F8-OTHER-STUDENT-SECRET-4711"


def _distinctive_lines(paths, n=6):
    out = []
    for p in paths:
        lines = [l.strip() for l in Path(p).read_text(errors="replace").splitlines()]
        lines = [l for l in lines if len(l) > 40 and not l.startswith(("/*", "*", "//", "#include"))]
        out += sorted(lines, key=len, reverse=True)[:n]
    return out


def leaks(out: Path) -> list[str]:
    """What must never appear in an output file: host files, hidden tests, solutions,
    another submission, absolute paths."""
    root = Path(ROOT)
    hidden = _distinctive_lines(sorted(root.glob("solutions/*/hidden/*.c")))
    sols = _distinctive_lines(sorted(root.glob("solutions/*/*.c")))
    stubs = "".join(p.read_text(errors="replace") for p in root.glob("labs/*/*.c"))
    sols = [l for l in sols if l not in stubs]
    found = []
    for f in out.rglob("*"):
        if not f.is_file():
            continue
        text = f.read_text(errors="replace")
        for what, needles in (("/etc/passwd", ["root:x:0:0"]), ("hidden test", hidden),
                              ("solution", sols), ("other submission", [SECRET]),
                              ("absolute path", [str(root), str(out), "/work/", "/home/", "/root/", "/tmp/"])):
            for n in needles:
                hit = _re.search(r"(?<![\w./])" + _re.escape(n), text) if what == "absolute path" else n in text
                if n and hit:
                    found.append(f"{f.name}: {what}: {n[:60]}")
    return found


def graded(tmp_path, sub, *extra, timeout=300, bound=None):
    out = tmp_path / "out"
    start = _time.monotonic()
    data, log = submit(sub, out, "--no-keep-work", *extra, timeout=timeout)
    elapsed = _time.monotonic() - start
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    if bound is not None:
        assert elapsed < bound, f"took {elapsed:.1f}s (bound {bound}s)"
    assert rss < MAX_RSS, f"a process used {rss >> 20} MiB"
    assert not leaks(out), leaks(out)
    return data, log


def refused(data, log, why):
    assert data["score"] == 0, json.dumps(data)[:2000]
    assert why in log, log[-3000:]
    assert data["extra_data"]["flagged"] or "refused" in log


# class 1: run-time tampering at ring 0 (refused before anything runs)
TAMPER = {
    "registry_by_asm_name": 'extern const char Reg[] __asm__("KiTestsStart");\n'
                            'NTSTATUS RtlLookupSymbol(ULONG_PTR A, PCSTR *N, PULONG_PTR O)\n'
                            '{ (void)A; (void)N; (void)O; ((char *)Reg)[8] = 0; return 0; }\n',
    "split_section_attribute": 'static const char *Fake[3] __attribute__((used,\n section(".kte" "sts"))) = {0};\n'
                               'NTSTATUS RtlLookupSymbol(ULONG_PTR A, PCSTR *N, PULONG_PTR O)\n'
                               '{ (void)A; (void)N; (void)O; return 0; }\n',
    "byte_encoded_port_io": 'NTSTATUS RtlLookupSymbol(ULONG_PTR A, PCSTR *N, PULONG_PTR O)\n'
                            '{ (void)A; (void)N; (void)O; __asm__ volatile(".byte 0x66, 0xba, 0x10, 0x05");'
                            ' return 0; }\n',
    "sha256_tags": '#include "rtl.h"\n#include "sha256.h"\nNTSTATUS RtlLookupSymbol(ULONG_PTR A, PCSTR *N, PULONG_PTR O)\n'
                   '{ HMAC_SHA256_CONTEXT c; (void)A; (void)N; (void)O; RtlHmacSha256Init(&c, "k", 1); return 0; }\n',
    "call_by_address": 'NTSTATUS RtlLookupSymbol(ULONG_PTR A, PCSTR *N, PULONG_PTR O)\n'
                       '{ (void)N; (void)O; void (*exitq)(ULONG) = (void (*)(ULONG))(A + 0x40); exitq(0x10);'
                       ' return 0; }\n',
    "forged_exit": (FIX / "forged_exit_symbols.c").read_text(),
}
TAMPER_WHY = {"registry_by_asm_name": "assembly", "split_section_attribute": "__attribute__((section))",
              "byte_encoded_port_io": "assembly", "sha256_tags": "RtlHmacSha256",
              "call_by_address": "function pointer", "forged_exit": "HalExitQemu"}


@pytest.mark.parametrize("case", sorted(TAMPER))
def test_ring0_tampering_is_refused(tmp_path, case):
    code = TAMPER[case]
    if not code.lstrip().startswith(("#include", "/*")):
        code = '#include "rtl.h"\n' + code
    data, log = graded(tmp_path, lab0(tmp_path, code), bound=60)
    refused(data, log, TAMPER_WHY[case])


def test_harness_is_left_out_of_the_symbol_table(tmp_path):
    """Code scanning the embedded symbol table finds no runner or authentication routine, and a
    symbol name with a quote cannot inject C into ksyms.c."""
    nm = "\n".join(["ffffffff80100000 T KiTextStart", "ffffffff80100000 0000000000000010 T KtpRun",
                    "ffffffff80100010 0000000000000010 T KtRunTests", "ffffffff80100020 0000000000000010 T Good",
                    'ffffffff80100030 0000000000000010 T Bad";int x;//', "ffffffff80100040 T KiTextEnd"])
    (tmp_path / "nm").write_text(nm + "\n")
    out = subprocess.run([PYTHON, "tools/mksyms.py", str(tmp_path / "nm")], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert "Good" in out and "KtpRun" not in out and "KtRunTests" not in out and "int x" not in out


# class 2: reading at build time (the compile sees only the framework headers and the student's files)
READS = {
    "include_hidden": '#include "../../solutions/00-bugcheck/hidden/hidden_tests.c"\n',
    "digraph_include_solution": '%:include "../../solutions/00-bugcheck/symbols.c"\n',
    "include_host_file": '#include "/etc/passwd"\n',
    "incbin_split_path": '__asm__(".incbin \\"/etc/pa" "sswd\\"");\n',
    "include_other_submission": '#include "../../../../../../other/labs/00-bugcheck/symbols.c"\n',
}


@pytest.mark.parametrize("case", sorted(READS))
def test_build_time_reads_leak_nothing(tmp_path, case):
    other = tmp_path / "other" / LAB0
    other.mkdir(parents=True)
    (other / "symbols.c").write_text(f"/* {SECRET} */\n")
    data, log = graded(tmp_path, lab0(tmp_path, '#include "rtl.h"\n' + READS[case]), bound=60)
    assert data["score"] == 0
    assert "static check" in log or "compile FAILED" in log


def test_output_inside_the_repository_is_refused(tmp_path):
    proc = subprocess.run([PYTHON, "-m", "grader", "batch", str(tmp_path), "--out", "submissions-out"], cwd=ROOT,
                          env=clean_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "inside the repository" in proc.stderr


# class 3: denial of service
def test_regex_bomb_is_checked_in_linear_time(tmp_path):
    bomb = '#include "rtl.h"\nvoid f(' + "int a, " * 300 + "\n" + "((" * 300 + "\n"
    data, log = graded(tmp_path, lab0(tmp_path, bomb), bound=60)
    assert data["score"] == 0


def test_bz2_longname_bomb_under_a_gz_name(tmp_path):
    """A 4 GiB GNU long name in a bzip2 tar named .tar.gz: refused by its bytes, bounded."""
    import bz2
    hdr = tarfile.TarInfo("././@LongLink")
    hdr.type = tarfile.GNUTYPE_LONGNAME
    hdr.size = 4 << 30
    raw = hdr.tobuf(format=tarfile.GNU_FORMAT)
    path = tmp_path / "bomb.tar.gz"
    c = bz2.BZ2Compressor()
    path.write_bytes(c.compress(raw) + c.compress(b"a" * (64 << 20)) + c.flush())
    data, log = graded(tmp_path, path, bound=60)
    assert_zero(data, "refused")
    assert "not a gzip-compressed tar" in log


def test_gzip_longname_bomb_is_capped(tmp_path):
    import gzip as _gz
    hdr = tarfile.TarInfo("././@LongLink")
    hdr.type = tarfile.GNUTYPE_LONGNAME
    hdr.size = 4 << 30
    path = tmp_path / "bomb.tar.gz"
    with _gz.open(path, "wb") as f:
        f.write(hdr.tobuf(format=tarfile.GNU_FORMAT))
        chunk = b"a" * (1 << 20)
        for _ in range(64):
            f.write(chunk)
    data, log = graded(tmp_path, path, bound=60)
    assert_zero(data, "refused")


def test_many_directories_are_counted(tmp_path):
    path = tmp_path / "dirs.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for i in range(20000):
            info = tarfile.TarInfo(f"d{i}")
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
    data, log = graded(tmp_path, path, bound=30)
    assert_zero(data, "refused")
    assert "entries" in log


# class 4: leaks in results
@needs_qemu
def test_hidden_checkpoints_are_not_named_in_the_visible_output(tmp_path):
    data, log = graded(tmp_path, lab0(tmp_path, (Path(ROOT) / LAB0 / "symbols.c").read_text()), "--lab", "0",
                       "--timeout-scale", "1")
    hidden = [t["name"].split(":")[0] for t in data["tests"] if t["visibility"] != "visible"]
    for name in hidden:
        assert name not in data["output"], data["output"]
    if has_solutions():
        assert hidden and "hidden checkpoint(s)" in data["output"]


def test_member_names_are_escaped(tmp_path):
    path = tar_of(tmp_path, {"evil\n\x1b[2Jname.c": "x", f"{LAB0}/symbols.c": "/* */\n"})
    data, log = graded(tmp_path, path, bound=60)
    assert_zero(data, "refused")
    for text in (log, json.dumps(data), (tmp_path / "out" / "junit.xml").read_text()):
        assert "\x1b" not in text and "evil\nname" not in text
    assert "evil\\n\\x1b[2Jname.c" in log


def test_tracebacks_have_no_absolute_paths():
    from grader import submit as s
    try:
        open(os.path.join(ROOT, "no", "such", "file"))
    except OSError:
        text = s._plain_traceback(ROOT)
    assert ROOT not in text and "/usr/lib" not in text and 'File "' in text


REGISTRY_TAMPER = r'''
/* Ring-0 tampering with no forbidden name and no assembly: at boot, find the ktest registry
 * entry of "pfn.totals" by scanning memory for a pointer to that (merged) string, and point
 * its routine at a function of ours that checks nothing. */
static VOID F8Pass(PVOID Context) { UNREFERENCED_PARAMETER(Context); }

static VOID F8Tamper(VOID)
{
    const char *name = "pfn.totals";
    ULONG_PTR base = (ULONG_PTR)name & ~(ULONG_PTR)7;
    for (ULONG_PTR p = base; p < base + (1 << 20); p += 8) {
        if (*(volatile ULONG_PTR *)p == (ULONG_PTR)name) {
            *(volatile ULONG_PTR *)(p + 8) = (ULONG_PTR)F8Pass;
            DbgPrint("tampered with the registry at %p\n", (PVOID)p);
            return;
        }
    }
}
'''


@needs_qemu
@pytest.mark.skipif(not has_solutions(), reason="needs the reference lab 01 (solutions/)")
def test_registry_rewritten_at_boot_earns_nothing(tmp_path):
    """The runner calls only routines inside the test objects' code: a registry entry pointed
    at student code fails (or the write faults); the other checkpoints are unaffected."""
    files = {}
    for f in ("pfnalloc.c", "pfndb.c", "pfnlist.c"):
        files[f"labs/01-pfn/{f}"] = (Path(ROOT) / "solutions/01-pfn" / f).read_text()
    db = files["labs/01-pfn/pfndb.c"]
    head, sep, body = db.partition("NTSTATUS MiInitializePfnDatabase(const MM_BOOT_MEMORY *Boot)\n{\n")
    files["labs/01-pfn/pfndb.c"] = head + REGISTRY_TAMPER + sep + "    F8Tamper();\n" + body
    data, log = graded(tmp_path, tar_of(tmp_path, files), "--lab", "1", "--timeout-scale", "1", bound=240)
    t = by_name(data)
    assert t["01.list_totals"]["score"] == 0, t["01.list_totals"]["output"][:1500]
    out = t["01.list_totals"]["output"]
    assert "registry" in out or "STOP" in out, out[:1500]
    assert t["01.zeroed_pages"]["score"] == t["01.zeroed_pages"]["max_score"]
    if "registry" in out:
        assert data["extra_data"]["flagged"] and any("registry" in r for r in data["extra_data"]["review"])


def test_batch_flags_and_reports_similar_pairs(tmp_path):
    """What remains is found: a refused submission is flagged in the batch report, and two
    copies of the same code are reported as a similar pair (similarity-tester's sim_c)."""
    if shutil.which("sim_c") is None:
        pytest.skip("needs similarity-tester (sim_c)")
    body = "".join(f"static ULONG Helper{i}(ULONG x)\n{{\n    ULONG y = x * {i + 3};\n    for (ULONG k = 0; k < x; k++)\n"
                   f"        y += k ^ {i};\n    return y + x;\n}}\n" for i in range(12))
    copied = '#include "rtl.h"\n' + body + "NTSTATUS RtlLookupSymbol(ULONG_PTR A, PCSTR *N, PULONG_PTR O)\n{ " \
             "return Helper0(A) + Helper1((ULONG)(ULONG_PTR)N) + undeclared_name; }\n"
    subs = tmp_path / "subs"
    subs.mkdir()
    for st in ("alice", "bob"):
        (subs / st / LAB0).mkdir(parents=True)
        (subs / st / LAB0 / "symbols.c").write_text(copied)
    (subs / "carol" / LAB0).mkdir(parents=True)
    (subs / "carol" / LAB0 / "symbols.c").write_text('#include "rtl.h"\nvoid f(void) { __asm__("hlt"); }\n')
    out = tmp_path / "out"
    proc = subprocess.run([PYTHON, "-m", "grader", "batch", str(subs), "--out", str(out), "-j", "2", "--lab", "0"],
                          cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = (out / "report.html").read_text()
    assert "Similar submissions" in report
    sim = report.split("Similar submissions")[1]
    assert "alice" in sim and "bob" in sim and "carol" not in sim.split("</table>")[0]
    assert "flagged for review: carol" in proc.stdout
    assert "REVIEW" in report
