#!/usr/bin/env python3
"""Release a student tree: the course tree without solutions/ (and without the tests
that quote solution code), optionally with the reference files of some labs.

    python3 tools/dist.py [--release 0-1] [--out build/dist]

Writes OUT/ntlab/ and OUT/ntlab-student.tar.gz. Released labs (--release, by default
[release] labs of course.toml) get solutions/NN-name/*.c (so students can build on them
with SOL=), never hidden/. The student tree gets its own course.toml (the labs it ships,
the course's grading policy), a student README.md (tools/student_readme.py) and a GitHub
Actions workflow that grades every push (GitHub Classroom's autograding convention).
Refuses to write a tree in which a student file equals its solution.
"""
import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from grader import labconfig, policy, selection  # noqa: E402
import student_readme  # noqa: E402

# Never in a student tree, beyond solutions/: tests that quote the solutions.
PRIVATE = {"tests/test_mutations.py"}
PRIVATE_PREFIXES = ("tests/mutations_lab",)


def hidden_names(labs) -> set[str]:
    """The ktest names only hidden checkpoints run (a student tree must not name them)."""
    hidden, public = set(), set()
    for lab in labs:
        for cp in lab.checkpoints:
            (hidden if cp.hidden else public).update(cp.ktests)
    return hidden - public


def names_hidden(rel: str, names: set[str]) -> str | None:
    """The first hidden test name the file names, if any (handouts are checked by
    tools/handouts.py: they may name hidden checkpoints in their "What is checked" table)."""
    if rel.startswith("handouts/") or not names:
        return None
    try:
        with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return None
    for name in sorted(names):
        if re.search(r"(?<![\w.])" + re.escape(name) + r"(?![\w.])", text):
            return name
    return None


def tracked_files() -> list[str]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        return sorted(p for p in out.decode().split("\0") if p)
    except (OSError, subprocess.CalledProcessError):
        files = []
        for base, dirs, names in os.walk(ROOT):
            dirs[:] = [d for d in dirs if d not in (".git", "build", "__pycache__")]
            files += [os.path.relpath(os.path.join(base, n), ROOT) for n in names]
        return sorted(files)


def digest(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--release", default="", help="labs whose reference files ship (SOL= syntax; "
                    "default: [release] labs of course.toml)")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "dist"))
    args = ap.parse_args()
    try:
        course = policy.load(ROOT)
    except policy.CourseError as e:
        print(f"ntlab: {e}", file=sys.stderr)
        return 2
    if not args.release.strip():
        args.release = selection.canonical(course.released, ROOT) if course.released else "none"
    try:
        released = selection.parse(args.release, ROOT)
    except selection.SelectionError as e:
        print(f"ntlab: {e}".replace("SOL=", "RELEASE="), file=sys.stderr)
        return 2
    labs = selection.lab_dirs(ROOT)
    keep_solutions = {f"solutions/{labs[n]}/" for n in released}

    hidden = hidden_names(labconfig.load_labs(ROOT))
    files = []
    for rel in tracked_files():
        if rel in PRIVATE or rel.startswith(PRIVATE_PREFIXES):
            continue
        if rel.startswith("solutions/"):
            parts = rel.split("/")
            if len(parts) != 3 or f"solutions/{parts[1]}/" not in keep_solutions:
                continue  # unreleased labs, and every hidden/ folder
        leaked = names_hidden(rel, hidden)
        if leaked and rel.startswith("tests/"):
            continue  # a project test or recorded transcript of a hidden test: instructor-only
        if leaked:
            print(f"ntlab: {rel} names the hidden test {leaked}: a student tree must not; move what "
                  f"describes hidden checkpoints under solutions/NN-name/hidden/ (a hidden checkpoint's "
                  f"model: solutions/NN-name/hidden/models/<model>.py); not releasing", file=sys.stderr)
            return 1
        if os.path.isfile(os.path.join(ROOT, rel)):
            files.append(rel)

    # A stub that equals its solution would ship the answer.
    for n, name in labs.items():
        if n in released:
            continue
        sol = os.path.join(ROOT, "solutions", name)
        if not os.path.isdir(sol):
            continue
        for f in os.listdir(sol):
            stub = os.path.join(ROOT, "labs", name, f)
            if f.endswith(".c") and os.path.isfile(stub) and digest(stub) == digest(os.path.join(sol, f)):
                print(f"ntlab: labs/{name}/{f} is identical to its solution; not releasing", file=sys.stderr)
                return 1

    tree = os.path.join(args.out, "ntlab")
    shutil.rmtree(tree, ignore_errors=True)
    for rel in files:
        dest = os.path.join(tree, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, rel), dest)
    # The student tree's own course policy, README and CI workflow.
    course.released = list(released)
    policy.write_course(os.path.join(tree, policy.COURSE_FILE), course, ROOT)
    labs_cfg = labconfig.load_labs(ROOT)
    student = [lab for lab in labs_cfg]
    for lab in student:                     # the student tree has no hidden checkpoints
        lab.checkpoints = [cp for cp in lab.checkpoints if not cp.hidden]
    with open(os.path.join(tree, "README.md"), "w", encoding="utf-8") as f:
        f.write(student_readme.readme(student, course, ROOT))
    wf = os.path.join(tree, ".github", "workflows", "classroom.yml")
    os.makedirs(os.path.dirname(wf), exist_ok=True)
    with open(wf, "w", encoding="utf-8") as f:
        f.write(student_readme.workflow(student, course, ROOT))
    files += [policy.COURSE_FILE, "README.md", ".github/workflows/classroom.yml"]
    if set(course.released) != set(policy.load(ROOT).released):
        print(f"ntlab: note: RELEASE={args.release} differs from [release] labs of course.toml; grader submit "
              f"grades with course.toml, so set labs = \"{selection.canonical(released, ROOT) if released else 'none'}\" "
              f"there before grading this tree's submissions", file=sys.stderr)
    archive = os.path.join(args.out, "ntlab-student.tar.gz")
    with tarfile.open(archive + ".tmp", "w:gz") as tar:
        tar.add(tree, arcname="ntlab")
    os.replace(archive + ".tmp", archive)
    what = f"with the reference of lab(s) {selection.canonical(released, ROOT)}" if released else "stubs only"
    print(f"ntlab: student tree ({what}): {os.path.relpath(tree, ROOT)}/ and {os.path.relpath(archive, ROOT)} "
          f"({len(set(files))} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
