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
import gzip
import hashlib
import io
import json
import os
import random
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import time
import zipfile
import zlib

from grader import build as framework_build
from grader import labconfig, staticcheck
from grader import verdict as v
from grader.handin import MANIFEST, student_paths
from grader.results import CheckpointResult, results_json, write_json_atomic, write_text_atomic
from grader.selection import ROOT

MAX_FILES = 200
MAX_FILE = 2 << 20
MAX_TOTAL = 20 << 20
MAX_ARCHIVE = 16 << 20
BUILD_TIMEOUT = 300.0
GRADE_TIMEOUT = 900.0
UNPACK_TIMEOUT = 60.0
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".zip")

# kinds of a whole-submission failure (every checkpoint gets it)
SUBMISSION_ERROR = "submission error"
EMPTY_SUBMISSION = "empty submission"
GRADER_ERROR = "grader error"


def escape(text: str) -> str:
    """XML character data (xml.sax.saxutils.escape without its slow imports)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoteattr(text: str) -> str:
    """A quoted XML attribute value."""
    return '"' + escape(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;") \
        .replace("\t", "&#9;") + '"'


class SubmissionError(Exception):
    """The submission cannot be used; the message says why (shown to the student)."""


# ---------------------------------------------------------------- safe unpacking
# Runs in the unpack sandbox (python3 -m grader.submit unpack SRC DEST RESULT): limits on
# memory, CPU, file size and wall-clock time, no view of anything but the archive.

MAX_DECOMPRESSED = MAX_TOTAL + (MAX_FILES + 8) * 1024 + (1 << 20)   # data, headers, long names
MAX_NAME = 200
MAX_DEPTH = 12
_NAME_RE = re.compile(r"[A-Za-z0-9._+@=, -]+")


def esc(text) -> str:
    """text with control bytes, quotes, backslashes and non-ASCII escaped (for logs and results)."""
    return staticcheck.esc(text)


def _safe_name(name: str) -> str:
    """The normalised relative path of an archive member; raises SubmissionError if unsafe."""
    if len(name) > MAX_NAME:
        raise SubmissionError(f"refused: the entry \"{esc(name[:60])}...\" has a name longer than {MAX_NAME} "
                              f"characters")
    n = name.replace("\\", "/")
    if n.startswith("/") or re.match(r"^[A-Za-z]:", n):
        raise SubmissionError(f"refused: the entry \"{esc(name)}\" has an absolute path")
    parts = [p for p in n.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise SubmissionError(f"refused: the entry \"{esc(name)}\" has a '..' component")
    if len(parts) > MAX_DEPTH:
        raise SubmissionError(f"refused: the entry \"{esc(name)}\" is nested deeper than {MAX_DEPTH} folders")
    for p in parts:
        if not _NAME_RE.fullmatch(p) or p.startswith("-"):
            raise SubmissionError(f"refused: the entry \"{esc(name)}\" has a character that is not allowed in "
                                  f"a name (letters, digits and . _ + @ = , - and spaces only)")
    return "/".join(parts)


class _Budget:
    def __init__(self):
        self.files = 0
        self.total = 0

    def entry(self, name: str, header: int = 0) -> None:
        """Any entry (file, folder, link...): counted against MAX_FILES; header bytes against MAX_TOTAL."""
        self.files += 1
        if self.files > MAX_FILES:
            raise SubmissionError(f"refused: more than {MAX_FILES} entries (files and folders)")
        self.data(name, header)

    def data(self, name: str, size: int) -> None:
        self.total += size
        if self.total > MAX_TOTAL:
            raise SubmissionError(f"refused: more than {MAX_TOTAL} bytes in all")

    def add(self, name: str, size: int) -> None:
        if size > MAX_FILE:
            raise SubmissionError(f"refused: \"{esc(name)}\" is {size} bytes (at most {MAX_FILE} per file)")
        self.entry(name)
        self.data(name, size)


class _CappedReader(io.RawIOBase):
    """A readable stream that raises SubmissionError after `cap` bytes (a decompression bomb)."""

    def __init__(self, raw, cap: int):
        self.raw, self.cap, self.count = raw, cap, 0

    def readable(self):
        return True

    def read(self, n=-1):
        want = self.cap + 1 - self.count if n is None or n < 0 else min(n, self.cap + 1 - self.count)
        data = self.raw.read(max(0, want))
        self.count += len(data)
        if self.count > self.cap:
            raise SubmissionError(f"refused: the archive decompresses to more than {self.cap} bytes")
        return data

    def readinto(self, b):
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)


def _write_new(dest: str, rel: str, data: bytes) -> None:
    path = os.path.join(dest, rel)
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    real = os.path.realpath(parent)
    if real != os.path.realpath(dest) and not real.startswith(os.path.realpath(dest) + os.sep):
        raise SubmissionError(f"refused: \"{esc(rel)}\" would be written outside the work folder")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    except FileExistsError:
        raise SubmissionError(f"refused: \"{esc(rel)}\" appears twice (or as a file and a folder)") from None
    except (IsADirectoryError, NotADirectoryError):
        raise SubmissionError(f"refused: \"{esc(rel)}\" is both a file and a folder") from None
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _read_capped(f, name: str, budget: _Budget) -> bytes:
    data = f.read(MAX_FILE + 1)
    if len(data) > MAX_FILE:
        raise SubmissionError(f"refused: \"{esc(name)}\" is larger than {MAX_FILE} bytes")
    budget.data(name, 0)
    return data


def _unpack_tar(src: str, dest: str) -> list[str]:
    """A gzip-compressed tar, read as a stream through a cap on the decompressed bytes: each
    header is checked (name, type, declared size, counts) before its data is read."""
    budget = _Budget()
    out: list[str] = []
    try:
        with open(src, "rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as gz:
            capped = io.BufferedReader(_CappedReader(gz, MAX_DECOMPRESSED), 1 << 16)
            with tarfile.open(fileobj=capped, mode="r|") as tar:
                for m in tar:
                    rel = _safe_name(m.name)
                    budget.entry(m.name, 512 + (len(m.name) if len(m.name) > 100 else 0))
                    if m.issym() or m.islnk():
                        raise SubmissionError(f"refused: \"{esc(m.name)}\" is a "
                                              f"{'symbolic' if m.issym() else 'hard'} link (to \"{esc(m.linkname)}\")")
                    if m.isdir():
                        continue
                    if not m.isreg():
                        raise SubmissionError(f"refused: \"{esc(m.name)}\" is a device, FIFO or other special file")
                    if m.size > MAX_FILE:
                        raise SubmissionError(f"refused: \"{esc(m.name)}\" is {m.size} bytes (at most {MAX_FILE} "
                                              f"per file)")
                    budget.data(m.name, m.size)
                    if not rel:
                        continue
                    f = tar.extractfile(m)
                    _write_new(dest, rel, _read_capped(f, m.name, budget) if f else b"")
                    out.append(rel)
    except SubmissionError:
        raise
    except (tarfile.TarError, EOFError, OSError, ValueError, zlib.error) as e:
        raise SubmissionError(f"refused: not a readable .tar.gz archive ({esc(e)})") from None
    return out


def _unpack_zip(src: str, dest: str) -> list[str]:
    budget = _Budget()
    out = []
    try:
        with zipfile.ZipFile(src) as z:
            infos = z.infolist()
            if len(infos) > MAX_FILES:
                raise SubmissionError(f"refused: more than {MAX_FILES} entries (files and folders)")
            wanted = []
            for i in infos:
                rel = _safe_name(i.filename)
                budget.entry(i.filename, 46 + len(i.filename) + len(i.extra) + len(i.comment))
                mode = i.external_attr >> 16
                if stat.S_ISLNK(mode):
                    raise SubmissionError(f"refused: \"{esc(i.filename)}\" is a symbolic link")
                if i.is_dir():
                    continue
                if stat.S_IFMT(mode) and not stat.S_ISREG(mode):    # zip writers often set no type bits
                    raise SubmissionError(f"refused: \"{esc(i.filename)}\" is a device, FIFO or other special file")
                if i.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise SubmissionError(f"refused: \"{esc(i.filename)}\" uses a compression other than deflate")
                if i.file_size > MAX_FILE:
                    raise SubmissionError(f"refused: \"{esc(i.filename)}\" is {i.file_size} bytes (at most "
                                          f"{MAX_FILE} per file)")
                if rel:
                    wanted.append((i, rel))
            for i, rel in wanted:
                with z.open(i) as f:
                    data = _read_capped(f, i.filename, budget)
                budget.data(i.filename, len(data))       # the bytes really decompressed
                _write_new(dest, rel, data)
                out.append(rel)
    except SubmissionError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, zlib.error,
            NotImplementedError) as e:
        raise SubmissionError(f"refused: not a readable zip archive ({esc(e)})") from None
    return out


def _unpack_dir(src: str, dest: str) -> list[str]:
    budget = _Budget()
    out = []
    src = os.path.abspath(src)
    for dirpath, dirs, files in os.walk(src, followlinks=False):
        for d in list(dirs):
            rel = os.path.relpath(os.path.join(dirpath, d), src).replace(os.sep, "/")
            if os.path.islink(os.path.join(dirpath, d)):
                raise SubmissionError(f"refused: \"{esc(rel)}\" is a symbolic link")
            if d in (".git", "build", "__pycache__", ".pytest_cache"):
                dirs.remove(d)
                continue
            budget.entry(rel)
        for name in sorted(files):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, src).replace(os.sep, "/")
            rel = _safe_name(rel)
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                raise SubmissionError(f"refused: \"{esc(rel)}\" is a symbolic link")
            if not stat.S_ISREG(st.st_mode):
                raise SubmissionError(f"refused: \"{esc(rel)}\" is a device, FIFO or other special file")
            budget.add(rel, st.st_size)
            with open(full, "rb") as f:
                _write_new(dest, rel, _read_capped(f, rel, budget))
            out.append(rel)
    return out


def _kind(src: str) -> str:
    """'zip', 'tar.gz' or a SubmissionError: archives are recognised by their bytes, not their name."""
    with open(src, "rb") as f:
        head = f.read(4)
    if head[:2] == b"\x1f\x8b":
        return "tar.gz"
    if head in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    what = {b"BZh": "bzip2", b"\xfd7z": "xz", b"(\xb5/": "zstd"}.get(head[:3], "")
    raise SubmissionError(f"refused: not a gzip-compressed tar (.tar.gz, .tgz) or a zip "
                          f"archive{' (it is ' + what + ')' if what else ''}; make handin writes handin.tar.gz")


def unpack(src: str, dest: str) -> list[str]:
    """Unpack a submission (archive or folder) into dest; return the relative paths written.
    A folder holding nothing but one archive (Gradescope's upload of handin.tar.gz) is that archive."""
    os.makedirs(dest, exist_ok=True)
    if not os.path.lexists(src):
        raise SubmissionError(f"{esc(os.path.basename(src))}: no such file or folder")
    if os.path.islink(src):
        raise SubmissionError(f"refused: {esc(os.path.basename(src))} is a symbolic link")
    if os.path.isdir(src):
        entries = [e for e in os.listdir(src) if not e.startswith(".")]
        if len(entries) == 1 and entries[0].lower().endswith(ARCHIVE_SUFFIXES) and \
                os.path.isfile(os.path.join(src, entries[0])) and not os.path.islink(os.path.join(src, entries[0])):
            return unpack(os.path.join(src, entries[0]), dest)
        return _unpack_dir(src, dest)
    if not os.path.isfile(src):
        raise SubmissionError(f"refused: {esc(os.path.basename(src))} is not a regular file or a folder")
    if os.path.getsize(src) > MAX_ARCHIVE:
        raise SubmissionError(f"refused: the archive is larger than {MAX_ARCHIVE} bytes")
    return _unpack_zip(src, dest) if _kind(src) == "zip" else _unpack_tar(src, dest)


def unpack_main(argv: list[str]) -> int:
    """python3 -m grader.submit unpack SRC DEST RESULT (in the unpack sandbox): RESULT gets
    {"files": [...]} or {"error": "..."}."""
    src, dest, result = argv
    try:
        data = {"files": unpack(src, dest)}
    except SubmissionError as e:
        data = {"error": str(e)}
    except MemoryError:
        data = {"error": "refused: unpacking needed more memory than allowed"}
    with open(result + ".tmp", "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(result + ".tmp", result)
    return 0


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

TREE_MANIFEST = "TREE_MANIFEST"          # "sha256  path" lines: the tree of a copy without git
GRADE_TREE = ("Makefile", "course.toml", "kernel/", "labs/", "grader/", "tools/", "user/")   # what a grade needs


class TreeError(Exception):
    """The pristine tree cannot be made (no commit or manifest, a file differs from it)."""


def _git(root: str, *args: str) -> bytes | None:
    try:
        r = subprocess.run(["git", "-C", root, *args], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout if r.returncode == 0 else None


def _wanted(n: str) -> bool:
    parts = n.split("/")
    if "__pycache__" in parts or n.endswith(".pyc"):
        return False
    if parts[0] == "solutions":
        return len(parts) >= 4 and parts[2] == "hidden"
    return n in GRADE_TREE or any(n.startswith(p) for p in GRADE_TREE if p.endswith("/"))


def tree_manifest(root: str, commit: str = "HEAD") -> tuple[str, dict[str, str | bytes]]:
    """The pristine tree: (where it comes from, {path: host file or the bytes to write}).
    In a git checkout: the files of `commit` (their committed content, never an untracked or
    modified file of the checkout); otherwise the files TREE_MANIFEST lists, each checked
    against its SHA-256. Plus solutions/*/hidden/ (the hidden checkpoints), which an
    instructor may keep out of git. Only what a grade needs (GRADE_TREE) is taken."""
    root = os.path.abspath(root)
    files: dict[str, str | bytes] = {}
    top = _git(root, "rev-parse", "--show-toplevel") if shutil.which("git") else None
    if top is not None and os.path.realpath(top.decode().strip()) == os.path.realpath(root):
        rev = _git(root, "rev-parse", "--verify", commit + "^{commit}")
        if rev is None:
            raise TreeError(f"no commit {commit!r} in the repository")
        rev = rev.decode().strip()
        names = [n for n in (_git(root, "ls-tree", "-r", "-z", "--name-only", rev) or b"").decode().split("\0") if n]
        changed = set(n for n in (_git(root, "diff", "--name-only", "-z", rev, "--") or b"").decode().split("\0")
                      if n)
        for n in names:
            if not _wanted(n):
                continue
            full = os.path.join(root, n)
            if n in changed or not os.path.isfile(full) or os.path.islink(full):
                blob = _git(root, "cat-file", "blob", f"{rev}:{n}")
                if blob is None:
                    raise TreeError(f"cannot read {n} at {rev[:12]}")
                files[n] = blob
            else:
                files[n] = full
        origin = f"commit {rev[:12]}" + (f" ({len([n for n in changed if _wanted(n)])} file(s) of the checkout "
                                         f"differ and were taken from the commit)" if changed else "")
    else:
        mpath = os.path.join(root, TREE_MANIFEST)
        if not os.path.isfile(mpath):
            raise TreeError(f"the tree is neither a git checkout nor has a {TREE_MANIFEST} (make autograder "
                            f"writes one)")
        with open(mpath, encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("  ", 1)
                if len(parts) != 2 or line.startswith("#"):
                    continue
                digest, n = parts
                full = os.path.join(root, n)
                if not _wanted(n) or n.startswith("solutions/"):
                    continue
                try:
                    with open(full, "rb") as fh:
                        ok = hashlib.sha256(fh.read()).hexdigest() == digest
                except OSError:
                    ok = False
                if not ok or os.path.islink(full):
                    raise TreeError(f"{n} differs from {TREE_MANIFEST}")
                files[n] = full
        origin = TREE_MANIFEST
    sol = os.path.join(root, "solutions")
    for lab in sorted(os.listdir(sol)) if os.path.isdir(sol) else []:
        hidden = os.path.join(sol, lab, "hidden")
        for dirpath, dirs, names in os.walk(hidden):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in names:
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, root).replace(os.sep, "/")
                if os.path.isfile(full) and not os.path.islink(full) and _wanted(rel):
                    files[rel] = full
    return origin, dict(sorted(files.items()))


def released_files(root: str, sol: str = "none") -> dict[str, str]:
    """{path: host file} of the released reference files (never hidden/): the labs course.toml
    releases and the labs of the selection sol (the course policy's build of a lab)."""
    from grader import policy, selection
    try:
        labs = set(policy.load(root).released) | set(selection.parse(sol, root))
    except (policy.CourseError, selection.SelectionError):
        labs = set()
    folders = selection.lab_dirs(root)
    out = {}
    for n in sorted(labs):
        base = os.path.join(root, "solutions", folders.get(n) or "-")
        for f in sorted(os.listdir(base)) if os.path.isdir(base) else []:
            full = os.path.join(base, f)
            if f.endswith(".c") and os.path.isfile(full) and not os.path.islink(full):
                out[f"solutions/{folders[n]}/{f}"] = full
    return out


def tree_files(root: str, sol: str = "none") -> list[str]:
    """The paths of the pristine tree (tree_manifest) and of the released reference files."""
    return sorted(set(tree_manifest(root)[1]) | set(released_files(root, sol)))


def make_pristine_tree(root: str, dest: str, *, seed_build: bool = True, sol: str = "none") -> str:
    """Write the pristine tree to dest (mtimes of unchanged files kept) with the released
    reference files the course policy and sol name; with seed_build, also the instructor tree's
    build/<sol>, so that the framework is not recompiled. Returns where the tree came from."""
    origin, files = tree_manifest(root)
    files.update(released_files(root, sol))
    for n, src in files.items():
        target = os.path.join(dest, n)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if isinstance(src, bytes):
            with open(target, "wb") as f:
                f.write(src)
            if n.endswith(".sh") or n.startswith("grader/autograder/"):
                os.chmod(target, 0o755)
        else:
            shutil.copy2(src, target, follow_symlinks=False)
    cache = os.path.join(root, "build", sol)
    if seed_build and os.path.isfile(os.path.join(cache, "ntlab.iso")):
        lock = os.path.join(root, "build", f"{sol}.lock")
        try:
            with open(lock, "a+") as lf:
                fcntl.flock(lf, fcntl.LOCK_SH)
                try:
                    shutil.copytree(cache, os.path.join(dest, "build", sol), symlinks=True,
                                    copy_function=shutil.copy2, dirs_exist_ok=True,
                                    ignore=shutil.ignore_patterns("*.tmp*", "results*.json", "ntlab.elf",
                                                                  "ntlab.iso", "isodir", "*.log"))
                finally:
                    fcntl.flock(lf, fcntl.LOCK_UN)
        except OSError:
            shutil.rmtree(os.path.join(dest, "build", sol), ignore_errors=True)
    return origin


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


def _inside(path: str, root: str) -> bool:
    path, root = os.path.realpath(path), os.path.realpath(root)
    return path == root or path.startswith(root + os.sep)


def check_folders(root: str, out: str, work: str) -> None:
    """Refuse an output or work folder inside the repository (a later grade would copy it, and
    a submission could read it): raises SubmissionError with the reason."""
    for what, path in (("--out", out), ("--work", work)):
        if _inside(path, root):
            raise SetupError(f"ntlab: refusing {what} {esc(os.path.relpath(path, root))}: it is inside the "
                             f"repository; use a folder outside it (e.g. ../grades/alice)")


class SetupError(Exception):
    """The grading cannot start (folders, isolation); nothing was graded."""


def _plain_traceback(root: str) -> str:
    """The current exception's traceback without absolute paths."""
    import traceback
    text = traceback.format_exc()
    text = text.replace(os.path.abspath(root) + os.sep, "")
    return re.sub(r'File "(/[^"]*/)?([^"/]+)"', r'File "\2"', text)


def _student_diagnostics(text: str, inner: str, students: set[str]) -> str:
    """Compiler messages for the student: host and sandbox paths removed, at most 60 lines."""
    text = text.replace(inner + "/", "").replace(inner, ".")
    text = re.sub(r"(?<![\w.])/(?:[\w.+-]+/)+([\w.+-]+)", r"\1", text)     # no absolute path at all
    return "\n".join(text.splitlines()[:60])


def visible_output(data: dict, seed, extra: list[str]) -> str:
    """The top-level output of results.json (always shown to the student): the visible
    checkpoints only; hidden ones are counted, not named, until publication."""
    tests = data.get("tests", [])
    shown = [t for t in tests if t.get("visibility", "visible") == "visible"]
    hidden = [t for t in tests if t not in shown]
    lines = [f"ntlab score (seed {seed})"]
    for t in shown:
        status = "PASS" if t.get("status") == "passed" else "FAIL"
        lines.append(f"  {t.get('number', ''):<6}{t.get('name', '').split(':')[0]:<34} {status}  "
                     f"{t.get('score', 0)}/{t.get('max_score', 0)}")
    got = sum(t.get("score", 0) for t in shown)
    top = sum(t.get("max_score", 0) for t in shown)
    lines.append(f"  visible checkpoints: {got}/{top}")
    if hidden:
        lines.append(f"  {len(hidden)} hidden checkpoint(s) are graded too; they appear when the grades are "
                     f"published")
    return "\n".join(lines + extra)


REVIEW_KINDS = ("static check", "integrity failure", "serial flood", "triple fault")


def review_reasons(data: dict, problems: list[str]) -> list[str]:
    """Why a submission should be looked at by a person (empty: nothing suspicious)."""
    reasons = []
    for p in problems[:10]:
        reasons.append(f"refused by the checks: {p}")
    kinds: dict[str, int] = {}
    for t in data.get("tests", []):
        m = re.match(r"verdict: (.+)", t.get("output", ""))
        if m and t.get("status") != "passed" and m.group(1).strip() in REVIEW_KINDS[1:]:
            kinds[m.group(1).strip()] = kinds.get(m.group(1).strip(), 0) + 1
    for k, n in sorted(kinds.items()):
        reasons.append(f"{n} checkpoint(s) ended in {k}")
    tampered = [t.get("name", "?").split(":")[0] for t in data.get("tests", [])
                if "registry FAIL" in t.get("output", "")]
    if tampered:
        reasons.append(f"the ktest registry was rewritten at run time ({', '.join(tampered[:5])})")
    return reasons


# ---------------------------------------------------------------- grading one submission

def _sandboxed_unpack(submission: str, work: str, unconfined: bool, log) -> list[str]:
    """Unpack in its own sandbox (limits; sees only the archive and the grader's code).
    Returns the files, in work/unpack/build/files; raises SubmissionError."""
    from grader.sandbox import Limits, Sandbox
    box = os.path.join(work, "unpack")
    os.makedirs(os.path.join(box, "build"), exist_ok=True)
    src = os.path.abspath(submission)
    if not os.path.lexists(src):
        raise SubmissionError(f"{esc(os.path.basename(src))}: no such file or folder")
    if os.path.islink(src):
        raise SubmissionError(f"refused: {esc(os.path.basename(src))} is a symbolic link")
    grader_dir = os.path.dirname(os.path.abspath(__file__))
    if unconfined:
        # no bind mounts: give the unprivileged user its own copy (links kept, to be refused)
        copy = os.path.join(box, "in", os.path.basename(src) or "submission")
        if os.path.isdir(src):
            shutil.copytree(src, copy, symlinks=True)
        else:
            os.makedirs(os.path.dirname(copy), exist_ok=True)
            shutil.copyfile(src, copy)
        for dirpath, dirs, names in os.walk(box):
            for n in [dirpath] + [os.path.join(dirpath, x) for x in dirs + names]:
                if not os.path.islink(n):
                    os.chmod(n, 0o755 if os.path.isdir(n) else 0o644)
        src = copy
    sb = Sandbox(box, Limits(address_space=1 << 30, cpu_seconds=60, file_size=MAX_FILE + (1 << 16), processes=64),
                 unconfined=unconfined,
                 ro_binds=[(src, "/tmp/ntlab/in/submission"), (grader_dir, "/tmp/ntlab/lib/grader")])
    inner_src = sb.inner(src, "/tmp/ntlab/in/submission")
    lib = sb.inner(os.path.dirname(grader_dir), "/tmp/ntlab/lib")
    r = sb.run([PYTHON, "-m", "grader.submit", "unpack", inner_src, f"{sb.inner_tree}/build/files",
                f"{sb.inner_tree}/build/unpack.json"], UNPACK_TIMEOUT, env={"PYTHONPATH": lib})
    result = os.path.join(box, "build", "unpack.json")
    if r.timed_out:
        raise SubmissionError(f"refused: unpacking took more than {UNPACK_TIMEOUT:g}s")
    try:
        with open(result, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        tail = " ".join(r.output.strip().splitlines()[-1:])
        raise SubmissionError("refused: the archive could not be unpacked within the limits "
                              f"(memory, CPU, size){': ' + esc(tail[-200:]) if tail and 'MemoryError' in tail else ''}") \
            from None
    if "error" in data:
        raise SubmissionError(str(data["error"]))
    base = os.path.join(box, "build", "files")
    files = []
    for rel in data.get("files", []):
        rel = _safe_name(str(rel))
        full = os.path.join(base, rel)
        st = os.lstat(full)
        if not stat.S_ISREG(st.st_mode) or not _inside(full, base):
            raise SubmissionError(f"refused: \"{esc(rel)}\" is not a regular file")
        files.append(rel)
    return files


def _compile_tree(root_tree: str, dest: str, chosen: dict[str, str]) -> dict[str, str]:
    """The compile view: the Makefile, the grader (for make's selection helper), kernel/include
    and the components' private headers,
    each lab's lab.toml and headers, the student's files, and the stubs (to learn the lab's
    names) under stubs/. Nothing else: no tests' sources, no hidden folder, no other file."""
    def copy(rel, target=None):
        t = os.path.join(dest, target or rel)
        os.makedirs(os.path.dirname(t), exist_ok=True)
        shutil.copyfile(os.path.join(root_tree, rel), t)
    copy("Makefile")
    for dirpath, dirs, names in os.walk(os.path.join(root_tree, "grader")):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for n in names:
            if n.endswith(".py"):
                copy(os.path.relpath(os.path.join(dirpath, n), root_tree))
    for dirpath, _dirs, names in os.walk(os.path.join(root_tree, "kernel", "include")):
        for n in names:
            copy(os.path.relpath(os.path.join(dirpath, n), root_tree))
    # The components' own headers, which some student files include by path (lab 08's VM and
    # fault files: kernel/mm/mi.h, through kernel/include/mmpf.h too): headers only.
    for dirpath, _dirs, names in os.walk(os.path.join(root_tree, "kernel")):
        for n in names:
            rel = os.path.relpath(os.path.join(dirpath, n), root_tree)
            if n.endswith(".h") and not rel.startswith(os.path.join("kernel", "include") + os.sep):
                copy(rel)
    stubs = {}
    labs = os.path.join(root_tree, "labs")
    for lab in sorted(os.listdir(labs)):
        for dirpath, _dirs, names in os.walk(os.path.join(labs, lab)):
            for n in names:
                rel = os.path.relpath(os.path.join(dirpath, n), root_tree).replace(os.sep, "/")
                if n.endswith(".h") or n == "lab.toml":
                    copy(rel)
                elif rel in chosen:
                    copy(rel, "stubs/" + rel)
                    stubs[rel] = "stubs/" + rel
    for rel, src in chosen.items():
        t = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(t), exist_ok=True)
        shutil.copyfile(src, t)
    for dirpath, dirs, names in os.walk(dest):
        os.chmod(dirpath, 0o755)
        for n in names:
            os.chmod(os.path.join(dirpath, n), 0o644)
    return stubs


_CFLAGS: dict[str, list[str]] = {}     # the Makefile's compile flags, per pristine Makefile (a batch asks once)


def _cflags_key(tree: str, where) -> str:
    h = hashlib.sha256(str(where).encode())
    for rel in ("Makefile", "grader/selection.py"):
        with open(os.path.join(tree, rel), "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def _stub_definitions(root: str, tree: str, chosen) -> dict[str, list[str]]:
    """The global names each stub defines, read from the stub's object in the framework build
    (build/none of root, made once per tree and pipeline run: framework_build.framework_objects)
    when every source and header it was compiled from is byte for byte the pristine tree's; a
    file without one is compiled from its stub in the sandbox."""
    return framework_build.stub_symbols(root, tree, chosen, lambda obj: staticcheck.object_symbols(obj)[0])


HEADERS_DIR = "headers"      # the parsed header prefixes in the compile view (read-only there)


def _header_prefixes(root: str, tree: str, ctree: str, chosen) -> str | None:
    """The static check's parsed header prefixes for the chosen files (staticcheck.header_cache):
    made on the host from the pristine tree's stubs and headers, once per framework (kept in
    root's build/none/headers/<hash of the headers, stubs and flags>/), copied into the
    compile view's headers/ folder. Returns that folder as the check sees it (relative), or None
    (the check then parses every file whole)."""
    try:
        h = hashlib.sha256()
        names = []
        for dirpath, dirs, files in os.walk(ctree):
            dirs[:] = [d for d in dirs if d not in ("build", "stubs", "__pycache__")]
            names += [os.path.relpath(os.path.join(dirpath, f), ctree) for f in files
                      if f.endswith(".h") or f == "Makefile"]
        names += [rel for rel in chosen]                         # the stubs, read from the pristine tree
        for n in sorted(set(names)):
            base = tree if n in chosen else ctree
            with open(os.path.join(base, n), "rb") as f:
                h.update(n.encode() + b"\0" + hashlib.sha256(f.read()).digest())
        with open(os.path.join(tree, "grader", "staticcheck.py"), "rb") as f:
            h.update(f.read())
        cache = os.path.join(root, "build", framework_build.FRAMEWORK_SOL, HEADERS_DIR, h.hexdigest()[:16])
        index_path = os.path.join(cache, "index.json")
        os.makedirs(cache, exist_ok=True)
        with open(os.path.join(cache, "lock"), "a+") as lf:
            fcntl.flock(lf, fcntl.LOCK_EX)          # one maker at a time (batch -j N grades at once)
            try:
                index = {}
                if os.path.isfile(index_path):
                    with open(index_path, encoding="utf-8") as f:
                        index = json.load(f)
                todo = [rel for rel in chosen if rel not in index]
                if todo:
                    r = subprocess.run(["make", "-s", "--no-print-directory", "SOL=none", "print-cflags"], cwd=tree,
                                       capture_output=True, text=True, timeout=120,
                                       env={**os.environ, "NTLAB_DEPS_OK": "1"})
                    if r.returncode != 0:
                        return None
                    import shlex
                    cflags = [c for c in shlex.split(r.stdout) if c not in ("-MMD", "-MP")]
                    made = staticcheck.header_cache(tree, todo, cflags, cache)
                    index.update(made)
                    index.update({rel: None for rel in todo if rel not in made})
                    write_json_atomic(index_path, index)
            finally:
                fcntl.flock(lf, fcntl.LOCK_UN)
        dest = os.path.join(ctree, HEADERS_DIR)
        os.makedirs(dest, exist_ok=True)
        for key in sorted({index.get(rel) for rel in chosen} - {None}):
            shutil.copyfile(os.path.join(cache, key + ".pickle"), os.path.join(dest, key + ".pickle"))
        return HEADERS_DIR
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def grade_submission(submission: str, out: str, *, seed: int | None = None, jobs: int = 2, root: str = ROOT,
                     work: str | None = None, build_timeout: float = BUILD_TIMEOUT,
                     grade_timeout: float = GRADE_TIMEOUT, timeout_scale: float | None = None,
                     keep_work: bool = True, echo=None, lab=None, sol: str | None = None,
                     course: str | None = None, unconfined: bool = False) -> dict:
    """Grade one submission; write out/results.json, out/junit.xml, out/grade.log; return the
    results.json dict. Never raises for a bad submission (the results say what went wrong).
    sol=None grades each lab as the course policy says (grader/policy.py; course: its file);
    sol= and lab= (a number or a list) grade those labs with that selection. Raises SetupError
    (or sandbox.IsolationError) before anything is graded when the output or work folder is
    inside the repository, or there is no isolation and not `unconfined`."""
    if sol is None:
        from grader import policy
        return policy.grade_by_policy(grade_submission, submission, out, root=root, course=course, lab=lab,
                                      seed=seed, work=work, keep_work=keep_work, echo=echo, jobs=jobs,
                                      build_timeout=build_timeout, grade_timeout=grade_timeout,
                                      timeout_scale=timeout_scale, unconfined=unconfined)
    from grader.sandbox import Limits, Sandbox, check_isolation
    root = os.path.abspath(root)
    out = os.path.abspath(out)
    work = os.path.abspath(work or os.path.join(out, "work"))
    check_folders(root, out, work)
    why_unconfined = check_isolation(unconfined)
    os.makedirs(out, exist_ok=True)
    log = _Log(echo)
    start = time.monotonic()
    if seed is None:
        seed = random.SystemRandom().getrandbits(32)
    log(f"ntlab submit: {esc(os.path.basename(os.path.abspath(submission)))}")
    log(f"seed {seed}")
    if why_unconfined:
        log(f"WARNING: UNCONFINED grading (--unconfined): no isolation ({why_unconfined})")
    notes: list[str] = []
    problems: list[str] = []
    checkpoints, lab_errors = load_checkpoints(root)
    if lab is not None:
        labs = {int(lab)} if isinstance(lab, (int, str)) else {int(n) for n in lab}
        checkpoints = [(cp, t) for cp, t in checkpoints if cp.lab in labs]
        log(f"grading lab {lab} only")
    for e in lab_errors:
        log(f"warning: lab not graded: {esc(e.replace(root + os.sep, ''))}")
    results: list[CheckpointResult] | None = None
    data: dict | None = None
    try:
        if os.path.isdir(work):
            shutil.rmtree(work)
        os.makedirs(work)
        os.chmod(work, 0o755)
        students = student_paths(root)
        try:
            files = _sandboxed_unpack(submission, work, unconfined, log)
        except SubmissionError as e:
            log(f"unpack: {e}")
            results = _results(checkpoints, _whole(SUBMISSION_ERROR, str(e), [
                "expected: a handin tarball (make handin), a .zip, or a folder of your lab files",
                f"seen:     {e}"]))
            raise _Done() from None
        log(f"unpacked {len(files)} file(s)")
        chosen, notes = select_student_files(files, os.path.join(work, "unpack", "build", "files"), students)
        notes = [esc(n) for n in notes]
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

        # the pristine tree (framework, tests, hidden checkpoints) from the commit's manifest
        tree = os.path.join(work, "tree")
        t0 = time.monotonic()
        origin = make_pristine_tree(root, tree, sol=sol, seed_build=sol != "none")   # none: seed_tree below
        log(f"pristine tree from {origin} ({time.monotonic() - t0:.1f}s)")

        # 1. the student's files alone: preprocess, check, compile, check the objects
        ctree = os.path.join(work, "compile")
        stubs = _compile_tree(tree, ctree, chosen)
        cflags_key = _cflags_key(tree, unconfined and ctree)
        spec = {"files": {rel: int(rel.split("/")[1][:2]) for rel in chosen}, "stubs": stubs,
                "objdir": "build/none/obj", "allowed_defs": _stub_definitions(root, tree, chosen),
                "cflags": _CFLAGS.get(cflags_key), "headers": _header_prefixes(root, tree, ctree, chosen)}
        os.makedirs(os.path.join(ctree, "build"), exist_ok=True)
        write_json_atomic(os.path.join(ctree, "build", "spec.json"), spec)
        grader_dir = os.path.dirname(os.path.abspath(__file__))
        csb = Sandbox(ctree, Limits(address_space=2 << 30, cpu_seconds=300, file_size=64 << 20, processes=128),
                      unconfined=unconfined, ro_binds=[(grader_dir, "/tmp/ntlab/lib/grader")])
        log(f"sandbox: {csb.mode}")
        inner = csb.inner_tree
        lib = csb.inner(os.path.dirname(grader_dir), "/tmp/ntlab/lib")
        checked = csb.run([PYTHON, "-I", "-c", f"import sys; sys.path.insert(0, {lib!r}); "
                           f"from grader.staticcheck import main; sys.exit(main(sys.argv[1:]))",
                           "build", "build/spec.json", "build/check.json"], build_timeout)
        try:
            with open(os.path.join(ctree, "build", "check.json"), encoding="utf-8") as f:
                check = json.load(f)
        except (OSError, ValueError):
            check = None
        if checked.timed_out or check is None or check.get("error"):
            why = (f"checking and compiling your files took more than {build_timeout:g}s" if checked.timed_out
                   else "checking and compiling your files exceeded the limits (memory, CPU, output size)")
            log(f"check/compile FAILED: {why}")
            for line in checked.output.splitlines()[-20:]:
                log(f"  | {esc(line.replace(inner, '.'))}")
            results = _results(checkpoints, lambda cp: v.build_error_verdict("", cp, sol="none", seed=seed,
                                                                             message=why))
            raise _Done()
        if check.get("cflags"):
            _CFLAGS[cflags_key] = check["cflags"]
        problems = [esc(p) for p in check.get("problems", [])]
        if problems:
            for p in problems:
                log(f"static check: {p}")
            results = _results(checkpoints, lambda cp: v.static_check_verdict(problems, cp, seed=seed))
            raise _Done()
        if check.get("diagnostics") or sorted(check.get("built", [])) != sorted(chosen):
            diag = _student_diagnostics(check.get("diagnostics", ""), inner, set(chosen))
            log("compile FAILED:")
            for line in diag.splitlines()[-40:]:
                log(f"  | {esc(line)}")
            results = _results(checkpoints, lambda cp: v.build_error_verdict(
                diag, cp, sol="none", seed=seed, message="your files do not compile"))
            raise _Done()
        log(f"static check and compile: ok ({checked.elapsed:.1f}s; {check.get('headers_cached', 0)} of {len(chosen)} "
            f"file(s) parsed after their headers' cached parse)")

        # 2. the framework, the tests and the link, with the student's objects as built above
        #    (a lab the course policy builds from the released reference does not use them)
        from grader import selection
        released_labs = set(selection.parse(sol, root)) if sol != "none" else set()
        objdir = os.path.join("build", sol, "obj")
        keep = []
        for rel in chosen:
            if int(rel.split("/")[1][:2]) in released_labs:
                continue
            obj = os.path.join(objdir, rel[:-2] + ".o")
            os.makedirs(os.path.dirname(os.path.join(tree, obj)), exist_ok=True)
            shutil.copyfile(os.path.join(ctree, "build", "none", "obj", rel[:-2] + ".o"), os.path.join(tree, obj))
            for stale in (obj[:-2] + ".d",):
                if os.path.exists(os.path.join(tree, stale)):
                    os.unlink(os.path.join(tree, stale))
            keep.append(obj)
        # Lab 09's student files are also user-mode code: user/wow64.mk compiles them from labs/
        # into wow64.dll, so the student's sources (checked above) replace the stubs there too;
        # the build below runs in its own sandbox like the compile.
        for rel in chosen:
            if rel.startswith("labs/09-") and 9 not in released_labs:
                shutil.copyfile(os.path.join(ctree, rel), os.path.join(tree, rel))
        # The framework's objects, built once per tree (SOL=none only: another selection's flags differ).
        seeded, left = framework_build.seed_tree(root, tree) if sol == "none" else (0, 0)
        log(f"framework objects reused: {seeded}; compiled again: {left}; the student's: {len(keep)}"
            if seeded else "framework objects: none to reuse (everything is compiled)")
        sb = Sandbox(tree, unconfined=unconfined)
        env = {"NTLAB_BUILD_LOCKED": "1"}
        if timeout_scale:
            env["NTLAB_TIMEOUT_SCALE"] = str(timeout_scale)
        built = sb.run(framework_build.make_command(sol, "images") + [f"NTLAB_OLD_OBJS={' '.join(keep)}"],
                       build_timeout, env=env)
        write_text_atomic(os.path.join(work, "build.log"), built.output)
        if built.timed_out or built.returncode != 0 or not framework_build.built(os.path.join(tree, "build", sol)):
            message = (f"the link did not finish within {build_timeout:g}s" if built.timed_out
                       else f"the kernel did not link with your files (make exited with status {built.returncode})")
            log(f"build FAILED ({built.elapsed:.1f}s): {message}; the full log is in the work folder (build.log)")
            mine = [esc(l.replace(sb.inner_tree + "/", "")) for l in built.output.splitlines()
                    if any(rel[:-2] in l for rel in chosen)][:20]
            results = _results(checkpoints, lambda cp: v.build_error_verdict(
                "\n".join(mine), cp, sol=sol, seed=seed, message=message))
            raise _Done()
        log(f"build ok ({built.elapsed:.1f}s)")

        # 3. the boots
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
                log(f"  | {esc(line.replace(inner + '/', ''))}")
            results = _results(checkpoints, _whole(GRADER_ERROR, why, [f"seen:     {why}"]))
            raise _Done()
        with open(rpath, encoding="utf-8") as f:
            data = json.load(f)
        for line in graded.output.splitlines():
            if line.startswith(("ntlab:", "  ")) or "total" in line:
                log(f"  | {esc(line.replace(inner + '/', ''))}")
    except _Done:
        pass
    except Exception as e:                          # the pipeline itself failed: still a result
        log(f"grader error: {esc(type(e).__name__)}: {esc(str(e).replace(root + os.sep, '').replace(work, 'WORK'))}")
        log(_plain_traceback(root).replace(work, "WORK"))
        results = _results(checkpoints, _whole(GRADER_ERROR, "the grading pipeline failed",
                                               ["seen:     an internal error of the grader; tell your instructor"]))
    if data is None:
        data = results_json(results or [], execution_time=time.monotonic() - start)
    data["execution_time"] = int(round(time.monotonic() - start))
    extra = [n for n in notes if not n.startswith("used ")]
    tail = (["", "submission notes:"] + [f"  {n}" for n in extra[:50]]) if extra else []
    if why_unconfined:
        tail += ["", "note: graded WITHOUT isolation (unconfined)"]
    data["output"] = visible_output(data, seed, tail)
    reasons = review_reasons(data, problems)
    if why_unconfined:
        reasons.append("graded unconfined (no isolation)")
    data["extra_data"] = {"review": reasons, "flagged": bool([r for r in reasons if "unconfined" not in r]),
                          "unconfined": bool(why_unconfined)}
    if data["extra_data"]["flagged"]:
        log("FLAGGED for review: " + "; ".join(reasons))
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
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["unpack"]:
        return unpack_main(argv[1:])
    p = argparse.ArgumentParser(prog="python3 -m grader submit",
                                description="grade one submission in a sandbox; writes DIR/results.json, "
                                            "DIR/junit.xml and DIR/grade.log")
    p.add_argument("submission", help="a .tar.gz/.tgz/.zip archive or a folder")
    p.add_argument("--out", required=True, help="output folder (outside the repository)")
    p.add_argument("--seed", type=lambda s: int(s, 0), default=None, help="seed of the ktests (default random)")
    p.add_argument("--jobs", "-j", type=int, default=2, help="QEMU boots at once (default 2)")
    p.add_argument("--work", default=None, help="work folder (default OUT/work; outside the repository)")
    p.add_argument("--root", default=ROOT, help=argparse.SUPPRESS)
    p.add_argument("--build-timeout", type=float, default=BUILD_TIMEOUT, help="seconds for the build")
    p.add_argument("--grade-timeout", type=float, default=GRADE_TIMEOUT, help="seconds for all the boots")
    p.add_argument("--timeout-scale", type=float, default=None, help="scale every checkpoint's timeout")
    p.add_argument("--lab", type=int, default=None, help="grade only this lab")
    p.add_argument("--course", default=None, help="the course policy file (default ROOT/course.toml)")
    p.add_argument("--no-keep-work", action="store_true", help="delete the work folder afterwards")
    p.add_argument("--unconfined", action="store_true",
                   help="grade even where bubblewrap cannot isolate (the results say 'unconfined')")
    p.add_argument("--quiet", "-q", action="store_true", help="do not echo the log")
    args = p.parse_args(argv)
    echo = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    from grader.sandbox import IsolationError
    try:
        data = grade_submission(args.submission, args.out, seed=args.seed, jobs=args.jobs, root=args.root,
                                work=args.work, build_timeout=args.build_timeout,
                                grade_timeout=args.grade_timeout, timeout_scale=args.timeout_scale,
                                keep_work=not args.no_keep_work, echo=echo, lab=args.lab, course=args.course,
                                unconfined=args.unconfined)
    except (SetupError, IsolationError) as e:
        print(str(e), file=sys.stderr)
        return 2
    total = sum(t.get("max_score", 0) for t in data.get("tests", []))
    print(f"{data.get('score', 0)}/{total}")
    return 0


# ---------------------------------------------------------------- the Gradescope bundle

AUTOGRADER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "autograder")


def build_autograder(root: str = ROOT, output: str | None = None) -> tuple[str, int]:
    """Write the Gradescope autograder zip: setup.sh and run_autograder at the top, the tree
    (without solutions/*.c but those course.toml releases, with solutions/*/hidden/) under ntlab/.
    Returns (path, file count)."""
    root = os.path.abspath(root)
    output = os.path.abspath(output or os.path.join(root, "build", "autograder.zip"))
    os.makedirs(os.path.dirname(output), exist_ok=True)
    origin, files = tree_manifest(root)
    files.update(released_files(root))          # the reference files course.toml releases
    tmp = f"{output}.tmp{os.getpid()}"
    manifest = []
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for name in ("setup.sh", "run_autograder"):
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = (0o100755 << 16)
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(os.path.join(AUTOGRADER_DIR, name), "rb") as f:
                    z.writestr(info, f.read())
            for n, src in files.items():
                if isinstance(src, bytes):
                    data, mode, when = src, 0o644, time.localtime()[:6]
                else:
                    st = os.stat(src)
                    with open(src, "rb") as f:
                        data = f.read()
                    mode, when = st.st_mode, time.localtime(max(st.st_mtime, 315532800))[:6]
                info = zipfile.ZipInfo("ntlab/" + n, date_time=when)
                info.external_attr = ((0o100755 if mode & 0o111 or n.endswith(".sh") else 0o100644) << 16)
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, data)
                if not n.startswith("solutions/"):
                    manifest.append(f"{hashlib.sha256(data).hexdigest()}  {n}")
            info = zipfile.ZipInfo("ntlab/" + TREE_MANIFEST, date_time=time.localtime()[:6])
            info.external_attr = 0o100644 << 16
            z.writestr(info, f"# the pristine tree ({origin}): sha256  path\n" + "\n".join(manifest) + "\n")
        os.replace(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return output, len(files) + 3


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
