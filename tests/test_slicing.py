"""The slicing meta-tests of DESIGN.md, for every lab N:
  - with the solutions of every lab but N, lab N's checkpoints all score zero;
  - with the solutions of labs 0..N (stubs after), every checkpoint of labs 0..N passes;
  - with SOL=all, every checkpoint of every lab passes.
Each selection is graded once (all labs) and the answers are shared."""
import functools

import pytest

from kernel_harness import ROOT, by_lab, grade, has_solutions, lab_numbers, summary

pytestmark = pytest.mark.skipif(not has_solutions(), reason="needs the instructor tree (solutions/)")
LABS = lab_numbers() if has_solutions() else []


def sel(numbers):
    return ",".join(str(n) for n in numbers) if numbers else "none"


@functools.lru_cache(maxsize=None)
def graded(sol):
    data, proc = grade(ROOT, sol)
    return data, proc.stdout[-4000:]


@pytest.mark.parametrize("lab", LABS)
def test_stub_scores_zero(lab):
    others = [n for n in LABS if n != lab]
    data, out = graded(sel(others))
    tests = by_lab(data)[lab]
    earned = [t for t in tests if t["score"] > 0]
    assert not earned, f"lab {lab} stubbed, SOL={sel(others)}: free points\n{summary(earned)}"


@pytest.mark.parametrize("lab", LABS)
def test_prefix_passes(lab):
    prefix = [n for n in LABS if n <= lab]
    data, out = graded(sel(prefix))
    labs = by_lab(data)
    failed = [t for n in prefix for t in labs[n] if t["status"] != "passed"]
    assert not failed, f"SOL={sel(prefix)}: earlier labs must pass\n{summary(failed)}\n{out}"


def test_all_scores_full_marks():
    data, out = graded(sel(LABS))
    failed = [t for t in data["tests"] if t["status"] != "passed"]
    assert not failed, summary(failed) + out
    assert data["score"] == sum(t["max_score"] for t in data["tests"])
