"""make dist releases a student tree that builds and grades on its own: no hidden
checkpoints, no unreleased solution, no test that quotes solution code."""
import os
import subprocess

import pytest

from kernel_harness import PYTHON, ROOT, by_lab, grade, has_solutions

pytestmark = pytest.mark.skipif(not has_solutions(), reason="needs the instructor tree (solutions/)")


def test_student_tree_with_lab0_released(tmp_path):
    out = tmp_path / "dist"
    p = subprocess.run([PYTHON, "tools/dist.py", "--release", "0", "--out", str(out)], cwd=ROOT,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    tree = out / "ntlab"
    assert (out / "ntlab-student.tar.gz").is_file()
    assert sorted(os.listdir(tree / "solutions")) == ["00-bugcheck"]
    assert not (tree / "solutions" / "00-bugcheck" / "hidden").exists()
    assert not (tree / "tests" / "test_mutations.py").exists()

    # The stubs score zero, and there are no hidden checkpoints.
    data, _ = grade(str(tree), "none", lab=1)
    assert data["score"] == 0 and all(t["visibility"] == "visible" for t in data["tests"])
    # The released lab builds in: lab 00 passes, and lab 01 can be graded on top of it.
    data, proc = grade(str(tree), "0")
    labs = by_lab(data)
    assert all(t["status"] == "passed" for t in labs[0]), proc.stdout[-3000:]
    assert all(t["score"] == 0 for t in labs[1])
    # A lab that was not released cannot be selected.
    p = subprocess.run(["make", "--no-print-directory", "SOL=1", "iso"], cwd=tree, capture_output=True, text=True)
    assert p.returncode != 0 and "does not have" in (p.stdout + p.stderr)
