"""make autograder: the Gradescope bundle. Its contents (setup.sh and run_autograder at the
top, the tree without solutions/*.c but with the hidden checkpoints), and a simulated
Gradescope run: the zip unpacked into a temporary folder standing for /autograder
(NTLAB_AUTOGRADER_ROOT), run_autograder grading a submission into results/results.json."""
import json
import os
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest

from grader import handin
from kernel_harness import ROOT, clean_env, has_solutions


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("ag") / "autograder.zip"
    proc = subprocess.run(["make", "--no-print-directory", "autograder"], cwd=ROOT, env=clean_env(),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    shutil.copy(Path(ROOT) / "build" / "autograder.zip", out)
    return out


def test_bundle_contents(bundle):
    with zipfile.ZipFile(bundle) as z:
        names = z.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in z.infolist()}
        setup = z.read("setup.sh").decode()
    assert "setup.sh" in names and "run_autograder" in names
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    for pkg in ("qemu-system-x86", "grub-pc-bin", "grub-common", "xorriso", "mtools", "nasm", "gcc",
                "gcc-multilib", "make", "python3", "python3-pytest", "python3-pytest-xdist", "bubblewrap"):
        assert f" {pkg} " in setup.replace("\\\n", " ").replace("\n", " ")
    assert "ntlab/Makefile" in names and "ntlab/grader/submit.py" in names
    sol = [n for n in names if n.startswith("ntlab/solutions/")]
    assert all(n.split("/")[3] == "hidden" for n in sol), sol
    if has_solutions():
        assert any(n.endswith("hidden/checkpoints.toml") for n in sol)
    assert not any(n.startswith("ntlab/build/") or "/.git/" in n for n in names)


@pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None, reason="needs QEMU")
def test_simulated_gradescope_run(bundle, tmp_path):
    ag = tmp_path / "autograder"
    (ag / "source").mkdir(parents=True)
    with zipfile.ZipFile(bundle) as z:
        z.extractall(ag / "source")
    for name in ("setup.sh", "run_autograder"):
        p = ag / "source" / name
        p.chmod(p.stat().st_mode | stat.S_IXUSR)
    shutil.copy(ag / "source" / "run_autograder", ag / "run_autograder")
    # what setup.sh's last step does (build the framework once), from this tree's build cache
    if (Path(ROOT) / "build" / "none" / "ntlab.iso").exists():
        shutil.copytree(Path(ROOT) / "build" / "none", ag / "source" / "ntlab" / "build" / "none",
                        copy_function=shutil.copy2)
    # Gradescope puts the uploaded files in /autograder/submission: here the student uploaded
    # the reference solution of lab 00 (when available) and the stubs of the other labs.
    sub = ag / "submission"
    sub.mkdir()
    for rel in handin.student_paths(ROOT):
        src = Path(ROOT) / rel
        if rel.startswith("labs/00-") and has_solutions():
            src = Path(ROOT) / rel.replace("labs/", "solutions/", 1)
        shutil.copy(src, sub / os.path.basename(rel))
    env = {**clean_env(), "NTLAB_AUTOGRADER_ROOT": str(ag), "NTLAB_SUBMIT_ARGS": "--seed 3 --quiet"}
    proc = subprocess.run([str(ag / "run_autograder")], cwd=ag, env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((ag / "results" / "results.json").read_text())
    # Gradescope's schema
    assert isinstance(data["score"], (int, float)) and isinstance(data["tests"], list) and data["tests"]
    assert isinstance(data.get("execution_time", 0), int) and isinstance(data.get("output", ""), str)
    for t in data["tests"]:
        assert set(t) >= {"name", "number", "score", "max_score", "status", "output", "visibility"}
        assert t["status"] in ("passed", "failed") and 0 <= t["score"] <= t["max_score"]
        assert t["visibility"] in ("visible", "after_published")
    lab0 = [t for t in data["tests"] if t["number"].startswith("00.")]
    others = [t for t in data["tests"] if not t["number"].startswith("00.")]
    assert all(t["score"] == 0 for t in others)
    if has_solutions():
        assert all(t["status"] == "passed" for t in lab0), [t["output"][:300] for t in lab0]
        assert any(t["visibility"] == "after_published" for t in lab0)
        assert data["score"] == sum(t["max_score"] for t in lab0)
    assert (ag / "results" / "junit.xml").is_file() and (ag / "results" / "grade.log").is_file()


def test_run_autograder_always_writes_results(bundle, tmp_path):
    """A submission that is not an archive: still a valid results.json with score 0."""
    ag = tmp_path / "autograder"
    (ag / "source").mkdir(parents=True)
    with zipfile.ZipFile(bundle) as z:
        z.extractall(ag / "source")
    (ag / "source" / "run_autograder").chmod(0o755)
    (ag / "submission").mkdir()
    (ag / "submission" / "handin.tar.gz").write_text("not an archive")
    env = {**clean_env(), "NTLAB_AUTOGRADER_ROOT": str(ag), "NTLAB_SUBMIT_ARGS": "--quiet"}
    proc = subprocess.run([str(ag / "source" / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((ag / "results" / "results.json").read_text())
    assert data["score"] == 0 and data["tests"]
    assert "not a gzip-compressed tar" in data["tests"][0]["output"]
