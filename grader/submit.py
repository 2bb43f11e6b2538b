"""Grade one submission (python3 -m grader submit SUBMISSION --out DIR [--seed S] [--jobs N]),
and build the Gradescope autograder bundle (python3 -m grader autograder).

SUBMISSION is a .tar.gz/.tgz/.tar or .zip archive, or a folder (a handin tarball, a whole
student tree, or a bare list of student files). The pipeline:
  1. unpacks it safely into DIR/work/submission (no absolute paths, '..', links or special
     files; at most MAX_FILES files, MAX_FILE bytes each, MAX_TOTAL in all, sizes checked
     from the headers before anything is written);
  2. keeps only the student files (labs/NN-name/<file>, or a bare name when unambiguous);
  3. runs the static check (grader/staticcheck.py) on them;
  4. lays them over a pristine copy of the tree (DIR/work/tree: the repository's files
     without solutions/ except solutions/*/hidden/, so hidden checkpoints are graded, and
     built with SOL=none);
  5. builds and grades it in the sandbox (grader/sandbox.py) with wall-clock limits;
  6. always writes DIR/results.json (Gradescope), DIR/junit.xml and DIR/grade.log, atomically,
     also when the submission does not unpack, is refused, or does not build (score 0).
"""
from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import random
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from xml.sax.saxutils import escape, quoteattr

from grader import build as framework_build
from grader import labconfig, staticcheck
from grader import verdict as v
from grader.handin import MANIFEST, student_paths
from grader.results import CheckpointResult, results_json, score_table, write_json_atomic, write_text_atomic
from grader.selection import ROOT

MAX_FILES = 200
MAX_FILE = 2 << 20
MAX_TOTAL = 20 << 20
MAX_ARCHIVE = 64 << 20
BUILD_TIMEOUT = 300.0
GRADE_TIMEOUT = 900.0
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")

# kinds of a whole-submission failure (every checkpoint gets it)
SUBMISSION_ERROR = "submission error"
EMPTY_SUBMISSION = "empty submission"
GRADER_ERROR = "grader error"


class SubmissionError(Exception):
    """The submission cannot be used; the message says why (shown to the student)."""


# ---------------------------------------------------------------- safe unpacking

def _safe_name(name: str) -> str:
    """The normalised relative path of an archive member; raises SubmissionError if unsafe."""
    if "\0" in name:
        raise SubmissionError(f"refused: the entry {name!r} has a NUL byte in its name")
    n = name.replace("\\", "/")
    if n.startswith("/") or re.match(r"^[A-Za-z]:", n):
        raise SubmissionError(f"refused: the entry {name!r} has an absolute path")
    parts = [p for p in n.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise SubmissionError(f"refused: the entry {name!r} has a '..' component")
    return "/".join(parts)


class _Budget:
    def __init__(self):
        self.files = 0
        self.total = 0

    def add(self, name: str, size: int) -> None:
        self.files += 1
        if self.files > MAX_FILES:
            raise SubmissionError(f"refused: more than {MAX_FILES} files")
        if size > MAX_FILE:
            raise SubmissionError(f"refused: {name} is {size} bytes (at most {MAX_FILE} per file)")
        self.total += size
        if self.total > MAX_TOTAL:
            raise SubmissionError(f"refused: more than {MAX_TOTAL} bytes in all")


def _write_new(dest: str, rel: str, data: bytes) -> None:
    path = os.path.join(dest, rel)
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    real = os.path.realpath(parent)
    if real != os.path.realpath(dest) and not real.startswith(os.path.realpath(dest) + os.sep):
        raise SubmissionError(f"refused: {rel} would be written outside the work folder")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    except FileExistsError:
        raise SubmissionError(f"refused: {rel} appears twice (or as a file and a folder)") from None
    except (IsADirectoryError, NotADirectoryError):
        raise SubmissionError(f"refused: {rel} is both a file and a folder") from None
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _read_capped(f, name: str) -> bytes:
    data = f.read(MAX_FILE + 1)
    if len(data) > MAX_FILE:
        raise SubmissionError(f"refused: {name} is larger than {MAX_FILE} bytes")
    return data


def _unpack_tar(src: str, dest: str) -> list[str]:
    budget = _Budget()
    wanted: list[tuple[tarfile.TarInfo, str]] = []
    try:
        with tarfile.open(src, "r:*") as tar:
            # First pass: headers only (declared sizes), stopping at the first violation, so a
            # huge or sparse member is refused before its data is read or written.
            for m in tar:
                rel = _safe_name(m.name)
                if m.issym() or m.islnk():
                    raise SubmissionError(f"refused: {m.name} is a {'symbolic' if m.issym() else 'hard'} link "
                                          f"(to {m.linkname!r})")
                if m.isdir():
                    budget.files += 1
                    continue
                if not m.isreg():
                    raise SubmissionError(f"refused: {m.name} is a device, FIFO or other special file")
                budget.add(m.name, m.size)
                if rel:
                    wanted.append((m, rel))
            for m, rel in wanted:
                f = tar.extractfile(m)
                _write_new(dest, rel, _read_capped(f, m.name) if f else b"")
    except (tarfile.TarError, EOFError, OSError, ValueError) as e:
        raise SubmissionError(f"refused: not a readable tar archive ({e})") from None
    return [rel for _m, rel in wanted]


def _unpack_zip(src: str, dest: str) -> list[str]:
    budget = _Budget()
    out = []
    try:
        with zipfile.ZipFile(src) as z:
            infos = z.infolist()
            if len(infos) > MAX_FILES:
                raise SubmissionError(f"refused: more than {MAX_FILES} files")
            wanted = []
            for i in infos:
                rel = _safe_name(i.filename)
                mode = i.external_attr >> 16
                if stat.S_ISLNK(mode):
                    raise SubmissionError(f"refused: {i.filename} is a symbolic link")
                if i.is_dir():
                    continue
                if stat.S_IFMT(mode) and not stat.S_ISREG(mode):    # zip writers often set no type bits
                    raise SubmissionError(f"refused: {i.filename} is a device, FIFO or other special file")
                budget.add(i.filename, i.file_size)
                if rel:
                    wanted.append((i, rel))
            for i, rel in wanted:
                with z.open(i) as f:
                    _write_new(dest, rel, _read_capped(f, i.filename))
                out.append(rel)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as e:
        raise SubmissionError(f"refused: not a readable zip archive ({e})") from None
    return out


def _unpack_dir(src: str, dest: str) -> list[str]:
    budget = _Budget()
    out = []
    src = os.path.abspath(src)
    for dirpath, dirs, files in os.walk(src, followlinks=False):
        for d in list(dirs):
            if os.path.islink(os.path.join(dirpath, d)):
                raise SubmissionError(f"refused: {os.path.relpath(os.path.join(dirpath, d), src)} is a "
                                      f"symbolic link")
            if d in (".git", "build", "__pycache__", ".pytest_cache"):
                dirs.remove(d)
        for name in sorted(files):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, src).replace(os.sep, "/")
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                raise SubmissionError(f"refused: {rel} is a symbolic link")
            if not stat.S_ISREG(st.st_mode):
                raise SubmissionError(f"refused: {rel} is a device, FIFO or other special file")
            budget.add(rel, st.st_size)
            with open(full, "rb") as f:
                _write_new(dest, rel, _read_capped(f, rel))
            out.append(rel)
    return out


def unpack(src: str, dest: str) -> list[str]:
    """Unpack a submission (archive or folder) into dest; return the relative paths written.
    A folder holding nothing but one archive (Gradescope's upload of handin.tar.gz) is that archive."""
    os.makedirs(dest, exist_ok=True)
    if not os.path.lexists(src):
        raise SubmissionError(f"{src}: no such file or folder")
    if os.path.islink(src):
        raise SubmissionError(f"refused: {src} is a symbolic link")
    if os.path.isdir(src):
        entries = [e for e in os.listdir(src) if not e.startswith(".")]
        if len(entries) == 1 and entries[0].lower().endswith(ARCHIVE_SUFFIXES) and \
                os.path.isfile(os.path.join(src, entries[0])) and not os.path.islink(os.path.join(src, entries[0])):
            return unpack(os.path.join(src, entries[0]), dest)
        return _unpack_dir(src, dest)
    if not os.path.isfile(src):
        raise SubmissionError(f"refused: {src} is not a regular file or a folder")
    if os.path.getsize(src) > MAX_ARCHIVE:
        raise SubmissionError(f"refused: the archive is larger than {MAX_ARCHIVE} bytes")
    if zipfile.is_zipfile(src):
        return _unpack_zip(src, dest)
    try:
        is_tar = tarfile.is_tarfile(src)
    except (OSError, tarfile.TarError, EOFError):
        is_tar = False
    if is_tar:
        return _unpack_tar(src, dest)
    raise SubmissionError(f"{os.path.basename(src)}: not a .tar.gz, .tgz, .tar or .zip archive "
                          f"(make handin writes handin.tar.gz)")


# ---------------------------------------------------------------- choosing the student files

def select_student_files(files: list[str], base: str, students: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Map unpacked files to student paths: 'labs/NN-name/<file>' anywhere in the path, or a
    bare file name that names exactly one student file. Returns ({student path: file to read},
    notes for the log)."""
    by_base: dict[str, list[str]] = {}
    for rel in students:
        by_base.setdefault(rel.rsplit("/", 1)[-1], []).append(rel)
    chosen: dict[str, str] = {}
    exact: set[str] = set()
    notes: list[str] = []
    manifest = None
    for f in sorted(files):
        parts = f.split("/")
        rel = None
        for i, p in enumerate(parts):
            if p == "labs" and "/".join(parts[i:]) in students:
                rel = "/".join(parts[i:])
                break
        if rel is not None:
            if rel in exact:
                notes.append(f"ignored {f}: {rel} was already taken from another path")
                continue
            exact.add(rel)
            chosen[rel] = os.path.join(base, f)
            continue
        if parts[-1] == MANIFEST and len(parts) <= 2:
            manifest = os.path.join(base, f)
            continue
        if "labs" not in parts:
            cands = by_base.get(parts[-1], [])
            if len(cands) == 1:
                if cands[0] not in exact and cands[0] not in chosen:
                    chosen[cands[0]] = os.path.join(base, f)
                    notes.append(f"used {f} as {cands[0]} (by its name)")
                else:
                    notes.append(f"ignored {f}: {cands[0]} was already taken from another path")
                continue
            if len(cands) > 1:
                notes.append(f"ignored {f}: its name matches several student files ({', '.join(cands)}); "
                             f"use the labs/NN-name/ path")
                continue
        notes.append(f"ignored {f}: not a student file")
    if manifest:
        notes += _check_manifest(manifest, chosen)
    return chosen, notes


def _check_manifest(path: str, chosen: dict[str, str]) -> list[str]:
    notes = []
    try:
        text = open(path, encoding="utf-8", errors="replace").read(1 << 16)
    except OSError:
        return notes
    for line in text.splitlines():
        f = line.split()
        if len(f) == 3 and not line.startswith("#") and f[1] in chosen:
            with open(chosen[f[1]], "rb") as fh:
                if hashlib.sha256(fh.read()).hexdigest() != f[2]:
                    notes.append(f"note: {f[1]} differs from its MANIFEST checksum")
    return notes


# ---------------------------------------------------------------- the pristine tree

def tree_files(root: str, sol: str = "none") -> list[str]:
    """The files of the repository to copy: git's tracked and untracked-but-not-ignored files
    (or every file, without git), minus build/, solutions/ except solutions/*/hidden/."""
    names: list[str] | None = None
    if os.path.isdir(os.path.join(root, ".git")) and shutil.which("git"):
        try:
            r = subprocess.run(["git", "-C", root, "ls-files", "-z", "-co", "--exclude-standard"],
                               capture_output=True, timeout=60)
            if r.returncode == 0:
                names = [n for n in r.stdout.decode("utf-8", "replace").split("\0") if n]
        except (OSError, subprocess.TimeoutExpired):
            names = None
    if names is None:
        names = []
        for dirpath, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in (".git", "build", "__pycache__", ".pytest_cache")]
            names += [os.path.relpath(os.path.join(dirpath, f), root) for f in files]
    from grader import policy, selection    # released reference files: course.toml's and sol's labs
    try:
        labs = set(policy.load(root).released) | set(selection.parse(sol, root))
    except (policy.CourseError, selection.SelectionError):
        labs = set()
    released = {f"solutions/{f}" for n in labs for f in _released_files(root, n)}
    out = []
    for n in sorted(set(names)):
        parts = n.split("/")
        if parts[0] in ("build", ".git") or "__pycache__" in parts or n.endswith(".pyc") or n == "handin.tar.gz":
            continue
        if parts[0] == "solutions" and not (len(parts) >= 4 and parts[2] == "hidden") \
                and n not in released:              # the course policy's released reference files
            continue
        full = os.path.join(root, n)
        if os.path.isfile(full) and not os.path.islink(full):
            out.append(n)
    return out


def _released_files(root: str, lab: int) -> list[str]:
    """'NN-name/file.c' for the reference files of a released lab (never hidden/)."""
    from grader.selection import lab_dirs
    folder = lab_dirs(root).get(lab)
    base = os.path.join(root, "solutions", folder or "-")
    return [f"{folder}/{f}" for f in sorted(os.listdir(base)) if f.endswith(".c")] if os.path.isdir(base) else []


def make_pristine_tree(root: str, dest: str, *, seed_build: bool = True, sol: str = "none") -> list[str]:
    """Copy the tree's files to dest (mtimes kept); with seed_build, also the instructor tree's
    build/none, so that only the submitted files are recompiled. Returns the copied paths."""
    files = tree_files(root, sol)
    for n in files:
        target = os.path.join(dest, n)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(root, n), target, follow_symlinks=False)
    cache = os.path.join(root, "build", sol)
    if seed_build and os.path.isfile(os.path.join(cache, "ntlab.iso")):
        lock = os.path.join(root, "build", f"{sol}.lock")
        try:
            with open(lock, "a+") as lf:
                fcntl.flock(lf, fcntl.LOCK_SH)
                try:
                    shutil.copytree(cache, os.path.join(dest, "build", sol), symlinks=True,
                                    copy_function=shutil.copy2, dirs_exist_ok=True,
                                    ignore=shutil.ignore_patterns("*.tmp*", "results*.json"))
                finally:
                    fcntl.flock(lf, fcntl.LOCK_UN)
        except OSError:
            shutil.rmtree(os.path.join(dest, "build", sol), ignore_errors=True)
    return files


def load_checkpoints(root: str) -> tuple[list[tuple], list[str]]:
    """[(checkpoint, lab title)] of every lab that loads, and the errors of those that do not."""
    out, errors = [], []
    base = os.path.join(root, "labs")
    for folder in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        path = os.path.join(base, folder, "lab.toml")
        if labconfig.LAB_DIR_RE.match(folder) and os.path.isfile(path):
            try:
                lab = labconfig.load_lab(path, root)
            except labconfig.LabConfigError as e:
                errors.append(str(e))
                continue
            out += [(cp, lab.title) for cp in lab.checkpoints]
    return out, errors


# ---------------------------------------------------------------- outputs

def _whole(kind: str, summary: str, details: list[str]):
    """A verdict factory giving every checkpoint the same failure."""
    def make(cp):
        return v.Verdict(kind, False, f"{cp.id}: {kind}: {summary}",
                         f"verdict: {kind}\n" + "\n".join(details))
    return make


def _results(checkpoints, verdict_for) -> list[CheckpointResult]:
    return [CheckpointResult.from_verdict(cp, title, verdict_for(cp)) for cp, title in checkpoints]


def junit_xml(data: dict) -> str:
    """JUnit XML for a results.json dict (one testcase per checkpoint)."""
    tests = data.get("tests", [])
    failures = sum(1 for t in tests if t.get("status") != "passed")
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           f'<testsuites><testsuite name="ntlab" tests="{len(tests)}" failures="{failures}" errors="0" '
           f'time="{data.get("execution_time", 0)}">']
    for t in tests:
        lab = t.get("number", "00.0").split(".")[0]
        attrs = f'classname={quoteattr("lab " + lab)} name={quoteattr(t.get("name", ""))}'
        props = (f'<properties><property name="score" value="{t.get("score", 0)}"/>'
                 f'<property name="max_score" value="{t.get("max_score", 0)}"/>'
                 f'<property name="visibility" value={quoteattr(t.get("visibility", "visible"))}/></properties>')
        if t.get("status") == "passed":
            out.append(f"<testcase {attrs}>{props}</testcase>")
        else:
            text = t.get("output", "")
            first = text.splitlines()[0] if text else "failed"
            out.append(f"<testcase {attrs}>{props}<failure message={quoteattr(first[:300])}>"
                       f"{escape(text)}</failure></testcase>")
    out.append("</testsuite></testsuites>")
    return "\n".join(out) + "\n"


class _Log:
    def __init__(self, echo=None):
        self.lines: list[str] = []
        self.start = time.monotonic()
        self.echo = echo

    def __call__(self, text: str) -> None:
        for line in str(text).splitlines() or [""]:
            stamped = f"[{time.monotonic() - self.start:7.2f}s] {line}"
            self.lines.append(stamped)
            if self.echo:
                self.echo(stamped)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


# ---------------------------------------------------------------- grading one submission

def grade_submission(submission: str, out: str, *, seed: int | None = None, jobs: int = 2, root: str = ROOT,
                     work: str | None = None, build_timeout: float = BUILD_TIMEOUT,
                     grade_timeout: float = GRADE_TIMEOUT, timeout_scale: float | None = None,
                     keep_work: bool = True, echo=None, lab=None, sol: str | None = None,
                     course: str | None = None) -> dict:
    """Grade one submission; write out/results.json, out/junit.xml, out/grade.log; return the
    results.json dict. Never raises for a bad submission (the results say what went wrong).
    sol=None grades each lab as the course policy says (grader/policy.py; course: its file);
    sol= and lab= (a number or a list) grade those labs with that selection."""
    if sol is None:
        from grader import policy
        return policy.grade_by_policy(grade_submission, submission, out, root=root, course=course, lab=lab,
                                      seed=seed, work=work, keep_work=keep_work, echo=echo, jobs=jobs,
                                      build_timeout=build_timeout, grade_timeout=grade_timeout,
                                      timeout_scale=timeout_scale)
    from grader.sandbox import Sandbox
    root = os.path.abspath(root)
    out = os.path.abspath(out)
    work = os.path.abspath(work or os.path.join(out, "work"))
    os.makedirs(out, exist_ok=True)
    log = _Log(echo)
    start = time.monotonic()
    if seed is None:
        seed = random.SystemRandom().getrandbits(32)
    log(f"ntlab submit: {submission}")
    log(f"seed {seed}; output {out}")
    notes: list[str] = []
    checkpoints, lab_errors = load_checkpoints(root)
    if lab is not None:
        labs = {int(lab)} if isinstance(lab, (int, str)) else {int(n) for n in lab}
        checkpoints = [(cp, t) for cp, t in checkpoints if cp.lab in labs]
        log(f"grading lab {lab} only")
    for e in lab_errors:
        log(f"warning: lab not graded: {e}")
    results: list[CheckpointResult] | None = None
    data: dict | None = None
    try:
        if os.path.isdir(work):
            shutil.rmtree(work)
        os.makedirs(work)
        os.chmod(work, 0o755)
        students = student_paths(root)
        try:
            files = unpack(submission, os.path.join(work, "submission"))
        except SubmissionError as e:
            log(f"unpack: {e}")
            results = _results(checkpoints, _whole(SUBMISSION_ERROR, str(e), [
                "expected: a handin tarball (make handin), a .zip, or a folder of your lab files",
                f"seen:     {e}"]))
            raise _Done() from None
        log(f"unpacked {len(files)} file(s)")
        chosen, notes = select_student_files(files, os.path.join(work, "submission"), students)
        for n in notes:
            log(n)
        if not chosen:
            msg = (f"the submission has no student file (expected labs/NN-name/<file> for the files "
                   f"named in each lab.toml; got {len(files)} other file(s))")
            log(msg)
            results = _results(checkpoints, _whole(EMPTY_SUBMISSION, msg, [
                "expected: your lab files, e.g. the handin.tar.gz that `make handin` writes",
                f"seen:     {msg}"] + [f"  {n}" for n in notes[:20]]))
            raise _Done()
        log(f"student files: {', '.join(sorted(chosen))}")
        missing = sorted(set(students) - set(chosen))
        if missing:
            log(f"not submitted (the stubs are graded): {', '.join(missing)}")
        problems = staticcheck.check_files(root, chosen)
        if problems:
            for p in problems:
                log(f"static check: {p}")
            results = _results(checkpoints, lambda cp: v.static_check_verdict(problems, cp, seed=seed))
            raise _Done()
        log("static check: ok")

        tree = os.path.join(work, "tree")
        t0 = time.monotonic()
        make_pristine_tree(root, tree, sol=sol, seed_build=False)
        for rel, src in chosen.items():
            target = os.path.join(tree, rel)
            with open(src, "rb") as f:
                content = f.read()
            if os.path.lexists(target):
                os.unlink(target)
            with open(target, "wb") as f:
                f.write(content)
        log(f"pristine tree with the student files: {os.path.relpath(tree, out)} ({time.monotonic() - t0:.1f}s)")
        # The framework's objects, built once per tree (for SOL=none: another selection's flags differ).
        seeded, left = framework_build.seed_tree(root, tree) if sol == "none" else (0, 0)
        log(f"framework objects reused: {seeded}; compiled for this submission: {left} (the student files)"
            if seeded else "framework objects: none to reuse (everything is compiled)")

        sb = Sandbox(tree)
        log(f"sandbox: {sb.mode}")
        env = {"NTLAB_BUILD_LOCKED": "1"}
        if timeout_scale:
            env["NTLAB_TIMEOUT_SCALE"] = str(timeout_scale)
        built = sb.run(framework_build.make_command(sol, "images"), build_timeout, env=env)
        build_log = built.output
        write_text_atomic(os.path.join(work, "build.log"), build_log)
        if built.timed_out or built.returncode != 0 or not framework_build.built(os.path.join(tree, "build", sol)):
            message = (f"the build did not finish within {build_timeout:g}s" if built.timed_out
                       else f"make SOL={sol} images exited with status {built.returncode}")
            log(f"build FAILED ({built.elapsed:.1f}s): {message}")
            for line in build_log.splitlines()[-40:]:
                log(f"  | {line}")
            results = _results(checkpoints, lambda cp: v.build_error_verdict(
                build_log, cp, sol=sol, seed=seed, message=message))
            raise _Done()
        log(f"build ok ({built.elapsed:.1f}s)")

        inner = sb.inner_tree
        cmd = [PYTHON, "-m", "pytest", "-p", "grader.plugin", "-p", "no:cacheprovider", "-q",
               "-n", str(max(0, jobs if jobs > 1 else 0)), f"--ntlab-sol={sol}", f"--ntlab-seed={seed}",
               f"--ntlab-results={inner}/build/results.json", f"--ntlab-root={inner}"] + ([f"--ntlab-lab={','.join(str(n) for n in sorted(labs))}"] if lab is not None else []) + ["labs"]
        graded = sb.run(cmd, grade_timeout, env={**env, "NTLAB_NO_BUILD": "1"})
        log(f"grade: pytest exited with status {graded.returncode} ({graded.elapsed:.1f}s)"
            + (" [TIMED OUT]" if graded.timed_out else ""))
        rpath = os.path.join(tree, "build", "results.json")
        if graded.timed_out or not os.path.isfile(rpath):
            why = (f"grading did not finish within {grade_timeout:g}s" if graded.timed_out
                   else "the grade wrote no results.json")
            for line in graded.output.splitlines()[-40:]:
                log(f"  | {line}")
            results = _results(checkpoints, _whole(GRADER_ERROR, why, [f"seen:     {why}"]
                                                   + graded.output.splitlines()[-30:]))
            raise _Done()
        with open(rpath, encoding="utf-8") as f:
            data = json.load(f)
        for line in graded.output.splitlines():
            if line.startswith(("ntlab:", "  ")) or "total" in line:
                log(f"  | {line}")
    except _Done:
        pass
    except Exception as e:                          # the pipeline itself failed: still a result
        import traceback
        log(f"grader error: {e!r}")
        log(traceback.format_exc())
        results = _results(checkpoints, _whole(GRADER_ERROR, f"the grading pipeline failed: {e}",
                                               ["seen:     an internal error of the grader; tell your instructor"]))
    if data is None:
        data = results_json(results or [], execution_time=time.monotonic() - start,
                            output=score_table(results or [], sol, seed))
    data["execution_time"] = int(round(time.monotonic() - start))
    extra = [n for n in notes if not n.startswith("used ")]
    if extra:
        data["output"] = (data.get("output", "") + "\n\nsubmission notes:\n" +
                          "\n".join(f"  {n}" for n in extra[:50])).lstrip("\n")
    total = sum(t.get("max_score", 0) for t in data.get("tests", []))
    log(f"score {data.get('score', 0)}/{total}")
    write_json_atomic(os.path.join(out, "results.json"), data)
    write_text_atomic(os.path.join(out, "junit.xml"), junit_xml(data))
    write_text_atomic(os.path.join(out, "grade.log"), log.text())
    if not keep_work:
        shutil.rmtree(work, ignore_errors=True)
    return data


class _Done(Exception):
    """Internal: the results are decided, go write them."""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m grader submit",
                                description="grade one submission in a sandbox; writes DIR/results.json, "
                                            "DIR/junit.xml and DIR/grade.log")
    p.add_argument("submission", help="a .tar.gz/.tgz/.tar/.zip archive or a folder")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--seed", type=lambda s: int(s, 0), default=None, help="seed of the ktests (default random)")
    p.add_argument("--jobs", "-j", type=int, default=2, help="QEMU boots at once (default 2)")
    p.add_argument("--work", default=None, help="work folder (default OUT/work)")
    p.add_argument("--root", default=ROOT, help=argparse.SUPPRESS)
    p.add_argument("--build-timeout", type=float, default=BUILD_TIMEOUT, help="seconds for the build")
    p.add_argument("--grade-timeout", type=float, default=GRADE_TIMEOUT, help="seconds for all the boots")
    p.add_argument("--timeout-scale", type=float, default=None, help="scale every checkpoint's timeout")
    p.add_argument("--lab", type=int, default=None, help="grade only this lab")
    p.add_argument("--course", default=None, help="the course policy file (default ROOT/course.toml)")
    p.add_argument("--no-keep-work", action="store_true", help="delete the work folder afterwards")
    p.add_argument("--quiet", "-q", action="store_true", help="do not echo the log")
    args = p.parse_args(argv)
    echo = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    data = grade_submission(args.submission, args.out, seed=args.seed, jobs=args.jobs, root=args.root,
                            work=args.work, build_timeout=args.build_timeout, grade_timeout=args.grade_timeout,
                            timeout_scale=args.timeout_scale, keep_work=not args.no_keep_work, echo=echo,
                            lab=args.lab, course=args.course)
    total = sum(t.get("max_score", 0) for t in data.get("tests", []))
    print(f"{data.get('score', 0)}/{total}")
    return 0


# ---------------------------------------------------------------- the Gradescope bundle

AUTOGRADER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "autograder")


def build_autograder(root: str = ROOT, output: str | None = None) -> tuple[str, int]:
    """Write the Gradescope autograder zip: setup.sh and run_autograder at the top, the tree
    (without solutions/*.c, with solutions/*/hidden/) under ntlab/. Returns (path, file count)."""
    root = os.path.abspath(root)
    output = os.path.abspath(output or os.path.join(root, "build", "autograder.zip"))
    os.makedirs(os.path.dirname(output), exist_ok=True)
    files = tree_files(root)
    tmp = f"{output}.tmp{os.getpid()}"
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for name in ("setup.sh", "run_autograder"):
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = (0o100755 << 16)
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(os.path.join(AUTOGRADER_DIR, name), "rb") as f:
                    z.writestr(info, f.read())
            for n in files:
                full = os.path.join(root, n)
                st = os.stat(full)
                when = time.localtime(max(st.st_mtime, 315532800))[:6]    # zip dates start in 1980
                info = zipfile.ZipInfo("ntlab/" + n, date_time=when)
                mode = st.st_mode
                info.external_attr = ((0o100755 if mode & 0o111 else 0o100644) << 16)
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(full, "rb") as f:
                    z.writestr(info, f.read())
        os.replace(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return output, len(files) + 2


def autograder_main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m grader autograder",
                                description="build the Gradescope autograder zip")
    p.add_argument("--output", "-o", default=None, help="the zip (default build/autograder.zip)")
    p.add_argument("--root", default=ROOT, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    path, n = build_autograder(args.root, args.output)
    print(f"ntlab: autograder bundle: {os.path.relpath(path)} ({n} files; setup.sh, run_autograder, ntlab/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
