"""make dist releases a student tree that builds and grades on its own: no hidden
checkpoints, no unreleased solution, no test that quotes solution code."""
import os
import subprocess
import sys

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
    # Nothing shipped names a hidden test or holds a hidden checkpoint's model.
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import dist
    from grader import labconfig
    hidden = dist.hidden_names(labconfig.load_labs(ROOT))
    assert hidden
    for base, _, names in os.walk(tree):
        for n in names:
            rel = os.path.relpath(os.path.join(base, n), tree)
            assert not rel.startswith("tests/mutations_lab"), rel
            if rel.startswith("handouts/"):
                continue
            try:
                text = open(os.path.join(base, n), encoding="utf-8").read()
            except UnicodeDecodeError:
                continue
            leaked = [h for h in hidden if __import__("re").search(
                r"(?<![\w.])" + __import__("re").escape(h) + r"(?![\w.])", text)]
            assert not leaked, f"{rel} names hidden tests {leaked}"

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


def test_student_readme_course_and_workflow(tmp_path):
    """make dist writes the student tree's own README, course.toml and GitHub Classroom workflow."""
    import yaml
    import tomllib
    out = tmp_path / "dist"
    p = subprocess.run([PYTHON, "tools/dist.py", "--release", "0-2", "--out", str(out)], cwd=ROOT,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    tree = out / "ntlab"
    readme = (tree / "README.md").read_text()
    assert "This tree is the instructor tree" not in readme and "make handin" in readme
    assert "make grade SOL=0-2 LAB=3" in readme and "released reference of labs 00-02" in readme
    for link in __import__("re").findall(r"\]\((handouts/[\w.-]+)\)", readme):
        assert (tree / link).is_file(), link
    course = tomllib.loads((tree / "course.toml").read_text())
    assert course["release"]["labs"] == "0-2"
    wf = yaml.safe_load((tree / ".github" / "workflows" / "classroom.yml").read_text())
    steps = wf["jobs"]["run-autograding-tests"]["steps"]
    graders = [s for s in steps if s.get("uses", "").startswith("education/autograding-command-grader")]
    reporter = [s for s in steps if s.get("uses", "").startswith("education/autograding-grading-reporter")]
    assert len(reporter) == 1 and "push" in wf["on"]
    assert reporter[0]["with"]["runners"].split(",") == [s["id"] for s in graders]
    sys.path.insert(0, ROOT)
    from grader import labconfig
    public = [cp for lab in labconfig.load_labs(str(tree)) for cp in lab.checkpoints]
    assert not any(cp.hidden for cp in public)
    assert sorted(s["with"]["max-score"] for s in graders) == sorted(cp.points for cp in public)
    for s, cp in zip(graders, public):
        cmd = s["with"]["command"]
        assert f"LAB={cp.lab} CHECKPOINT={cp.name}" in cmd and cmd.startswith("make --no-print-directory grade")
        assert ("SOL=" in cmd) == (cp.lab > 0), cmd          # labs 01-03 on the released reference
