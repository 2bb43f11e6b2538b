"""A new selection's build starts from the objects of the selections already built in the same
tree (grader.build.seed_from_siblings): it compiles only what no other selection has, make
still recompiles what is stale, and the kernel names its own selection. Real make, real gcc,
one real boot."""
import os
import re
import time

import pytest

from kernel_harness import ROOT, copy_tree, has_solutions, make

pytestmark = pytest.mark.skipif(not has_solutions(), reason="needs the instructor tree (solutions/)")


def compiled(status) -> list[str]:
    with open(status.log_path, encoding="utf-8", errors="replace") as f:
        return re.findall(r"^  CC  (\S+)$", f.read(), re.M)


def test_new_selection_links_the_others_objects(tmp_path):
    from grader import build, labconfig, runner
    proc = make(ROOT, "SOL=all", "images")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    root = copy_tree(str(tmp_path / "tree"), with_build="all")

    # SOL=0: the framework and lab 00's solution come from build/all; at most the stubs of the
    # other labs (unless build/all holds them too) are compiled
    st = build.build("0", root, no_build=False)
    assert st.ok, st.log
    cc = compiled(st)
    assert all(re.match(r"labs/0[1-9]-[^/]+/[^/]+\.c$", f) for f in cc), cc
    seeded = os.path.join(root, "build", "0", "obj", "kernel", "mm", "poison.o")
    with open(seeded[:-2] + ".d", encoding="utf-8") as f:
        assert f.read().startswith("build/0/obj/kernel/mm/poison.o:")

    # a source changed since: the next new selection compiles it again, and nothing else of the
    # framework (make's own decision on the dates the copies kept)
    later = time.time() + 2
    os.utime(os.path.join(root, "kernel", "mm", "poison.c"), (later, later))
    st1 = build.build("1", root, no_build=False)
    assert st1.ok, st1.log
    assert [f for f in compiled(st1) if not f.startswith(("labs/", "solutions/"))] == ["kernel/mm/poison.c"]

    # the selection's name is the kernel's own, not the one of the build its objects came from
    cp = next(c for lab in labconfig.load_labs(root) for c in lab.checkpoints if c.lab == 0)
    verdict, run = runner.run_checkpoint(cp, sol="0", seed=5, root=root, status=st, mode="kernel")
    assert verdict.passed, verdict.text
    assert run.output.splitlines()[0].split()[-1] == b"0", run.output[:200]
