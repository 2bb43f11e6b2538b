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
    ('void f(void) { __asm__ volatile("outl %0, %1" :: "a"(0x10), "Nd"(0xf4)); }\n', "assembly (__asm__)"),
    ('void f(void) { __asm__ volatile(".byte 0xe6, 0xf4"); }\n', "assembly (__asm__)"),
    ('#include "arch.h"\nvoid f(void) { __outword(0x510, 0x19); }\n', "uses __outword"),
    ('extern unsigned char KtpAuthKey[32];\n', "uses KtpAuthKey"),
    ('void f(void) { KtAuthTestLine(0, "x", 1); }\n', "uses KtAuthTestLine"),
    ('#include "../../kernel/ktest/runner.c"\n', "includes"),
    ('%:include "../../kernel/ktest/runner.c"\n', "includes"),
    ('#include "/etc/passwd"\n', "includes"),
    ('#include <stdio.h>\n', "includes"),
    ('#define X "../../kernel/ktest/" "runner.c"\n#include "../../kernel/ktest/runner.c"\n', "includes"),
    ('#include "ktest.h"\nKTEST("rtl.fake", Fake) { }\n', "__attribute__((section))"),
    ('static int x __attribute__((\n  section(".ktests")));\n', "__attribute__((section))"),
    ('int f(void) __attribute__((alias("DbgPrint")));\n', "__attribute__((alias))"),
    ('void f(void) { asm(".incbin \\"/etc/sh" "adow\\""); }\n', "assembly (asm)"),
    ('#pragma redefine_extname f HalExitQemu\n', "#pragma"),
    ('void f(void) { ((void (*)(void))0xffffffff80100000ULL)(); }\n', "casts an integer or data pointer"),
    ('void g(void *p) { void (*h)(void) = p; h(); }\n', "function pointer initialised"),
    ('#include "ktest.h"\nvoid f(void) { KTEST_CONTEXT c = {0}; c.Name = "ke.page_fault"; '
     'KtValue(&c, "backtrace", "?"); }\n', "uses KtValue"),
])
def test_static_check_refuses(tmp_path, code, why):
    problems = check(tmp_path, '#include "rtl.h"\n' + code)
    assert problems, code
    assert any(why in p for p in problems), problems
    assert all(p.startswith(f"{LAB0}/symbols.c:") for p in problems)


def test_static_check_ignores_comments_and_strings(tmp_path):
    text = ('#include "rtl.h"\n/* HalExitQemu(0x10); __asm__("outb") */\n// KtpAuthKey\n'
            'void f(void) { DbgPrint("HalExitQemu KtpAuthKey __asm__ %s\\n", "x"); }\n')
    assert check(tmp_path, text) == []


def test_static_check_allows_function_pointers_to_functions(tmp_path):
    text = ('#include "rtl.h"\nstatic void g(void) { }\nvoid f(void) { void (*h)(void) = g; h = &g; h(); '
            '((void (*)(void))g)(); }\n')
    assert check(tmp_path, text) == []


def test_static_check_line_numbers(tmp_path):
    problems = check(tmp_path, '#include "rtl.h"\n\n/* x\n y */\nvoid f(void)\n{\n    HalExitQemu(1);\n}\n')
    assert problems[0].startswith(f"{LAB0}/symbols.c:7: uses HalExitQemu")


def test_static_check_is_linear(tmp_path):
    """Inputs that made the old regular expressions backtrack for ever: checked in well under a
    second each (the tokenizer and the LALR parser are linear)."""
    import time
    for text in ("void f(" + "a," * 3000 + "\n", "int x = " + "(" * 800 + "1" + ")" * 800 + ";\n",
                 "/*" + " " * 2000 + "\n" + "a" * 2000 + "\n"):
        start = time.monotonic()
        check(tmp_path, '#include "rtl.h"\n' + text)
        assert time.monotonic() - start < 5


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
    with pytest.raises(submit.SubmissionError, match="not a gzip-compressed tar"):
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


def test_no_isolation_refuses_with_the_fix(tmp_path):
    """Where bwrap cannot be used (NTLAB_SANDBOX=none stands for a container that forbids
    namespaces), grading refuses and prints the command that fixes it; nothing is graded."""
    env = {**clean_env(), "NTLAB_SANDBOX": "none"}
    proc = subprocess.run([PYTHON, "-m", "grader", "submit", str(tmp_path), "--out", str(tmp_path / "out"),
                           "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "refusing to grade" in proc.stderr and "fix:" in proc.stderr and "--unconfined" in proc.stderr
    assert not (tmp_path / "out" / "results.json").exists()


def test_out_inside_the_repository_is_refused(tmp_path):
    proc = subprocess.run([PYTHON, "-m", "grader", "submit", str(tmp_path), "--out", "build/f8-out-inside",
                           "--quiet"], cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "inside the repository" in proc.stderr
    assert not os.path.exists(os.path.join(ROOT, "build", "f8-out-inside"))


@pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None, reason="needs QEMU")
def test_unconfined_is_explicit_and_marked(tmp_path):
    """--unconfined grades without bwrap, under the limits, as nobody, and says so everywhere."""
    sub = tmp_path / "sub" / "labs" / "00-bugcheck"
    sub.mkdir(parents=True)
    src = Path(ROOT) / ("solutions" if has_solutions() else "labs") / "00-bugcheck"
    for f in ("stackwalk.c", "symbols.c"):
        shutil.copy(src / f, sub / f)
    import tempfile
    work = tempfile.mkdtemp(prefix="ntlab-f8-", dir="/tmp")     # readable by nobody (pytest's is not)
    os.chmod(work, 0o755)
    env = {**clean_env(), "NTLAB_SANDBOX": "none"}
    try:
        proc = subprocess.run([PYTHON, "-m", "grader", "submit", str(tmp_path / "sub"), "--out",
                               str(tmp_path / "out"), "--work", work + "/w", "--lab", "0", "--quiet",
                               "--unconfined"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr
    log = (tmp_path / "out" / "grade.log").read_text()
    assert "UNCONFINED" in log and "limits: AS" in log
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["extra_data"]["unconfined"] is True and "unconfined" in data["output"]
    if has_solutions():
        assert data["score"] == sum(t["max_score"] for t in data["tests"]) > 0
