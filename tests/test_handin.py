"""make handin / python3 -m grader handin: exactly the student files plus a MANIFEST, stub
warnings, refusal of anything that is not a student file, and a tree without git."""
import hashlib
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from grader import handin
from kernel_harness import PYTHON, ROOT, clean_env, has_solutions


def student_tree(dest: Path, solved: bool) -> Path:
    """A student tree (no solutions/, no .git): the labs, with the reference files when solved."""
    for name in ("labs", "grader", "kernel", "tools"):
        shutil.copytree(Path(ROOT) / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(Path(ROOT) / "Makefile", dest / "Makefile")
    if solved:
        for lab in (Path(ROOT) / "solutions").iterdir():
            for f in lab.glob("*.c"):
                shutil.copy(f, dest / "labs" / lab.name / f.name)
    return dest


def run(tree, *args):
    return subprocess.run([PYTHON, "-m", "grader", "handin", *args], cwd=tree, env=clean_env(),
                          capture_output=True, text=True, timeout=60)


def test_packs_exactly_the_student_files_and_a_manifest(tmp_path):
    tree = student_tree(tmp_path / "t", solved=False)
    proc = run(tree)
    assert proc.returncode == 0, proc.stderr
    expected = sorted(handin.student_paths(str(tree)))
    with tarfile.open(tree / "handin.tar.gz") as tar:
        names = tar.getnames()
        assert names[0] == "MANIFEST"
        assert sorted(names[1:]) == expected
        assert all(m.isreg() for m in tar.getmembers())
        manifest = tar.extractfile("MANIFEST").read().decode().splitlines()
        rows = [l.split() for l in manifest if not l.startswith("#")]
        assert [r[1] for r in rows] == expected
        for lab, path, digest in rows:
            assert path.startswith(f"labs/{lab}/")
            assert digest == hashlib.sha256((tree / path).read_bytes()).hexdigest()
    # every lab is still the stub: one warning per lab
    for lab in handin.lab_files(str(tree)):
        assert f"lab {lab}: every file is still the stub" in proc.stderr


@pytest.mark.skipif(not has_solutions(), reason="needs solutions/")
def test_no_warning_for_finished_labs(tmp_path):
    tree = student_tree(tmp_path / "t", solved=True)
    proc = run(tree)
    assert proc.returncode == 0 and "warning" not in proc.stderr, proc.stderr


def test_partly_stubbed_lab_is_named(tmp_path):
    tree = student_tree(tmp_path / "t", solved=False)
    f = tree / "labs/00-bugcheck/symbols.c"
    f.write_text("/* symbols.c */\n#include \"rtl.h\"\n")
    proc = run(tree)
    assert "labs/00-bugcheck/stackwalk.c still has '/* LAB' stub markers" in proc.stderr


def test_refuses_anything_that_is_not_a_student_file(tmp_path):
    tree = student_tree(tmp_path / "t", solved=False)
    proc = run(tree, "Makefile")
    assert proc.returncode == 1 and "Makefile: not a student file" in proc.stderr
    assert not (tree / "handin.tar.gz").exists()
    proc = run(tree, "labs/00-bugcheck/tests/stack_tests.c")
    assert proc.returncode == 1 and "not a student file" in proc.stderr
    assert run(tree, "labs/00-bugcheck/symbols.c").returncode == 0


def test_make_handin_target(tmp_path):
    tree = student_tree(tmp_path / "t", solved=False)
    proc = subprocess.run(["make", "--no-print-directory", "handin"], cwd=tree, env=clean_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tree / "handin.tar.gz").is_file()


def test_stub_marker():
    assert handin.is_stub(b"x\n    /* LAB 01: fill in */\n")
    assert not handin.is_stub(b"/* lab 01 done */\n")
