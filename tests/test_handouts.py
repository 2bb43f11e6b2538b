"""Handouts that cannot drift (tools/handouts.py, `make handouts`): every contract block equals
the comment in the source, and a handout that cites a checkpoint, function, figure, section or
seed note that does not exist fails the check; the HTML course site renders."""
import shutil
import subprocess
from pathlib import Path

import pytest

from kernel_harness import PYTHON, ROOT, copy_tree

TOOL = [PYTHON, "tools/handouts.py"]


def check(tree) -> subprocess.CompletedProcess:
    return subprocess.run(TOOL + ["check"], cwd=tree, capture_output=True, text=True, timeout=60)


def test_handouts_agree_with_the_code():
    p = check(ROOT)
    assert p.returncode == 0, p.stderr
    text = (Path(ROOT) / "handouts" / "03-pool.md").read_text()
    assert "<!-- contract: labs/03-pool/pool.c ExpFreePool -->" in text
    assert "info line *(ExpFreePool+0x123)" in text          # a backtrace frame to a source line


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return Path(copy_tree(str(tmp_path_factory.mktemp("h") / "t"), with_build=None))


@pytest.mark.parametrize("edit, why", [
    (("01-pfn.md", "## 5. How to work", "make grade LAB=1 CHECKPOINT=no_such_cp\n\n## 5. How to work"),
     "cites checkpoint 'no_such_cp'"),
    (("00-bugcheck.md", "### Frame pointers", "Call `MiFrobnicatePool` first.\n\n### Frame pointers"),
     "cites MiFrobnicatePool"),
    (("02-paging.md", "### PTE bits", "![the tables](walk.svg)\n\n### PTE bits"), "the figure walk.svg does not exist"),
    (("02-paging.md", "### PTE bits", "As Figure 3 shows.\n\n### PTE bits"), "cites Figure 3"),
    (("03-pool.md", "### Sizes", "See section 9.\n\n### Sizes"), "cites section 9"),
    (("03-pool.md", "### Sizes", "Seed 004 says so.\n\n### Sizes"), "cites seed note 004"),
    (("01-pfn.md", "| `contiguous` |", "| `contiguous_old` |"), "lists 'contiguous_old'"),
])
def test_a_stale_citation_fails(tree, edit, why):
    name, old, new = edit
    path = tree / "handouts" / name
    before = path.read_text()
    assert old in before, old
    path.write_text(before.replace(old, new, 1))
    try:
        p = check(tree)
        assert p.returncode == 1 and why in p.stderr, p.stderr
        assert f"handouts/{name}" in p.stderr
    finally:
        path.write_text(before)


def test_a_changed_contract_fails_until_make_handouts(tree):
    src = tree / "labs" / "01-pfn" / "pfnlist.c"
    before = src.read_text()
    src.write_text(before.replace("the head's Total is one\n *    less", "the head's Total is one\n *    fewer"))
    try:
        p = check(tree)
        assert p.returncode == 1 and "the contract of MiUnlinkPageFromList differs" in p.stderr, p.stderr
        u = subprocess.run(TOOL + ["update"], cwd=tree, capture_output=True, text=True, timeout=60)
        assert u.returncode == 0, u.stderr
        assert "Total is one\n   fewer" in (tree / "handouts" / "01-pfn.md").read_text()
        assert check(tree).returncode == 0
    finally:
        src.write_text(before)
        subprocess.run(TOOL + ["update"], cwd=tree, capture_output=True, timeout=60)


@pytest.mark.skipif(shutil.which("pandoc") is None, reason="needs pandoc (sudo apt-get install pandoc)")
def test_course_site(tree, tmp_path):
    p = subprocess.run(TOOL + ["html", "--out", str(tmp_path / "site")], cwd=tree, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    site = tmp_path / "site"
    index = (site / "index.html").read_text()
    pages = sorted(x.name for x in site.glob("[0-9][0-9]-*.html"))
    assert pages == sorted(n.replace(".md", ".html") for n in (tree / "handouts").glob("*.md") for n in [n.name])
    for page in pages:
        assert f'href="{page}"' in index
    pool = (site / "03-pool.html").read_text()
    assert "ExpFreePool - free a block" in pool or "ExpFreePool -" in pool
    assert (site / "style.css").is_file()
