"""grader batch: discovery of submissions, resume without regrading, --force, error records,
grades.csv and the self-contained report.html; and one real batch of two small submissions."""
import csv
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from grader import batch, report_html, submit
from kernel_harness import PYTHON, ROOT, clean_env, has_solutions


def fake_results(score_a, score_b):
    return {"score": score_a + score_b, "output": "", "tests": [
        {"name": "00.a: A", "number": "00.1", "score": score_a, "max_score": 10, "status":
         "passed" if score_a else "failed", "output": "verdict: timeout\n", "visibility": "visible"},
        {"name": "01.b: B", "number": "01.1", "score": score_b, "max_score": 5, "status":
         "passed" if score_b else "failed", "output": "verdict: failed check\n", "visibility": "after_published"}]}


@pytest.fixture
def subs(tmp_path):
    d = tmp_path / "subs"
    d.mkdir()
    (d / "alice").mkdir()
    (d / "bob.tar.gz").write_bytes(b"x")
    (d / "carol.zip").write_bytes(b"x")
    (d / "dave.txt").write_text("?")
    return d


def test_discover(subs):
    found = {s: (p is not None, e) for s, p, e in batch.discover(str(subs))}
    assert set(found) == {"alice", "bob", "carol", "dave"}
    assert found["alice"] == (True, None) and found["bob"] == (True, None)
    assert found["dave"][0] is False and "not a folder" in found["dave"][1]


def test_resume_force_and_error_records(subs, tmp_path, monkeypatch):
    calls = []

    def fake(path, out, **kw):
        name = os.path.basename(out)
        calls.append(name)
        if name == "carol":
            raise RuntimeError("boom")
        data = fake_results(10 if name == "alice" else 0, 5)
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "results.json"), "w") as f:
            json.dump(data, f)
        return data

    monkeypatch.setattr(submit, "grade_submission", fake)
    out = tmp_path / "out"
    stream = io.StringIO()
    recs = batch.run_batch(str(subs), str(out), jobs=2, stream=stream)
    assert sorted(calls) == ["alice", "bob", "carol"]
    by = {r["student"]: r for r in recs}
    assert by["alice"]["score"] == 15 and by["bob"]["score"] == 5
    assert by["carol"]["status"] == "error" and "boom" in by["carol"]["error"]
    assert by["dave"]["status"] == "error"
    assert sorted(os.listdir(out / "records")) == ["alice.json", "bob.json", "carol.json", "dave.json"]
    assert "alice: 15/15" in stream.getvalue()         # plain lines when not a terminal
    rows = list(csv.reader((out / "grades.csv").read_text().splitlines()))
    assert rows[0] == ["student", "lab 00", "lab 01", "total", "max", "status"]
    assert ["alice", "10", "5", "15", "15", "graded"] in rows
    assert any(r[0] == "carol" and r[-1].startswith("error") for r in rows)
    # an interrupted run left bob without a record: only bob is graded again
    (out / "records" / "bob.json").unlink()
    calls.clear()
    batch.run_batch(str(subs), str(out), jobs=2, stream=io.StringIO())
    assert calls == ["bob"]
    # a half-written record is not a record
    (out / "records" / "alice.json").write_text("{")
    calls.clear()
    batch.run_batch(str(subs), str(out), jobs=1, stream=io.StringIO())
    assert calls == ["alice"]
    calls.clear()
    batch.run_batch(str(subs), str(out), jobs=2, force=True, stream=io.StringIO())
    assert sorted(calls) == ["alice", "bob", "carol"]


def test_report_is_self_contained():
    recs = [batch.summarize("alice", fake_results(10, 5), 1.0), batch.summarize("bob", fake_results(0, 5), 1.0),
            {"student": "eve<script>", "status": "error", "error": "refused <b>"}]
    page = report_html.render(recs)
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert "<script" not in page and "<link" not in page and "src=" not in page
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "eve&lt;script&gt;" in page and "refused &lt;b&gt;" in page
    assert "00.a" in page and "1/2" in page and "2/2" in page       # pass rates
    assert "score histogram" in page


@pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None, reason="needs QEMU")
def test_real_batch(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    good = Path(ROOT) / ("solutions" if has_solutions() else "labs") / "00-bugcheck"
    with tarfile.open(subs / "ann.tar.gz", "w:gz") as tar:
        for f in ("stackwalk.c", "symbols.c"):
            tar.add(good / f, f"labs/00-bugcheck/{f}")
    (subs / "ben").mkdir()
    (subs / "ben" / "symbols.c").write_text("this does not compile\n")
    out = tmp_path / "out"
    proc = subprocess.run([PYTHON, "-m", "grader", "batch", str(subs), "--out", str(out), "-j", "2",
                           "--lab", "0", "--seed", "4"], cwd=ROOT, env=clean_env(), capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {r["student"]: r for r in csv.DictReader((out / "grades.csv").read_text().splitlines())}
    assert rows["ben"]["total"] == "0"
    if has_solutions():
        assert rows["ann"]["total"] == rows["ann"]["max"] != "0"
    assert (out / "students" / "ann" / "results.json").is_file()
    assert "build error" in (out / "report.html").read_text()


def test_progress_line_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self):
            return True
    stream = Tty()
    p = batch.Progress(2, stream)
    p.started("alice")
    assert "grading: alice" in stream.getvalue() and "\r\x1b[K" in stream.getvalue()
    p.finished({"student": "alice", "status": "graded", "score": 3, "max_score": 5, "seconds": 1.0})
    p.finished({"student": "bob", "status": "error", "error": "refused"})
    p.close()
    text = stream.getvalue()
    assert "alice: 3/5" in text and "bob: ERROR refused" in text and "[2/2] 1 error(s)" in text
