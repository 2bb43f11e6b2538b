"""The pytest plugin end to end (pytest -p grader.plugin ... labs) on a fake labs tree with
a fake 'qemu' script and NTLAB_NO_BUILD=1, with and without xdist. Each case runs pytest in
a subprocess, as the Makefile does."""
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
T = Path(__file__).parent / "transcripts"

LAB0 = """
[lab]
number = 0
title = "Tools, traps and the bugcheck"
files = ["stack.c"]

[[checkpoint]]
name = "stack_chain"
title = "Frames in order"
points = 10
ktests = ["pfn.totals", "pfn.zeroed"]

[[checkpoint]]
name = "double_free"
title = "Double free bugchecks"
points = 5
ktests = ["pfn.double_free"]
expect = "stop"
stop_code = 0x4E
"""

LAB1 = """
[lab]
number = 1
title = "Physical memory and the PFN database"
files = ["pfnlist.c"]

[[checkpoint]]
name = "pfn_totals"
title = "Every usable frame is on exactly one list"
points = 10
ktests = ["pfn.totals"]
"""

HIDDEN1 = """
[[checkpoint]]
name = "secret"
title = "Hidden"
points = 4
ktests = ["pfn.secret"]
"""

FAKE_QEMU = r"""#!/bin/sh
# fake qemu: prints $FAKE_DIR/<ktests>.txt and exits with $FAKE_DIR/<ktests>.code
for a in "$@"; do
  case "$a" in
    name=opt/ntlab/cmdline,string=*)
      kt=${a#*string=ktest=}; seed=${kt##* seed=}; kt=${kt%% seed=*};;
  esac
done
key=$(printf %s "$kt" | sed 's/,,/+/g')
echo "$seed" >> "$FAKE_DIR/seeds.log"
cat "$FAKE_DIR/$key.txt"
exit $(cat "$FAKE_DIR/$key.code")
"""


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "labs" / "00-tools").mkdir(parents=True)
    (tmp_path / "labs" / "01-pfn").mkdir(parents=True)
    (tmp_path / "labs" / "00-tools" / "lab.toml").write_text(LAB0)
    (tmp_path / "labs" / "01-pfn" / "lab.toml").write_text(LAB1)
    (tmp_path / "solutions" / "00-tools").mkdir(parents=True)
    (tmp_path / "solutions" / "01-pfn" / "hidden").mkdir(parents=True)
    (tmp_path / "solutions" / "01-pfn" / "hidden" / "checkpoints.toml").write_text(HIDDEN1)
    (tmp_path / "build" / "all").mkdir(parents=True)
    (tmp_path / "build" / "all" / "ntlab.iso").write_bytes(b"fake iso")
    fake = tmp_path / "fake"
    fake.mkdir()
    for key, src, code in [("pfn.totals+pfn.zeroed", "pass.txt", 33),
                           ("pfn.double_free", "expected_stop.txt", 37),
                           ("pfn.totals", "failed_check.txt", 35),
                           ("pfn.secret", "pass.txt", 33)]:
        text = (T / src).read_bytes()
        if key == "pfn.secret":
            text = b"NTLAB BOOT 1 all\nKTEST BEGIN pfn.secret\nKTEST END pfn.secret PASS\nKTEST DONE passed=1 failed=0\n"
        (fake / f"{key}.txt").write_bytes(text)
        (fake / f"{key}.code").write_text(str(code))
    q = fake / "qemu"
    q.write_text(FAKE_QEMU)
    q.chmod(q.stat().st_mode | stat.S_IXUSR)
    return tmp_path


def run(tree, *args, plugin=True, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k not in ("SEED", "SOL", "NTLAB_TIMEOUT_SCALE", "NTLAB_KVM")}
    env.update(PYTHONPATH=str(REPO), NTLAB_NO_BUILD="1", NTLAB_QEMU=str(tree / "fake" / "qemu"),
               FAKE_DIR=str(tree / "fake"))
    env.update(env_extra or {})
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
    if plugin:
        cmd += ["-p", "grader.plugin", f"--ntlab-root={tree}"]
    cmd += list(args) + ["labs"]
    p = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


def results(tree):
    return json.loads((tree / "build" / "results.json").read_text())


def check_full_results(data):
    assert data["score"] == 19
    nums = [(t["number"], t["status"], t["score"], t["max_score"], t["visibility"]) for t in data["tests"]]
    assert nums == [("00.1", "passed", 10, 10, "visible"), ("00.2", "passed", 5, 5, "visible"),
                    ("01.1", "failed", 0, 10, "visible"), ("01.2", "passed", 4, 4, "after_published")]
    assert data["tests"][2]["name"] == "01.pfn_totals: Every usable frame is on exactly one list"
    assert "every_frame_once FAIL" in data["tests"][2]["output"]
    assert "total 19/29 (65%)" in data["output"]


def test_full_grade_serial(tree):
    code, out = run(tree, "--ntlab-sol=all", "--ntlab-seed=42", "-n", "0")
    assert code == 1, out
    assert "ntlab: seed 42 (SEED=42 to repeat)" in out
    assert "ntlab score (SOL=all, seed 42)" in out and "total 19/29 (65%)" in out
    assert "KTEST CHECK pfn.totals every_frame_once FAIL" in out
    assert "make grade SOL=all LAB=1 CHECKPOINT=pfn_totals SEED=42" in out
    assert "Traceback" not in out and "grader/plugin.py" not in out
    check_full_results(results(tree))
    assert set((tree / "fake" / "seeds.log").read_text().split()) == {"42"}


def test_full_grade_xdist_random_seed(tree):
    code, out = run(tree, "--ntlab-sol=all", "-n", "2", f"--ntlab-results={tree / 'r.json'}")
    assert code == 1, out
    seeds = set((tree / "fake" / "seeds.log").read_text().split())
    assert len(seeds) == 1                                # one seed shared by every worker
    seed = seeds.pop()
    assert f"ntlab: seed {seed} (SEED={seed} to repeat)" in out
    check_full_results(json.loads((tree / "r.json").read_text()))


def test_filters_and_env_seed(tree):
    code, out = run(tree, "--ntlab-sol=all", "--ntlab-lab=00", "--ntlab-checkpoint=double_free",
                    env_extra={"SEED": "7"})
    assert code == 0, out
    data = results(tree)
    assert [t["number"] for t in data["tests"]] == ["00.2"] and data["score"] == 5
    assert "ntlab: seed 7" in out
    code, out = run(tree, "--ntlab-sol=all", "--ntlab-seed=1", "-k", "secret", "--junitxml=j.xml")
    assert code == 0, out
    assert [t["number"] for t in results(tree)["tests"]] == ["01.2"]
    assert "01.secret" in (tree / "j.xml").read_text()


def test_exitfirst_marks_the_rest_not_run(tree):
    (tree / "labs" / "00-tools" / "lab.toml").write_text(LAB0.replace('"pfn.totals", "pfn.zeroed"', '"pfn.totals"'))
    code, out = run(tree, "--ntlab-sol=all", "--ntlab-seed=1", "-x")
    assert code == 1, out
    data = results(tree)
    assert [(t["number"], t["status"]) for t in data["tests"]] == [
        ("00.1", "failed"), ("00.2", "failed"), ("01.1", "failed"), ("01.2", "failed")]
    assert "not run" in data["tests"][1]["output"]


def test_malformed_lab_is_a_clear_error(tree):
    (tree / "labs" / "01-pfn" / "lab.toml").write_text(LAB1.replace("points = 10", 'points = "ten"'))
    code, out = run(tree, "--ntlab-sol=all", "--ntlab-seed=1")
    assert code != 0
    assert "labs/01-pfn/lab.toml: checkpoint #1 ('pfn_totals'): key 'points' must be an integer > 0" in out
    assert "Traceback" not in out


def test_bad_options(tree):
    code, out = run(tree, "--ntlab-sol=9")
    assert code != 0 and "no lab 9" in out and "Traceback" not in out
    code, out = run(tree, "--ntlab-sol=all", "--ntlab-lab=x")
    assert code != 0 and "--ntlab-lab" in out


def test_filters_that_match_nothing_say_what_exists(tree):
    code, out = run(tree, "--ntlab-sol=all", "--ntlab-lab=5", "-n", "2")
    assert code != 0 and "there is no lab 5 (labs in this tree: 0, 1)" in out, out
    code, out = run(tree, "--ntlab-sol=all", "--ntlab-lab=1", "--ntlab-checkpoint=nope")
    assert code != 0 and "no checkpoint named 'nope' in lab 1 (checkpoints: pfn_totals, secret)" in out, out


def test_not_collected_without_plugin(tree):
    code, out = run(tree, plugin=False)
    assert code == 5, out          # no tests collected
