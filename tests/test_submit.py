"""grader submit: the static check rule by rule, safe unpacking and the choice of student files
(fast, no boot), then end to end: the reference solutions packed by `make handin` in a scratch
student tree score full marks, the stubs score zero."""
import io
import json
import os
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from grader import handin, staticcheck, submit
from kernel_harness import PYTHON, ROOT, clean_env, has_solutions
from test_handin import student_tree

LAB0 = "labs/00-bugcheck"


def check(tmp_path, text, rel=f"{LAB0}/symbols.c"):
    f = tmp_path / "f.c"
    f.write_text(text)
    return staticcheck.check_files(ROOT, {rel: str(f)})


def test_static_check_accepts_stubs_and_solutions():
    files = staticcheck.student_files(ROOT)
    assert staticcheck.check_files(ROOT, files) == []
    if has_solutions():
        sols = {rel: os.path.join(ROOT, rel.replace("labs/", "solutions/", 1)) for rel in files}
        sols = {k: v for k, v in sols.items() if os.path.exists(v)}
        assert staticcheck.check_files(ROOT, sols) == []


@pytest.mark.parametrize("code, why", [
    ('#include "hal.h"\nvoid f(void) { HalExitQemu(0x10); }\n', "uses HalExitQemu"),
    ('void f(void) { char b[9]; HalReadFirmwareConfigFile("opt/ntlab/auth", b, 9); }\n',
     "uses HalReadFirmwareConfigFile"),
    ('void f(void) { __asm__ volatile("outl %0, %1" :: "a"(0x10), "Nd"(0xf4)); }\n',
     "port I/O (outl) on the isa-debug-exit port 0xF4"),
    ('void f(void) { unsigned char v; asm("inb %1, %0" : "=a"(v) : "Nd"(0x511)); }\n',
     "port I/O (inb) on the fw_cfg data port 0x511"),
    ('#include "arch.h"\nvoid f(void) { __outword(0x510, 0x19); }\n', "uses __outword"),
    ('extern unsigned char KtpAuthKey[32];\n', "uses KtpAuthKey"),
    ('void f(void) { KtAuthTestLine("x", 1); }\n', "uses KtAuthTestLine"),
    ('#include "../../kernel/ktest/runner.c"\n', "'..' are not allowed"),
    ('#include "/etc/passwd"\n', "absolute paths"),
    ('#include <stdio.h>\n', "only kernel/include headers"),
    ('#define X "hal.h"\n#include X\n', "with a literal name"),
    ('#include "nosuch.h"\n', "not a header of kernel/include"),
    ('KTEST("rtl.fake", Fake) { }\n', "registers a ktest"),
    ('static int x __attribute__((section(".ktests")));\n', "__attribute__((section))"),
    ('#define KeBugCheckEx(a, b, c, d, e) ((void)0)\n', "redefines a framework macro") if False else
    ('#undef NT_SUCCESS\n', "redefines a framework macro"),
    ('void DbgPrint(void) { }\n', "defines DbgPrint, which the framework already defines"),
    ('void f(void) { asm(".incbin \\"/etc/shadow\\""); }\n', "directive .incbin"),
    ('#pragma push_macro("x")\n', "preprocessor directive is not allowed"),
    ('#include "ktest.h"\nvoid f(void) { KTEST_CONTEXT c = {0}; c.Name = "ke.page_fault"; '
     'KtValue(&c, "backtrace", "?"); }\n', "uses KtValue"),
    ('#define J(a, b) a##b\nvoid f(void) { J(HalExit, Qemu)(0x10); }\n', "token pasting"),
])
def test_static_check_refuses(tmp_path, code, why):
    problems = check(tmp_path, code)
    assert problems, code
    assert any(why in p for p in problems), problems
    assert all(p.startswith(f"{LAB0}/symbols.c:") for p in problems)


def test_static_check_ignores_comments_and_strings(tmp_path):
    text = ('#include "rtl.h"\n/* HalExitQemu(0x10); __asm__("outb") */\n// KtpAuthKey\n'
            'void f(void) { DbgPrint("HalExitQemu KtpAuthKey\\n"); __asm__ volatile("cli; int3"); }\n')
    assert check(tmp_path, text) == []


def test_static_check_calls_are_not_definitions(tmp_path):
    text = ('#include "rtl.h"\n#include "ke.h"\nstatic ULONG Helper(void)\n{\n    if (DbgPrint("x")) {\n'
            '        KeBugCheckEx(0x4E, 1, 2, 3, 4);\n    }\n    return 0;\n}\n')
    assert check(tmp_path, text) == []


def test_static_check_line_numbers(tmp_path):
    problems = check(tmp_path, '#include "rtl.h"\n\n/* x\n y */\nvoid f(void)\n{\n    HalExitQemu(1);\n}\n')
    assert problems[0].startswith(f"{LAB0}/symbols.c:7: uses HalExitQemu")


def test_unpack_formats_and_selection(tmp_path):
    students = handin.student_paths(ROOT)
    # a whole tree inside a top folder, in a zip
    z = tmp_path / "tree.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("ntlab/labs/00-bugcheck/symbols.c", "a")
        f.writestr("ntlab/kernel/ke/init.c", "evil")
        f.writestr("ntlab/labs/00-bugcheck/tests/stack_tests.c", "evil")
    files = submit.unpack(str(z), str(tmp_path / "u1"))
    chosen, notes = submit.select_student_files(files, str(tmp_path / "u1"), students)
    assert list(chosen) == [f"{LAB0}/symbols.c"]
    assert "ignored ntlab/kernel/ke/init.c: not a student file" in notes
    # bare files by unambiguous name
    d = tmp_path / "bare"
    d.mkdir()
    (d / "pfndb.c").write_text("b")
    (d / "notes.txt").write_text("c")
    files = submit.unpack(str(d), str(tmp_path / "u2"))
    chosen, notes = submit.select_student_files(files, str(tmp_path / "u2"), students)
    assert list(chosen) == ["labs/01-pfn/pfndb.c"]
    # a folder holding one archive (Gradescope's upload of handin.tar.gz) is that archive
    up = tmp_path / "upload"
    up.mkdir()
    with tarfile.open(up / "handin.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo(f"{LAB0}/stackwalk.c")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    assert submit.unpack(str(up), str(tmp_path / "u3")) == [f"{LAB0}/stackwalk.c"]


def test_unpack_limits(tmp_path, monkeypatch):
    monkeypatch.setattr(submit, "MAX_FILE", 100)
    monkeypatch.setattr(submit, "MAX_TOTAL", 150)
    d = tmp_path / "big"
    d.mkdir()
    (d / "a.c").write_bytes(b"x" * 101)
    with pytest.raises(submit.SubmissionError, match="at most 100 per file"):
        submit.unpack(str(d), str(tmp_path / "u"))
    (d / "a.c").write_bytes(b"x" * 80)
    (d / "b.c").write_bytes(b"x" * 80)
    with pytest.raises(submit.SubmissionError, match="more than 150 bytes"):
        submit.unpack(str(d), str(tmp_path / "u2"))
    (d / "b.c").unlink()
    os.symlink("/etc/passwd", d / "c.c")
    with pytest.raises(submit.SubmissionError, match="symbolic link"):
        submit.unpack(str(d), str(tmp_path / "u3"))
    (tmp_path / "x.txt").write_text("plain text")
    with pytest.raises(submit.SubmissionError, match="not a .tar.gz"):
        submit.unpack(str(tmp_path / "x.txt"), str(tmp_path / "u4"))


def test_pristine_tree_has_hidden_tests_but_no_solutions():
    files = submit.tree_files(ROOT)
    assert "Makefile" in files and "grader/plugin.py" in files
    sol = [f for f in files if f.startswith("solutions/")]
    assert all(f.split("/")[2] == "hidden" for f in sol)
    if has_solutions():
        assert any(f.endswith("checkpoints.toml") for f in sol)
    assert not any(f.startswith("build/") for f in files)


def grade(sub, out, *extra):
    proc = subprocess.run([PYTHON, "-m", "grader", "submit", str(sub), "--out", str(out), "--seed", "5", "--quiet",
                           *extra], cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    return json.loads((Path(out) / "results.json").read_text())


@pytest.mark.skipif(not has_solutions() or shutil.which("qemu-system-x86_64") is None,
                    reason="needs solutions/ and QEMU")
def test_reference_handin_scores_full_marks(tmp_path):
    tree = student_tree(tmp_path / "student", solved=True)
    proc = subprocess.run(["make", "--no-print-directory", "handin"], cwd=tree, env=clean_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    data = grade(tree / "handin.tar.gz", tmp_path / "out")
    failed = [t["name"] + "\n" + t["output"][:600] for t in data["tests"] if t["status"] != "passed"]
    assert not failed, "\n".join(failed)
    assert data["score"] == sum(t["max_score"] for t in data["tests"]) > 0
    assert any(t["visibility"] == "after_published" for t in data["tests"])
    junit = (tmp_path / "out" / "junit.xml").read_text()
    assert 'failures="0"' in junit and junit.count("<testcase") == len(data["tests"])
    assert "sandbox:" in (tmp_path / "out" / "grade.log").read_text()


@pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None, reason="needs QEMU")
def test_stubs_score_zero(tmp_path):
    z = tmp_path / "stubs.zip"
    with zipfile.ZipFile(z, "w") as f:
        for rel in handin.student_paths(ROOT):
            f.write(os.path.join(ROOT, rel), rel)
    data = grade(z, tmp_path / "out")
    assert data["score"] == 0
    assert all(t["status"] == "failed" for t in data["tests"])
    assert any("not implemented" in t["output"] for t in data["tests"])


@pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None, reason="needs QEMU")
def test_limits_only_fallback(tmp_path):
    """Where bwrap cannot be used (NTLAB_SANDBOX=none stands for a container), the grade still
    runs, under the resource limits, and the log says so."""
    sub = tmp_path / "sub" / "labs" / "00-bugcheck"
    sub.mkdir(parents=True)
    src = Path(ROOT) / ("solutions" if has_solutions() else "labs") / "00-bugcheck"
    for f in ("stackwalk.c", "symbols.c"):
        shutil.copy(src / f, sub / f)
    env = {**clean_env(), "NTLAB_SANDBOX": "none"}
    proc = subprocess.run([PYTHON, "-m", "grader", "submit", str(tmp_path / "sub"), "--out", str(tmp_path / "out"),
                           "--lab", "0", "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    log = (tmp_path / "out" / "grade.log").read_text()
    assert "sandbox: limits only" in log and "limits: AS" in log
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    if has_solutions():
        assert data["score"] == sum(t["max_score"] for t in data["tests"]) > 0
