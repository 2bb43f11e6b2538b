"""Score table and results.json (grader.results)."""
import json

from grader.results import CheckpointResult, score_table, write_results


def result(lab, index, name, score, max_score, hidden=False, kind=None):
    passed = score == max_score
    return CheckpointResult(lab=lab, lab_title=f"Lab {lab} title", id=f"{lab:02d}.{name}", name=name,
                            title=f"{name} title", number=f"{lab:02d}.{index}", index=index,
                            max_score=max_score, score=score, passed=passed,
                            kind=kind or ("passed" if passed else "failed check"),
                            summary=f"{lab:02d}.{name}: x", details=f"details of {name}", hidden=hidden)


RESULTS = [
    result(1, 2, "pfn_zero", 0, 5),
    result(0, 1, "stack_chain", 10, 10),
    result(1, 10, "pfn_tenth", 3, 3),
    result(1, 1, "pfn_totals", 10, 10),
    result(1, 3, "secret", 0, 7, hidden=True, kind="timeout"),
]


def test_results_json_schema(tmp_path):
    path = tmp_path / "out" / "results.json"
    write_results(str(path), RESULTS, sol="all", seed=42, execution_time=12.6)
    data = json.loads(path.read_text())
    assert set(data) == {"score", "execution_time", "output", "tests"}
    assert data["score"] == 23 and data["execution_time"] == 13 and isinstance(data["execution_time"], int)
    assert "ntlab score (SOL=all, seed 42)" in data["output"]
    numbers = [t["number"] for t in data["tests"]]
    assert numbers == ["00.1", "01.1", "01.2", "01.3", "01.10"]
    for t in data["tests"]:
        assert set(t) == {"name", "number", "score", "max_score", "status", "output", "visibility"}
        assert isinstance(t["score"], int) and isinstance(t["max_score"], int)
        assert t["status"] in ("passed", "failed")
        assert isinstance(t["output"], str) and isinstance(t["name"], str)
    by = {t["number"]: t for t in data["tests"]}
    assert by["01.1"]["name"] == "01.pfn_totals: pfn_totals title"
    assert by["01.2"]["status"] == "failed" and by["01.2"]["score"] == 0 and by["01.2"]["max_score"] == 5
    assert "details of pfn_zero" in by["01.2"]["output"]
    assert by["01.3"]["visibility"] == "after_published"
    assert by["01.1"]["visibility"] == "visible"
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]     # no temporary left


def test_score_table():
    text = score_table(RESULTS, "all", 42)
    lines = text.splitlines()
    assert lines[0] == "ntlab score (SOL=all, seed 42)"
    assert lines[1].startswith("  lab 00  Lab 0 title") and lines[1].endswith("10/10")
    assert any(l.startswith("    01.2") and "FAIL" in l and "failed check" in l and l.endswith("0/5")
               for l in lines)
    assert any("secret (hidden)" in l and "timeout" in l for l in lines)
    lab1 = next(l for l in lines if l.startswith("  lab 01"))
    assert lab1.endswith("13/25")
    assert lines[-1] == "  total 23/35 (65%)"


def test_property_round_trip():
    r = RESULTS[0]
    assert CheckpointResult.from_property(r.to_property()) == r
    assert all(isinstance(v, (str, int, bool)) for v in r.to_property().values())


def test_empty_table():
    assert "no checkpoint" in score_table([], "", 1)
