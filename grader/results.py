"""Scores: one CheckpointResult per graded checkpoint, the score table printed at the end of a
grade, and results.json in Gradescope's schema (written atomically).
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, fields

PROPERTY = "ntlab_result"       # key of the report.user_properties entry carrying a result


@dataclass
class CheckpointResult:
    lab: int
    lab_title: str
    id: str                 # 01.pfn_totals
    name: str               # pfn_totals
    title: str
    number: str             # 01.1
    index: int
    max_score: int
    score: int
    passed: bool
    kind: str
    summary: str
    details: str
    hidden: bool = False

    @property
    def visibility(self) -> str:
        return "after_published" if self.hidden else "visible"

    @property
    def sort_key(self) -> tuple[int, int]:
        return (self.lab, self.index)

    def to_property(self) -> dict:
        """A plain dict (str/int/bool only) that survives xdist's report serialisation."""
        return asdict(self)

    @classmethod
    def from_property(cls, data: dict) -> "CheckpointResult":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @classmethod
    def from_verdict(cls, checkpoint, lab_title: str, verdict) -> "CheckpointResult":
        return cls(lab=checkpoint.lab, lab_title=lab_title, id=checkpoint.id, name=checkpoint.name,
                   title=checkpoint.title, number=checkpoint.number, index=checkpoint.index,
                   max_score=checkpoint.points, score=checkpoint.points if verdict.passed else 0,
                   passed=bool(verdict.passed), kind=verdict.kind, summary=verdict.summary,
                   details=verdict.details, hidden=checkpoint.hidden)


def _pct(got: int, total: int) -> int:
    return (100 * got) // total if total else 0


WIDTH = 64


def _row(left: str, right: str) -> str:
    pad = max(1, WIDTH - len(left) - len(right))
    return left + " " * pad + right


def score_table(results, sol: str, seed) -> str:
    """The score table: per lab, per checkpoint, subtotals and the total."""
    results = sorted(results, key=lambda r: r.sort_key)
    out = [f"ntlab score (SOL={sol or 'none'}, seed {seed})"]
    if not results:
        out.append("  no checkpoint was graded")
        return "\n".join(out)
    total = got = 0
    labs: dict[int, list[CheckpointResult]] = {}
    for r in results:
        labs.setdefault(r.lab, []).append(r)
    for lab, rows in labs.items():
        lab_got = sum(r.score for r in rows)
        lab_max = sum(r.max_score for r in rows)
        got, total = got + lab_got, total + lab_max
        title = rows[0].lab_title
        if len(title) > 40:
            title = title[:39] + "~"
        out.append(_row(f"  lab {lab:02d}  {title}", f"{lab_got}/{lab_max}"))
        for r in rows:
            status = "PASS" if r.passed else "FAIL"
            kind = "" if r.passed else r.kind
            name = r.name + (" (hidden)" if r.hidden else "")
            out.append(_row(f"    {r.number:<6}{name:<22} {status}  {kind}", f"{r.score}/{r.max_score}"))
    out.append(f"  total {got}/{total} ({_pct(got, total)}%)")
    return "\n".join(out)


def results_json(results, *, execution_time: float, output: str = "") -> dict:
    """Gradescope's results.json as a dict."""
    results = sorted(results, key=lambda r: r.sort_key)
    tests = []
    for r in results:
        tests.append({
            "name": f"{r.id}: {r.title}",
            "number": r.number,
            "score": r.score,
            "max_score": r.max_score,
            "status": "passed" if r.passed else "failed",
            "output": r.details if not r.passed else (r.summary + "\n" + r.details),
            "visibility": r.visibility,
        })
    return {"score": sum(r.score for r in results), "execution_time": int(round(execution_time)),
            "output": output, "tests": tests}


def write_text_atomic(path: str, text: str) -> None:
    """Write text to path through a temporary file in the same folder and os.replace, so
    a reader sees the old file or the new one, never half of one."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".ntlab.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_json_atomic(path: str, data) -> None:
    """write_text_atomic of data as indented JSON."""
    write_text_atomic(path, json.dumps(data, indent=2) + "\n")


def write_results(path: str, results, *, sol: str, seed, execution_time: float) -> dict:
    """Write results.json (Gradescope schema) for these results; return what was written."""
    data = results_json(results, execution_time=execution_time, output=score_table(results, sol, seed))
    write_json_atomic(path, data)
    return data
