"""The course policy for released labs (course.toml, grader/policy.py), end to end as the
lab 03 student of issue 9 meets it: a student tree with labs 00-02 released (make dist
RELEASE=0-2), lab 03 done and labs 00-02 left as stubs, `make grade SOL=0-2 LAB=3`,
`make handin`, then `grader submit` in the instructor tree: full marks for lab 03 under the
policy "released"; under "own", the points the student's own labs earn, with the reason."""
import json
import re
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from grader import labconfig, policy
from kernel_harness import PYTHON, ROOT, clean_env, has_solutions

needs_all = pytest.mark.skipif(not has_solutions() or shutil.which("qemu-system-x86_64") is None,
                               reason="needs solutions/ and QEMU")


def write_course(path: Path, released: str, default: str = "released", per_lab: dict | None = None) -> Path:
    lines = ["[release]", f'labs = "{released}"', "[grading]", f'default = "{default}"', "[grading.labs]"]
    lines += [f'"{k}" = "{v}"' for k, v in (per_lab or {}).items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_policy_file_rules(tmp_path):
    p = policy.load(ROOT, str(write_course(tmp_path / "c.toml", "0-2", per_lab={"2": "own"})))
    assert p.released == [0, 1, 2]
    assert p.sol_for(3) == [0, 1, 2] and p.sol_for(2) == [] and p.sol_for(1) == [0] and p.sol_for(0) == []
    assert p.groups([0, 1, 2, 3], ROOT) == [("none", [0, 2]), ("0", [1]), ("0-2", [3])]
    text = p.stub_consequence(3, {2}, ROOT)
    assert "released reference" in text and "costs lab 03-pool nothing" in text
    own = p.stub_consequence(2, {0, 1}, ROOT)
    assert 'course policy "own"' in own and "finish labs 00, 01 first" in own
    assert p.stub_consequence(3, set(), ROOT) is None
    # No course file: nothing released, every lab on the student's own labs.
    bare = policy.load(str(tmp_path))
    assert bare.released == [] and bare.sol_for(3) == []


@pytest.mark.parametrize("text, why", [
    ('[release]\nlabs = "0-99"\n', "there is no lab "),
    ('[release]\nlabs = 2\n', "must be a string"),
    ('[grading]\ndefault = "mine"\n', 'use "released" or "own"'),
    ('[grading.labs]\n"x" = "own"\n', "is not a lab number"),
    ('[releases]\nlabs = "0"\n', "unknown table"),
    ('[release\n', "cannot read"),
])
def test_bad_course_file_is_a_clear_error(tmp_path, text, why):
    f = tmp_path / "course.toml"
    f.write_text(text)
    with pytest.raises(policy.CourseError) as e:
        policy.load(ROOT, str(f))
    assert why in str(e.value) and "course.toml" in str(e.value)


def _submit(handin: Path, out: Path, course: Path, *extra) -> dict:
    proc = subprocess.run([PYTHON, "-m", "grader", "submit", str(handin), "--out", str(out), "--seed", "7",
                           "--quiet", "--course", str(course), *extra], cwd=ROOT, env=clean_env(),
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    return json.loads((out / "results.json").read_text())


def _lab(data: dict, n: int) -> list[dict]:
    return [t for t in data["tests"] if t["number"].startswith(f"{n:02d}.")]


@needs_all
def test_lab03_student_end_to_end(tmp_path):
    # The student tree, labs 00-02 released; the student finishes lab 03 only.
    dist = tmp_path / "dist"
    p = subprocess.run([PYTHON, "tools/dist.py", "--release", "0-2", "--out", str(dist)], cwd=ROOT,
                       env=clean_env(), capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    tree = dist / "ntlab"
    assert 'labs = "0-2"' in (tree / "course.toml").read_text()
    for f in (Path(ROOT) / "solutions" / "03-pool").glob("*.c"):
        shutil.copy(f, tree / "labs" / "03-pool" / f.name)
    # The framework's objects from this tree's build/none, only those whose every source and
    # header is the same in the student tree (as the pipeline seeds a submission): the student
    # tree compiles its lab files and links instead of the whole kernel (tests/test_dist.py
    # builds a student tree from nothing).
    from grader import build as gb
    gb.seed_tree(ROOT, str(tree))
    # As handout 03 says: grade lab 03 on the released labs 00-02.
    g = subprocess.run(["make", "--no-print-directory", "grade", "SOL=0-2", "LAB=3", "SEED=7"], cwd=tree,
                       env=clean_env(), capture_output=True, text=True, timeout=600)
    assert g.returncode == 0, g.stdout[-3000:]
    grades = json.loads((tree / "build" / "grades.json").read_text())
    lab3_public = sum(c.points for lab in labconfig.load_labs(ROOT) if lab.number == 3
                      for c in lab.checkpoints if not c.hidden)
    assert grades["03"]["sol"] == "0-2" and grades["03"]["score"] == grades["03"]["max"] == lab3_public
    h = subprocess.run(["make", "--no-print-directory", "handin"], cwd=tree, env=clean_env(),
                       capture_output=True, text=True, timeout=120)
    assert h.returncode == 0, h.stderr
    assert "lab 03-pool builds on labs 00-02, which are still stubs" in h.stderr, h.stderr
    assert "costs lab 03-pool nothing" in h.stderr
    with tarfile.open(tree / "handin.tar.gz") as t:
        manifest = t.extractfile("MANIFEST").read().decode()
    assert "# course: released 0-2" in manifest
    assert f"# lab 03-pool: worked on; graded with SOL=0-2 (released); last graded with SOL=0-2: {lab3_public}/{lab3_public}" in manifest

    # The instructor grades it with the same policy: lab 03 gets full marks, labs 00-02 (stubs) none.
    released = write_course(tmp_path / "released.toml", "0-2")
    data = _submit(tree / "handin.tar.gz", tmp_path / "out", released)
    lab3 = _lab(data, 3)
    public = [t for t in lab3 if t["visibility"] == "visible"]
    assert sum(t["score"] for t in public) == sum(t["max_score"] for t in public) == lab3_public
    assert sum(t["score"] for t in lab3) == sum(t["max_score"] for t in lab3), \
        "\n".join(t["output"][:800] for t in lab3 if t["status"] != "passed")     # hidden ones too
    assert all(t["score"] == 0 for n in (0, 1, 2) for t in _lab(data, n))
    assert data["score"] == sum(t["max_score"] for t in lab3)
    assert "lab 03-pool is graded on the released reference of labs 00-02" in data["output"]
    log = (tmp_path / "out" / "grade.log").read_text()
    for labs, sol in (("00", "none"), ("01", "0"), ("02", "0-1"), ("03", "0-2")):   # one build per selection
        assert re.search(rf"==== labs {labs}(, \d\d)*: SOL={sol} ====", log), log[:2000]   # later labs share 0-2
    junit = (tmp_path / "out" / "junit.xml").read_text()
    assert junit.count("<testcase") == len(data["tests"])

    # Policy "own" for lab 03: the points the student's own labs 00-02 (stubs) give, and why.
    own = write_course(tmp_path / "own.toml", "0-2", per_lab={"3": "own"})
    data = _submit(tree / "handin.tar.gz", tmp_path / "own", own, "--lab", "3")
    student = subprocess.run(["make", "--no-print-directory", "grade", "LAB=3", "SEED=7"], cwd=tree,
                             env=clean_env(), capture_output=True, text=True, timeout=600)
    mine = json.loads((tree / "build" / "results.json").read_text())
    public = sum(t["score"] for t in data["tests"] if t["visibility"] == "visible")
    assert public == mine["score"] < lab3_public, (public, mine["score"])
    failed = [t for t in data["tests"] if t["status"] != "passed"]
    assert failed and all('course policy "own"' in t["output"] and "finish labs 00-02 first" in t["output"]
                          for t in failed), failed[0]["output"][:1000]
    assert student.returncode != 0


def test_autograder_bundle_and_pristine_tree_carry_the_released_reference(tmp_path):
    from grader import submit
    from kernel_harness import copy_tree
    if not has_solutions():
        pytest.skip("needs solutions/")
    tree = Path(copy_tree(str(tmp_path / "t"), with_build=None))
    # The pristine tree comes from a commit (grader/submit.py): make the copy a repository.
    for cmd in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "t"]):
        subprocess.run(["git", "-C", str(tree)] + cmd, check=True, capture_output=True)
    files = submit.tree_files(str(tree))
    assert not any(f.startswith("solutions/") and "/hidden/" not in f for f in files)
    write_course(tree / "course.toml", "0-1")
    files = submit.tree_files(str(tree))
    released = sorted(f for f in files if f.startswith("solutions/") and "/hidden/" not in f)
    assert released and all(f.split("/")[1] in ("00-bugcheck", "01-pfn") for f in released)
    assert "solutions/01-pfn/pfnalloc.c" in released
    # A grade with SOL=0-2 gets lab 02's reference too, never lab 03's.
    files = submit.tree_files(str(tree), "0-2")
    assert "solutions/02-paging/map.c" in files and "solutions/03-pool/pool.c" not in files
