"""SOL= parsing and build folders (grader.selection)."""
import pytest

from grader import selection


@pytest.fixture
def tree(tmp_path):
    for n in ("00-tools", "01-pfn", "02-paging", "03-pool"):
        (tmp_path / "labs" / n).mkdir(parents=True)
        (tmp_path / "solutions" / n).mkdir(parents=True)
    return str(tmp_path)


@pytest.mark.parametrize("sol,labs,name", [
    ("", [], "none"), ("none", [], "none"), ("all", [0, 1, 2, 3], "all"), ("0-1", [0, 1], "0-1"),
    ("1,3", [1, 3], "1,3"), ("3,0-1", [0, 1, 3], "0-1,3"), ("0-3", [0, 1, 2, 3], "all"), (" ALL ", [0, 1, 2, 3], "all"),
])
def test_parse_and_canonical(tree, sol, labs, name):
    assert selection.parse(sol, tree) == labs
    assert selection.canonical(labs, tree) == name
    assert selection.build_dir(sol, tree) == f"build/{name}"


@pytest.mark.parametrize("sol,needle", [("x", "cannot read"), ("3-1", "backwards"), ("7", "no lab 7"),
                                        ("1-", "cannot read")])
def test_bad_selection(tree, sol, needle):
    with pytest.raises(selection.SelectionError, match=needle):
        selection.parse(sol, tree)


def test_missing_solutions(tree, tmp_path):
    (tmp_path / "solutions" / "02-paging").rmdir()
    with pytest.raises(selection.SelectionError, match="solutions/02-paging"):
        selection.parse("2", tree)
    with pytest.raises(selection.SelectionError):
        selection.parse("all", tree)
    assert selection.parse("0-1", tree) == [0, 1]


def test_lab_dirs(tree):
    assert selection.lab_dirs(tree) == {0: "00-tools", 1: "01-pfn", 2: "02-paging", 3: "03-pool"}
