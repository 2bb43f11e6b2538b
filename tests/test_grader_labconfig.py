"""Loading lab.toml and hidden checkpoints.toml (grader.labconfig), good and malformed."""
import os
import textwrap

import pytest

from grader.labconfig import ROOT, LabConfigError, load_lab, load_labs

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


# ---------------------------------------------------------------- stop_params and model

STOP_CP = """
[lab]
number = 1
title = "t"
files = ["pfnlist.c"]

[[checkpoint]]
name = "double_free"
title = "Double free bugchecks"
points = 5
ktests = ["pfn.double_free"]
expect = "stop"
stop_code = 0x4E
"""


@pytest.fixture(autouse=False)
def models_dir(tmp_path, monkeypatch):
    import grader.labconfig as lc
    d = tmp_path / "models"
    d.mkdir()
    (d / "lab01.py").write_text("def judge(checkpoint, seed, values):\n    return []\n")
    monkeypatch.setattr(lc, "MODELS_DIR", str(d))
    return d


def test_stop_params_and_model(tmp_path, models_dir):
    text = STOP_CP + 'stop_params = ["0x99", "0x1A2b", "*", "0x0"]\nmodel = "lab01"\n'
    (cp,) = load_lab(make_tree(tmp_path, text), tmp_path).checkpoints
    assert cp.stop_params == (0x99, 0x1A2B, None, 0) and cp.model == "lab01"
    (cp,) = load_lab(make_tree(tmp_path, STOP_CP), tmp_path).checkpoints
    assert cp.stop_params is None and cp.model is None


def test_stop_params_announced_and_seeded(tmp_path, models_dir):
    from grader.labconfig import StopParamRef, param_text
    text = STOP_CP + 'stop_params = ["0x99", "=pfn", "seed", "*"]\nmodel = "lab01"\n'
    (cp,) = load_lab(make_tree(tmp_path, text), tmp_path).checkpoints
    assert cp.stop_params == (0x99, StopParamRef("value", "pfn"), StopParamRef("seed"), None)
    assert [param_text(p) for p in cp.stop_params] == ["0x99", "=pfn", "seed", "*"]


@pytest.mark.parametrize("line,needle", [
    ('stop_params = ["0x99", "*", "*"]', "list of 4 parameters"),
    ('stop_params = "0x99 * * *"', "list of 4 parameters"),
    ('stop_params = ["0x99", "*", "*", "*", "*"]', "list of 4 parameters"),
    ('stop_params = ["0x99", 5, "*", "*"]', "parameter P2 must be a hex string"),
    ('stop_params = ["99", "*", "*", "*"]', "parameter P1 must be a hex string"),
    ('stop_params = ["0x99", "*", "-0x1", "*"]', "parameter P3"),
    ('stop_params = ["0x99", "*", "*", "0x10000000000000000"]', "parameter P4"),
    ('stop_params = ["*", "*", "*", "*"]', "all \"*\": state every parameter the test can know, or name a model"),
    ('stop_params = ["0x99", "=Pfn", "*", "*"]', "parameter P2 must be a hex string"),
    ('stop_params = ["0x99", "=", "*", "*"]', "parameter P2 must be a hex string"),
    ('stop_params = ["0x99", "= pfn", "*", "*"]', "parameter P2 must be a hex string"),
    ('stop_params = ["0x99", "seed", "*", "0x0"]', 'has a "seed" parameter but no model'),
    ('model = "Lab01"', "key 'model' must be the name of a module"),
    ('model = 1', "key 'model' must be the name of a module"),
    ('model = "no_such_model"', "there is no grader/models/no_such_model.py"),
])
def test_malformed_stop_params_and_model(tmp_path, models_dir, line, needle):
    with pytest.raises(LabConfigError) as e:
        load_lab(make_tree(tmp_path, STOP_CP + line + "\n"), tmp_path)
    assert needle in str(e.value) and "double_free" in str(e.value)


def test_stop_params_need_expect_stop(tmp_path):
    text = GOOD.replace('ktests = ["pfn.totals"]', 'ktests = ["pfn.totals"]\nstop_params = ["0x1", "*", "*", "*"]')
    with pytest.raises(LabConfigError, match="'stop_params' is only allowed with expect"):
        load_lab(make_tree(tmp_path, text), tmp_path)


def test_labs_00_01_every_stop_checkpoint_states_its_parameters():
    """TESTING.md 4: every STOP checkpoint states the parameters its test can know."""
    for lab in load_labs():
        if lab.number not in (0, 1):
            continue
        for cp in lab.checkpoints:
            if cp.expect == "stop":
                assert cp.stop_params, f"{cp.id} ({cp.source}) has no stop_params"


def test_no_wildcard_for_a_value_the_test_knows():
    """TESTING.md 4: a STOP parameter the test can know is stated exactly: a number, "=key" (the
    value the test announces) or "seed" (the model's). A "*" left in a lab.toml or hidden
    checkpoints.toml must say on its line why the value cannot be known."""
    for lab in load_labs():
        for cp in lab.checkpoints:
            if cp.expect != "stop" or not cp.stop_params or None not in cp.stop_params:
                continue
            with open(os.path.join(ROOT, cp.source)) as f:
                lines = [ln for ln in f if ln.startswith("stop_params") and '"*"' in ln]
            assert lines and all("#" in ln for ln in lines), \
                f"{cp.id} ({cp.source}): stop_params has \"*\" without a comment saying why it cannot be known"
