"""The slicing meta-tests of DESIGN.md, for every lab N:
  - with the solutions of every lab but N, lab N's checkpoints all score zero;
  - with the solutions of labs 0..N (stubs after), every checkpoint of labs 0..N passes;
  - with SOL=all, every checkpoint of every lab passes.
Each selection is built once and boots only the checkpoints some assertion reads (the union
over the tests above), each alone on a fresh kernel, with the grader's own runner: the same
verdicts as a whole grade, without the boots nobody looks at."""
import functools

import pytest

from kernel_harness import ROOT, boot_checkpoints, has_solutions, lab_numbers, verdict_summary

pytestmark = pytest.mark.skipif(not has_solutions(), reason="needs the instructor tree (solutions/)")
LABS = lab_numbers() if has_solutions() else []


def sel(numbers):
    return ",".join(str(n) for n in numbers) if numbers else "none"


def needed() -> dict[str, set[int]]:
    """Selection -> the labs whose checkpoints some meta-test reads in it."""
    out: dict[str, set[int]] = {}
    for lab in LABS:
        out.setdefault(sel([n for n in LABS if n != lab]), set()).add(lab)
        out.setdefault(sel([n for n in LABS if n <= lab]), set()).update(n for n in LABS if n <= lab)
    out.setdefault(sel(LABS), set()).update(LABS)
    return out


@functools.lru_cache(maxsize=None)
def graded(sol) -> dict:
    labs = needed()[sol]
    return boot_checkpoints(ROOT, sol, lambda cp: cp.lab in labs)


def of_lab(verdicts, lab):
    return {cid: v for cid, v in verdicts.items() if int(cid.split(".")[0]) == lab}


@pytest.mark.parametrize("lab", LABS)
def test_stub_scores_zero(lab):
    others = [n for n in LABS if n != lab]
    verdicts = of_lab(graded(sel(others)), lab)
    assert verdicts, f"lab {lab} has no checkpoints"
    earned = {cid: v for cid, v in verdicts.items() if v.passed}
    assert not earned, f"lab {lab} stubbed, SOL={sel(others)}: free points\n{verdict_summary(earned)}"


@pytest.mark.parametrize("lab", LABS)
def test_prefix_passes(lab):
    prefix = [n for n in LABS if n <= lab]
    verdicts = graded(sel(prefix))
    failed = {cid: v for cid, v in verdicts.items() if int(cid.split(".")[0]) in prefix and not v.passed}
    assert not failed, f"SOL={sel(prefix)}: earlier labs must pass\n{verdict_summary(failed)}"


def test_all_scores_full_marks():
    verdicts = graded(sel(LABS))
    assert {int(cid.split(".")[0]) for cid in verdicts} == set(LABS)
    failed = {cid: v for cid, v in verdicts.items() if not v.passed}
    assert not failed, verdict_summary(failed)
