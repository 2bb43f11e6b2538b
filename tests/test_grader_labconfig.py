"""Loading lab.toml and hidden checkpoints.toml (grader.labconfig), good and malformed."""
import textwrap

import pytest

from grader.labconfig import LabConfigError, load_lab, load_labs

GOOD = """
[lab]
number = 1
title = "Physical memory and the PFN database"
files = ["pfnlist.c"]

[[checkpoint]]
name = "pfn_totals"
title = "Every usable frame is on exactly one list"
points = 10
ktests = ["pfn.totals"]

[[checkpoint]]
name = "double_free"
title = "Double free bugchecks"
points = 5
ktests = ["pfn.setup", "pfn.double_free"]
expect = "stop"
stop_code = 0x4E
timeout = 20
memory = "128M"
"""

HIDDEN = """
[[checkpoint]]
name = "secret"
title = "A hidden one"
points = 3
ktests = ["pfn.secret"]
"""


def make_tree(tmp_path, lab_text=GOOD, folder="01-pfn", hidden=None):
    d = tmp_path / "labs" / folder
    d.mkdir(parents=True, exist_ok=True)
    (d / "lab.toml").write_text(textwrap.dedent(lab_text))
    if hidden is not None:
        h = tmp_path / "solutions" / folder / "hidden"
        h.mkdir(parents=True, exist_ok=True)
        (h / "checkpoints.toml").write_text(textwrap.dedent(hidden))
    return d / "lab.toml"


def test_good_lab(tmp_path):
    lab = load_lab(make_tree(tmp_path), tmp_path)
    assert lab.number == 1 and lab.folder == "01-pfn" and lab.files == ("pfnlist.c",)
    a, b = lab.checkpoints
    assert (a.id, a.number, a.expect, a.stop_code, a.timeout, a.memory, a.hidden) == \
        ("01.pfn_totals", "01.1", "pass", None, 10, "64M", False)
    assert (b.id, b.number, b.ktests, b.stop_code, b.timeout, b.memory) == \
        ("01.double_free", "01.2", ("pfn.setup", "pfn.double_free"), 0x4E, 20, "128M")
    assert a.visibility == "visible"


def test_hidden_checkpoints_come_after(tmp_path):
    path = make_tree(tmp_path, hidden=HIDDEN)
    lab = load_lab(path)          # root derived from the path
    assert [c.name for c in lab.checkpoints] == ["pfn_totals", "double_free", "secret"]
    h = lab.checkpoints[2]
    assert h.hidden and h.number == "01.3" and h.visibility == "after_published"


def test_load_labs_sorted(tmp_path):
    make_tree(tmp_path)
    make_tree(tmp_path, GOOD.replace("number = 1", "number = 0"), folder="00-tools")
    (tmp_path / "labs" / "notalab").mkdir()
    assert [l.number for l in load_labs(str(tmp_path))] == [0, 1]
    assert load_labs(str(tmp_path / "nowhere")) == []


BAD = [
    ("syntax", GOOD.replace('points = 10', 'points = = 10'), "TOML syntax error"),
    ("missing lab", GOOD.split("[[checkpoint]]", 1)[1].join(["[[checkpoint]]", ""]), "missing table [lab]"),
    ("missing title", GOOD.replace('title = "Physical memory and the PFN database"\n', ''), "'title'"),
    ("unknown lab key", GOOD.replace("[lab]\n", "[lab]\nauthor = 'x'\n"), "unknown key 'author'"),
    ("unknown cp key", GOOD.replace('points = 10', 'points = 10\npoints_bonus = 1'), "unknown key 'points_bonus'"),
    ("unknown top key", "extra = 1\n" + GOOD, "unknown key 'extra'"),
    ("points type", GOOD.replace('points = 10', 'points = "10"'), "'points'"),
    ("points zero", GOOD.replace('points = 10', 'points = 0'), "'points'"),
    ("points bool", GOOD.replace('points = 10', 'points = true'), "'points'"),
    ("missing points", GOOD.replace('points = 10\n', ''), "missing key 'points'"),
    ("ktests empty", GOOD.replace('ktests = ["pfn.totals"]', 'ktests = []'), "'ktests'"),
    ("ktests type", GOOD.replace('ktests = ["pfn.totals"]', 'ktests = "pfn.totals"'), "'ktests'"),
    ("ktest with comma", GOOD.replace('ktests = ["pfn.totals"]', 'ktests = ["a,b"]'), "'ktests'"),
    ("bad name", GOOD.replace('name = "pfn_totals"', 'name = "Pfn-Totals"'), "'name'"),
    ("duplicate", GOOD.replace('name = "double_free"', 'name = "pfn_totals"'), "used twice"),
    ("stop without code", GOOD.replace('stop_code = 0x4E\n', ''), "'stop_code' is required"),
    ("code without stop", GOOD.replace('ktests = ["pfn.totals"]', 'ktests = ["pfn.totals"]\nstop_code = 1'),
     "'stop_code' is only allowed"),
    ("bad expect", GOOD.replace('expect = "stop"', 'expect = "crash"'), "'expect'"),
    ("bad timeout", GOOD.replace('timeout = 20', 'timeout = -1'), "'timeout'"),
    ("bad memory", GOOD.replace('memory = "128M"', 'memory = 128'), "'memory'"),
    ("number mismatch", GOOD.replace('number = 1', 'number = 2'), "'number' is 2"),
    ("number type", GOOD.replace('number = 1', 'number = "1"'), "'number'"),
    ("files type", GOOD.replace('files = ["pfnlist.c"]', 'files = "pfnlist.c"'), "'files'"),
    ("files escape", GOOD.replace('files = ["pfnlist.c"]', 'files = ["../x.c"]'), "'files'"),
    ("no checkpoints", GOOD.split("[[checkpoint]]")[0], "missing key 'checkpoint'"),
    ("checkpoint not array", GOOD.split("[[checkpoint]]")[0] + "[checkpoint]\nname='a'\n", "'checkpoint'"),
]


@pytest.mark.parametrize("label,text,needle", BAD, ids=[b[0] for b in BAD])
def test_malformed_lab(tmp_path, label, text, needle):
    path = make_tree(tmp_path, text)
    with pytest.raises(LabConfigError) as e:
        load_lab(path, tmp_path)
    msg = str(e.value)
    assert msg.startswith("labs/01-pfn/lab.toml:"), msg
    assert needle in msg, msg
    assert "\n" not in msg.strip() or label == "syntax"


@pytest.mark.parametrize("hidden,needle", [
    ("[[checkpoint]]\nname = 'pfn_totals'\ntitle='x'\npoints=1\nktests=['a']\n", "used twice"),
    ("[lab]\nnumber = 1\n" + HIDDEN, "unknown key 'lab'"),
    ("[[checkpoint]]\nname = 'x'\ntitle='x'\npoints=1\n", "missing key 'ktests'"),
    ("[[checkpoint]\n", "TOML syntax error"),
])
def test_malformed_hidden(tmp_path, hidden, needle):
    path = make_tree(tmp_path, hidden=hidden)
    with pytest.raises(LabConfigError) as e:
        load_lab(path, tmp_path)
    assert "solutions/01-pfn/hidden/checkpoints.toml" in str(e.value)
    assert needle in str(e.value)


def test_bad_folder_name(tmp_path):
    path = make_tree(tmp_path, folder="1-pfn")
    with pytest.raises(LabConfigError, match="NN-name"):
        load_lab(path, tmp_path)
