"""make handin (python3 -m grader handin): pack exactly the student files of every lab
(labs/NN-name/<file> as named by [lab] files in its lab.toml) plus a MANIFEST (lab, file,
SHA-256 per line) into handin.tar.gz at the root of the tree.

A lab whose files still carry the stub marker (a "/* LAB NN:" comment, which every stubbed
function has and a finished one should not) is reported on stderr: works without git. So is
what the course policy (course.toml, grader/policy.py) does when a lab builds on earlier labs
that are still stubs; the MANIFEST records it, with the last grade of each lab (build/grades.json).
Anything that is not a student file is refused (exit 1).
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import re
import sys
import tarfile
import tomllib

from grader.selection import ROOT

LAB_DIR_RE = re.compile(r"^(\d\d)-[a-z0-9][a-z0-9-]*$")
STUB_MARK_RE = re.compile(r"/\*\s*LAB\s+(\d+)\s*:")
OUTPUT = "handin.tar.gz"
MANIFEST = "MANIFEST"


class HandinError(Exception):
    """Nothing was packed; the message says why."""


def lab_files(root: str = ROOT) -> dict[str, list[str]]:
    """Lab folder -> its student files (from [lab] files of labs/NN-name/lab.toml).

    Reads only the [lab] table, so a lab whose checkpoints are still being written does not
    stop a handin; a lab.toml that cannot be read at all raises HandinError."""
    out: dict[str, list[str]] = {}
    base = os.path.join(root, "labs")
    if not os.path.isdir(base):
        return out
    for folder in sorted(os.listdir(base)):
        path = os.path.join(base, folder, "lab.toml")
        if not LAB_DIR_RE.match(folder) or not os.path.isfile(path):
            continue
        try:
            with open(path, "rb") as f:
                data = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise HandinError(f"labs/{folder}/lab.toml: cannot read: {e}") from None
        files = (data.get("lab") or {}).get("files") or []
        good = []
        for name in files:
            if not isinstance(name, str) or not name or name.startswith("/") or ".." in name.split("/"):
                raise HandinError(f"labs/{folder}/lab.toml: [lab] files entry {name!r} is not a relative file name")
            good.append(name)
        out[folder] = good
    return out


def student_paths(root: str = ROOT) -> dict[str, str]:
    """Every student file of the tree: 'labs/NN-name/file' -> lab folder."""
    return {f"labs/{folder}/{name}": folder for folder, names in lab_files(root).items() for name in names}


def is_stub(data: bytes) -> bool:
    """True if the file still has a '/* LAB NN:' stub marker."""
    return bool(STUB_MARK_RE.search(data.decode("utf-8", errors="replace")))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_text(entries: list[tuple[str, str, str]], record: list[str] = ()) -> str:
    """entries: (lab folder, path, sha256) -> the MANIFEST text; record: '# ...' lines saying
    what the student built against (grader/policy.py)."""
    lines = ["# ntlab handin manifest: lab, file, sha256"] + list(record)
    lines += [f"{lab} {path} {digest}" for lab, path, digest in entries]
    return "\n".join(lines) + "\n"


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))


def pack(root: str = ROOT, output: str | None = None, extra: list[str] | None = None,
         warn=None) -> tuple[str, list[str]]:
    """Write the handin tarball; return (its path, the stub warnings).

    extra: more paths the user asked to pack; any that is not a student file raises HandinError.
    """
    root = os.path.abspath(root)
    output = output or os.path.join(root, OUTPUT)
    paths = student_paths(root)
    if not paths:
        raise HandinError("this tree has no labs/NN-name/lab.toml with student files")
    for p in extra or []:
        rel = os.path.relpath(os.path.abspath(p), root).replace(os.sep, "/")
        if rel not in paths:
            raise HandinError(f"{p}: not a student file (only the files named in [lab] files of a lab.toml "
                              f"are handed in: {', '.join(sorted(paths))})")
    entries, blobs, warnings = [], [], []
    stubbed: dict[str, list[str]] = {}
    for rel in sorted(paths):
        full = os.path.join(root, rel)
        if os.path.islink(full) or not os.path.isfile(full):
            raise HandinError(f"{rel}: missing or not a regular file")
        with open(full, "rb") as f:
            data = f.read()
        entries.append((paths[rel], rel, sha256(data)))
        blobs.append((rel, data))
        stubbed.setdefault(paths[rel], [])
        if is_stub(data):
            stubbed[paths[rel]].append(rel)
    for lab, rels in sorted(stubbed.items()):
        total = sum(1 for v in paths.values() if v == lab)
        if rels and len(rels) == total:
            warnings.append(f"ntlab: handin: warning: lab {lab}: every file is still the stub "
                            f"({', '.join(os.path.basename(r) for r in rels)} have '/* LAB' markers)")
        elif rels:
            warnings.append(f"ntlab: handin: warning: lab {lab}: {', '.join(rels)} still "
                            f"{'has' if len(rels) == 1 else 'have'} '/* LAB' stub markers")
    # What the student built against, and what the course policy does about stubbed earlier labs.
    from grader import policy
    try:
        notes, record = policy.handin_report(root, {int(lab[:2]) for lab, rels in stubbed.items() if rels})
    except policy.CourseError as e:
        notes, record = [f"ntlab: handin: warning: {e}"], []
    warnings += notes
    tmp = f"{output}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
                    _add(tar, MANIFEST, manifest_text(entries, record).encode())
                    for rel, data in blobs:
                        _add(tar, rel, data)
        os.replace(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    if warn:
        for w in warnings:
            warn(w)
    return output, warnings


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m grader handin",
                                description="pack the student files of every lab into handin.tar.gz")
    p.add_argument("files", nargs="*", help="(optional) files to check are student files")
    p.add_argument("--root", default=ROOT, help="the tree (default: this one)")
    p.add_argument("-o", "--output", default=None, help="the tarball (default ROOT/handin.tar.gz)")
    args = p.parse_args(argv)
    try:
        out, _w = pack(args.root, args.output, args.files, warn=lambda w: print(w, file=sys.stderr))
    except HandinError as e:
        print(f"ntlab: handin: {e}", file=sys.stderr)
        return 1
    n = len(student_paths(os.path.abspath(args.root)))
    print(f"ntlab: handin: wrote {os.path.relpath(out)} ({n} student files + {MANIFEST})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
