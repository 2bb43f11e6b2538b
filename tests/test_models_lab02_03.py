"""grader/models/lab02.py and lab03.py on real serial output of the reference (seed 1): each
model agrees at the recorded seed, and names the clause, the expected and the seen value
when a record is broken or the run is judged against another seed."""
from pathlib import Path

import pytest

from grader import verdict as v
from grader.labconfig import Checkpoint
from grader.models import lab02, lab03

T = Path(__file__).parent / "transcripts"
LAB03_HIDDEN = str(Path(__file__).parent.parent / "solutions" / "03-pool" / "hidden" / "models" / "lab03.py")


def cp(ktests, name, lab, **kw):
    return Checkpoint(lab=lab, name=name, title=name, points=10, ktests=tuple(ktests), **kw)


def judge(data, status, checkpoint, seed):
    data = (T / data).read_bytes() if isinstance(data, str) else data
    return v.judge(data, status, False, False, checkpoint, sol="all", seed=seed, timeout=10)


def values(name):
    out = []
    for line in (T / name).read_text().splitlines():
        if line.startswith("KTEST VALUE "):
            _, _, test, key, value = line.split(" ", 4)
            out.append((test, key, value))
    return out


def test_lab02_translate_model():
    tr = cp(("paging.translate",), "translate", 2, model="lab02")
    assert judge("lab02_translate_seed1.txt", 33, tr, seed=1).passed
    r = judge("lab02_translate_seed1.txt", 33, tr, seed=2)
    assert r.kind == v.FAILED_CHECK and "the seed makes" in r.summary
    # one translation off by a page: the model names the clause and both values
    text = (T / "lab02_translate_seed1.txt").read_text().splitlines()
    i = next(k for k, l in enumerate(text) if " translation " in l)
    va, pa = text[i].split()[-2:]
    text[i] = text[i].replace(pa, hex(int(pa, 16) + 0x1000))
    r = judge(("\n".join(text) + "\n").encode(), 33, tr, seed=1)
    assert r.kind == v.FAILED_CHECK
    assert "a PT entry gives its frame's address plus the low 12 bits of Va: expected physical " + pa in r.summary


def test_lab02_translate_model_counts_every_mapping():
    want = lab02.translate_expected(1)
    vals = values("lab02_translate_seed1.txt")
    assert len([x for x in vals if x[1] == "translation"]) == len(want)
    short = [x for x in vals if x[1] != "translation"] + [x for x in vals if x[1] == "translation"][:-1]
    assert any("expected %d translations" % len(want) in m for m in lab02.judge("translate", 1, short))


def test_lab02_fault_model():
    fa = cp(("paging.fault_after_unmap",), "fault_after_unmap", 2, expect="stop", stop_code=0x50,
            stop_params=(None, 0, None, 0), model="lab02")
    assert judge("lab02_fault_seed1.txt", 37, fa, seed=1).passed
    r = judge("lab02_fault_seed1.txt", 37, fa, seed=4)
    assert r.kind == v.FAILED_CHECK and "P1 = the faulting address: the seed gives 0x" in r.summary


def test_lab03_tags_model():
    tg = cp(("pool.tags",), "tag_accounting", 3, model="lab03")
    assert judge("lab03_tags_seed1.txt", 33, tg, seed=1).passed
    vals = values("lab03_tags_seed1.txt")
    bad = [(t, k, val.replace(val.split()[1], str(int(val.split()[1]) + 1), 1)) if k == "tag_counts" and i == 0
           else (t, k, val) for i, (t, k, val) in enumerate([x for x in vals if x[1] == "tag_counts"])]
    msgs = lab03.judge("tag_accounting", 1, bad)
    assert msgs and "for tag 'Tst0'" in msgs[0] and "in its own pool's column" in msgs[0]
    assert lab03.judge("tag_accounting", 2, vals)


@pytest.mark.skipif(not Path(LAB03_HIDDEN).is_file(), reason="needs the instructor tree (solutions/)")
def test_lab03_stop_models():
    pa = cp(("pool.paged_at_dispatch",), "paged_above_apc", 3, expect="stop", stop_code=0xC2,
            stop_params=(8, 2, 1, None), model="lab03")
    assert judge("lab03_paged_seed1.txt", 37, pa, seed=1).passed
    r = judge("lab03_paged_seed1.txt", 37, pa, seed=5)
    assert r.kind == v.FAILED_CHECK and "the seed gives irql 2 and size" in r.summary
    hidden = v._load_model("lab03", LAB03_HIDDEN)
    fn = cp(("pool.free_nonpaged_high",), "free_nonpaged_above_dispatch", 3, expect="stop", stop_code=0xC2,
            stop_params=(9, None, 0, None), model="lab03", hidden=True, model_path=LAB03_HIDDEN)
    assert judge("lab03_free_nonpaged_seed1.txt", 37, fn, seed=1).passed
    seeds = [s for s in range(2, 40) if hidden.judge("free_nonpaged_above_dispatch", s,
                                                     values("lab03_free_nonpaged_seed1.txt"))]
    assert seeds, "some other seed must give another IRQL"
    r = judge("lab03_free_nonpaged_seed1.txt", 37, fn, seed=seeds[0])
    assert r.kind == v.FAILED_CHECK and "P2 = the IRQL of the free: the seed gives" in r.summary
