"""Grade a folder of submissions (python3 -m grader batch SUBMISSIONS_DIR --out DIR -j N [--force]).

One subfolder or archive per student (the student is its name without the extension). Each
is graded by grader.submit into DIR/students/<student>/ (results.json, junit.xml, grade.log)
and ends with a record DIR/records/<student>.json (written atomically; "graded" with the
points, or "error" with the reason). A second run skips students that already have a
record (resume after an interruption); --force grades them again. At the end:
DIR/grades.csv (student, points per lab, total) and DIR/report.html (grader/report_html.py).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed

from grader import submit
from grader.results import write_json_atomic, write_text_atomic
from grader.selection import ROOT

SUFFIXES = (".tar.gz", ".tgz", ".zip")
SIM_THRESHOLD = 60          # percent of a submission's code found in another one
_SAFE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")


def discover(folder: str) -> list[tuple[str, str | None, str | None]]:
    """[(student, path or None, error or None)] for each entry of the submissions folder."""
    out = []
    seen: dict[str, str] = {}
    for name in sorted(os.listdir(folder)):
        if name.startswith("."):
            continue
        path = os.path.join(folder, name)
        student, error = name, None
        if os.path.islink(path):
            error = "a symbolic link, not a submission"
        elif os.path.isdir(path):
            pass
        elif os.path.isfile(path):
            low = name.lower()
            suffix = next((s for s in SUFFIXES if low.endswith(s)), None)
            if suffix:
                student = name[:-len(suffix)]
            else:
                student, error = os.path.splitext(name)[0] or name, \
                    f"{name}: not a folder or a .tar.gz/.tgz/.tar/.zip archive"
        else:
            error = "not a file or a folder"
        if not _SAFE_RE.match(student):
            student = re.sub(r"[^A-Za-z0-9._@+-]", "_", student).lstrip(".") or "student"
        if student in seen:
            error = f"two submissions for {student}: {seen[student]} and {name}"
            out = [e for e in out if e[0] != student]
        seen[student] = name
        out.append((student, None if error else path, error))
    return out


def summarize(student: str, data: dict, seconds: float) -> dict:
    """The record of a graded submission from its results.json."""
    labs: dict[str, list[int]] = {}
    checkpoints = {}
    for t in data.get("tests", []):
        lab = t.get("number", "00.0").split(".")[0]
        got, top = labs.setdefault(lab, [0, 0])
        labs[lab] = [got + t.get("score", 0), top + t.get("max_score", 0)]
        checkpoints[t.get("name", "?").split(":")[0]] = t.get("status") == "passed"
    kinds = set()
    for t in data.get("tests", []):
        m = re.match(r"verdict: (.+)", t.get("output", ""))
        if m and t.get("status") != "passed":
            kinds.add(m.group(1).strip())
    return {"student": student, "status": "graded", "score": data.get("score", 0),
            "max_score": sum(v[1] for v in labs.values()), "labs": {k: v[0] for k, v in sorted(labs.items())},
            "lab_max": {k: v[1] for k, v in sorted(labs.items())}, "checkpoints": checkpoints,
            "problems": sorted(kinds), "seconds": round(seconds, 1), "finished": time.time(),
            "review": list(data.get("extra_data", {}).get("review", [])),
            "flagged": bool(data.get("extra_data", {}).get("flagged"))}


class Progress:
    """A live status line on a terminal, plain lines otherwise."""

    def __init__(self, total: int, stream=None):
        self.total = total
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.done = self.errors = 0
        self.running: list[str] = []
        self.start = time.monotonic()
        self.lock = threading.Lock()

    def _line(self) -> str:
        elapsed = time.monotonic() - self.start
        rate = self.done / elapsed * 60 if elapsed > 0 and self.done else 0.0
        run = ", ".join(self.running[:3]) + ("..." if len(self.running) > 3 else "")
        return (f"[{self.done}/{self.total}] {self.errors} error(s), {rate:.1f}/min, "
                f"grading: {run or '-'}")

    def _show(self, text: str | None = None) -> None:
        if self.tty:
            if text:
                self.stream.write("\r\x1b[K" + text + "\n")
            self.stream.write("\r\x1b[K" + self._line()[:200])
        elif text:
            self.stream.write(text + "\n")
        self.stream.flush()

    def started(self, student: str) -> None:
        with self.lock:
            self.running.append(student)
            if not self.tty:
                self.stream.write(f"grading {student}\n")
            self._show()

    def finished(self, record: dict) -> None:
        with self.lock:
            if record["student"] in self.running:
                self.running.remove(record["student"])
            self.done += 1
            if record["status"] != "graded":
                self.errors += 1
                self._show(f"{record['student']}: ERROR {record.get('error', '')}")
            else:
                self._show(f"{record['student']}: {record['score']}/{record['max_score']} "
                           f"({record['seconds']}s)")

    def close(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K" + self._line() + "\n")
            self.stream.flush()


def _record_path(out: str, student: str) -> str:
    return os.path.join(out, "records", f"{student}.json")


def load_record(out: str, student: str) -> dict | None:
    try:
        with open(_record_path(out, student), encoding="utf-8") as f:
            rec = json.load(f)
        return rec if isinstance(rec, dict) and rec.get("student") == student else None
    except (OSError, ValueError):
        return None


def grade_one(student: str, path: str, out: str, *, seed, jobs: int, root: str, timeout_scale, lab,
              unconfined: bool = False) -> dict:
    start = time.monotonic()
    sdir = os.path.join(out, "students", student)
    try:
        data = submit.grade_submission(path, sdir, seed=seed, jobs=jobs, root=root, keep_work=False,
                                       timeout_scale=timeout_scale, lab=lab, unconfined=unconfined)
        rec = summarize(student, data, time.monotonic() - start)
        _keep_sources(sdir, path)
        return rec
    except Exception as e:                       # the pipeline failed: an error record, never a crash
        trace = traceback.format_exc()[-2000:].replace(os.path.abspath(root) + os.sep, "")
        trace = re.sub(r'File "(/[^"]*/)?([^"/]+)"', r'File "\2"', trace)
        return {"student": student, "status": "error", "error": f"grader error: {type(e).__name__}: "
                f"{str(e).replace(os.path.abspath(root) + os.sep, '')[:300]}",
                "trace": trace, "seconds": round(time.monotonic() - start, 1), "finished": time.time()}


def _keep_sources(sdir: str, path: str) -> None:
    """Unpack the student's C files once more (same safe unpacker) into sdir/sources for the
    similarity report; nothing else is kept."""
    dest = os.path.join(sdir, "sources")
    import shutil
    shutil.rmtree(dest, ignore_errors=True)
    try:
        files = submit.unpack(path, dest)
    except submit.SubmissionError:
        return
    for rel in files:
        if not rel.endswith(".c"):
            os.unlink(os.path.join(dest, rel))


def similar_pairs(out: str, students: list[str], threshold: int = SIM_THRESHOLD) -> list[tuple[str, str, int]]:
    """Pairs of submissions whose C code is similar, by Debian's similarity-tester (sim_c -p):
    [(student, other, percent of student's code found in other's)], highest first."""
    import shutil
    import subprocess
    import tempfile
    if shutil.which("sim_c") is None:
        return []
    with tempfile.TemporaryDirectory(prefix="ntlab-sim-") as tmp:
        names = []
        for st in students:
            src = os.path.join(out, "students", st, "sources")
            if not os.path.isdir(src):
                continue
            parts = []
            for dirpath, _dirs, files in sorted(os.walk(src)):
                for n in sorted(files):
                    try:
                        with open(os.path.join(dirpath, n), encoding="utf-8", errors="replace") as f:
                            parts.append(f.read(1 << 20))
                    except OSError:
                        pass
            if parts:
                with open(os.path.join(tmp, st + ".c"), "w", encoding="utf-8") as f:
                    f.write("\n".join(parts))
                names.append(st + ".c")
        if len(names) < 2:
            return []
        try:
            r = subprocess.run(["sim_c", "-p", "-e", "-s", "-t", str(threshold)] + names, cwd=tmp,
                               capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired):
            return []
    pairs = []
    for line in r.stdout.splitlines():
        m = re.match(r"(\S+)\.c consists for (\d+) % of (\S+)\.c material", line)
        if m and m.group(1) != m.group(3):
            pairs.append((m.group(1), m.group(3), int(m.group(2))))
    return sorted(pairs, key=lambda p: -p[2])


def run_batch(folder: str, out: str, *, jobs: int = 2, force: bool = False, seed=None, per_jobs: int = 1,
              root: str = ROOT, timeout_scale=None, lab=None, stream=None, unconfined: bool = False) -> list[dict]:
    from grader.sandbox import check_isolation
    folder, out = os.path.abspath(folder), os.path.abspath(out)
    submit.check_folders(os.path.abspath(root), out, out)
    check_isolation(unconfined)
    os.makedirs(os.path.join(out, "records"), exist_ok=True)
    entries = discover(folder)
    records: dict[str, dict] = {}
    todo = []
    for student, path, error in entries:
        old = None if force else load_record(out, student)
        if old is not None:
            records[student] = old
        elif error:
            rec = {"student": student, "status": "error", "error": error, "seconds": 0, "finished": time.time()}
            write_json_atomic(_record_path(out, student), rec)
            records[student] = rec
        else:
            todo.append((student, path))
    progress = Progress(len(entries), stream)
    progress.done = len(entries) - len(todo)
    progress.errors = sum(1 for r in records.values() if r["status"] != "graded")
    if progress.done:
        (stream or sys.stderr).write(f"ntlab batch: {progress.done} already done (--force to redo), "
                                     f"{len(todo)} to grade\n")
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {}
        for student, path in todo:
            def task(student=student, path=path):
                progress.started(student)
                return grade_one(student, path, out, seed=seed, jobs=per_jobs, root=root,
                                 timeout_scale=timeout_scale, lab=lab, unconfined=unconfined)
            futures[pool.submit(task)] = student
        try:
            for fut in as_completed(futures):
                rec = fut.result()
                write_json_atomic(_record_path(out, rec["student"]), rec)
                records[rec["student"]] = rec
                progress.finished(rec)
        except KeyboardInterrupt:
            # no new submission starts; the ones running finish, unrecorded, and are graded
            # again on resume
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    progress.close()
    ordered = [records[s] for s, _p, _e in entries if s in records]
    pairs = similar_pairs(out, [r["student"] for r in ordered if r.get("status") == "graded"])
    write_reports(out, ordered, pairs)
    return ordered


def grades_csv(records: list[dict]) -> str:
    labs = sorted({lab for r in records for lab in r.get("labs", {})})
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["student"] + [f"lab {lab}" for lab in labs] + ["total", "max", "status"])
    for r in records:
        if r["status"] == "graded":
            w.writerow([r["student"]] + [r["labs"].get(lab, 0) for lab in labs]
                       + [r["score"], r["max_score"], "graded"])
        else:
            w.writerow([r["student"]] + [0 for _ in labs] + [0, "", "error: " + r.get("error", "")])
    return buf.getvalue()


def write_reports(out: str, records: list[dict], pairs=()) -> None:
    from grader.report_html import render
    write_text_atomic(os.path.join(out, "grades.csv"), grades_csv(records))
    write_text_atomic(os.path.join(out, "report.html"), render(records, pairs=list(pairs)))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m grader batch",
                                description="grade every submission of a folder; writes grades.csv and report.html")
    p.add_argument("submissions", help="a folder with one subfolder or archive per student")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("-j", "--jobs", type=int, default=2, help="submissions graded at once (default 2)")
    p.add_argument("--per-submission-jobs", type=int, default=1, help="QEMU boots at once per submission")
    p.add_argument("--force", action="store_true", help="grade again the students that already have a result")
    p.add_argument("--seed", type=lambda s: int(s, 0), default=None, help="one seed for everybody (default random each)")
    p.add_argument("--timeout-scale", type=float, default=None)
    p.add_argument("--lab", type=int, default=None, help="grade only this lab")
    p.add_argument("--root", default=ROOT, help=argparse.SUPPRESS)
    p.add_argument("--unconfined", action="store_true",
                   help="grade even where bubblewrap cannot isolate (the results say 'unconfined')")
    args = p.parse_args(argv)
    if not os.path.isdir(args.submissions):
        print(f"ntlab batch: {args.submissions}: not a folder", file=sys.stderr)
        return 2
    from grader.sandbox import IsolationError
    start = time.monotonic()
    try:
        records = run_batch(args.submissions, args.out, jobs=args.jobs, force=args.force, seed=args.seed,
                            per_jobs=args.per_submission_jobs, root=args.root, timeout_scale=args.timeout_scale,
                            lab=args.lab, unconfined=args.unconfined)
    except (submit.SetupError, IsolationError) as e:
        print(str(e), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nntlab batch: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    graded = sum(1 for r in records if r["status"] == "graded")
    flagged = [r["student"] for r in records if r.get("flagged")]
    if flagged:
        print(f"ntlab batch: flagged for review: {', '.join(flagged)} (see report.html)")
    print(f"ntlab batch: {graded} graded, {len(records) - graded} error(s) in {time.monotonic() - start:.0f}s; "
          f"{os.path.join(args.out, 'grades.csv')}, {os.path.join(args.out, 'report.html')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
