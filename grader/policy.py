"""The course policy for released labs (course.toml; DESIGN.md, "Course policy for released
labs"): which labs' reference files are released, and whether each lab is graded on the
student's own earlier labs ("own") or on the released reference of the earlier labs
("released").

Used by
  - tools/dist.py: the labs a student tree ships the reference of, and its README;
  - grader/handin.py: what the student built against, and what the policy does about
    earlier labs that are still stubs (said on the terminal and recorded in the MANIFEST);
  - grader/submit.py (and so batch and the Gradescope autograder): grade_by_policy grades
    each lab with the SOL= selection the policy gives it (one build per selection);
  - grader/plugin.py: record_grade keeps the last grade of each lab (build/grades.json).

    python3 -m grader.policy [--root DIR] [--course FILE]     print the policy, lab by lab
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field

from grader import selection
from grader.selection import ROOT

COURSE_FILE = "course.toml"
GRADES_FILE = os.path.join("build", "grades.json")
OWN = "own"
RELEASED = "released"
MODES = (OWN, RELEASED)


class CourseError(ValueError):
    """A course.toml that cannot be used; the message names the file and the key."""


@dataclass
class Policy:
    released: list[int]                       # labs whose reference files ship
    default: str = RELEASED
    per_lab: dict[int, str] = field(default_factory=dict)
    labs: dict[int, str] = field(default_factory=dict)     # every lab of the tree: number -> folder
    path: str = ""                            # the course file ("" when there is none)

    def mode(self, lab: int) -> str:
        return self.per_lab.get(lab, self.default)

    def earlier(self, lab: int) -> list[int]:
        """The labs a lab builds on: every earlier lab of the tree."""
        return [n for n in sorted(self.labs) if n < lab]

    def sol_for(self, lab: int) -> list[int]:
        """The labs taken from solutions/ when grading this lab."""
        if self.mode(lab) != RELEASED:
            return []
        return [n for n in self.earlier(lab) if n in self.released]

    def sol_name(self, lab: int, root: str = ROOT) -> str:
        return selection.canonical(self.sol_for(lab), root) if self.sol_for(lab) else "none"

    def groups(self, labs, root: str = ROOT) -> list[tuple[str, list[int]]]:
        """[(SOL= name, [labs graded with it])], in lab order; one build per group."""
        out: dict[str, list[int]] = {}
        for n in sorted(labs):
            out.setdefault(self.sol_name(n, root), []).append(n)
        return list(out.items())

    def describe(self, lab: int, root: str = ROOT) -> str:
        """One sentence: how this lab is graded."""
        name = self.labs.get(lab, f"{lab:02d}")
        before = self.earlier(lab)
        if not before:
            return f"lab {name} is graded on your own files (it builds on no earlier lab)"
        own = [n for n in before if n not in self.sol_for(lab)]
        if self.mode(lab) == OWN:
            return (f"lab {name} is graded on your own {_ln(self, before)} "
                    f"(course policy \"own\": as `make grade LAB={lab}` does)")
        if not own:
            return (f"lab {name} is graded on the released reference of {_ln(self, before)} "
                    f"(course policy \"released\": as `make grade SOL={self.sol_name(lab, root)} LAB={lab}` does)")
        if not self.sol_for(lab):
            return (f"lab {name} is graded on your own {_ln(self, before)} (course policy \"released\", "
                    f"but no earlier lab's reference is released)")
        return (f"lab {name} is graded on the released reference of {_ln(self, self.sol_for(lab))} and "
                f"on your own {_ln(self, own)} (only those are released; "
                f"as `make grade SOL={self.sol_name(lab, root)} LAB={lab}` does)")

    def stub_consequence(self, lab: int, stubs, root: str = ROOT) -> str | None:
        """What the policy does about earlier labs that are still stubs, or None if none is."""
        before = [n for n in self.earlier(lab) if n in set(stubs)]
        if not before:
            return None
        name = self.labs.get(lab, f"{lab:02d}")
        covered = [n for n in before if n in self.sol_for(lab)]
        exposed = [n for n in before if n not in covered]
        which = "is still the stub" if len(before) == 1 else "are still stubs"
        head = f"lab {name} builds on {_ln(self, before)}, which {which}"
        if not exposed:
            return (f"{head}; the course grades lab {name} on the released reference of "
                    f"{_ln(self, covered)} instead (course policy \"released\", "
                    f"`make grade SOL={self.sol_name(lab, root)} LAB={lab}`), so this costs lab {name} nothing")
        why = ("course policy \"own\"" if self.mode(lab) == OWN
               else f"{_ln(self, exposed)} {'is' if len(exposed) == 1 else 'are'} not released")
        return (f"{head}; lab {name} is graded on your own {_ln(self, exposed)} ({why}), so lab {name}'s "
                f"checkpoints that need {'it' if len(exposed) == 1 else 'them'} fail: finish "
                f"{_ln(self, exposed)} first")


def _ln(p: Policy, labs) -> str:
    """'lab 02' or 'labs 00-02'."""
    return ("lab " if len(list(labs)) == 1 else "labs ") + _names(p, labs)


def _names(p: Policy, labs) -> str:
    labs = sorted(labs)
    names = [p.labs.get(n, f"{n:02d}").split("-")[0] for n in labs]
    if len(names) > 2 and labs == list(range(labs[0], labs[-1] + 1)):
        return f"{names[0]}-{names[-1]}"
    return ", ".join(names)


def course_path(root: str = ROOT, path: str | None = None) -> str:
    return os.path.abspath(path) if path else os.path.join(root, COURSE_FILE)


def load(root: str = ROOT, path: str | None = None) -> Policy:
    """Read the course policy. A tree without course.toml releases nothing (every lab is
    graded on the student's own labs); a malformed one raises CourseError."""
    root = os.path.abspath(root)
    labs = selection.lab_dirs(root)
    file = course_path(root, path)
    if not os.path.isfile(file):
        if path:
            raise CourseError(f"{path}: no such course file")
        return Policy([], RELEASED, {}, labs, "")
    rel = os.path.relpath(file, root) if file.startswith(root + os.sep) else file
    try:
        with open(file, "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise CourseError(f"{rel}: cannot read: {e}") from None
    unknown = set(data) - {"release", "grading"}
    if unknown:
        raise CourseError(f"{rel}: unknown table(s) {', '.join(sorted(unknown))} (expected [release] and [grading])")
    rel_tab = data.get("release") or {}
    text = rel_tab.get("labs", "none")
    if not isinstance(text, str):
        raise CourseError(f"{rel}: [release] labs must be a string like \"0-2\" or \"none\", not {text!r}")
    released = _parse_labs(text, labs, f"{rel}: [release] labs = {text!r}")
    grading = data.get("grading") or {}
    bad = set(grading) - {"default", "labs"}
    if bad:
        raise CourseError(f"{rel}: [grading] has unknown key(s) {', '.join(sorted(bad))} (expected default, labs)")
    default = grading.get("default", RELEASED)
    if default not in MODES:
        raise CourseError(f"{rel}: [grading] default = {default!r}: use \"released\" or \"own\"")
    per_lab = {}
    for key, mode in (grading.get("labs") or {}).items():
        try:
            n = int(key)
        except ValueError:
            raise CourseError(f"{rel}: [grading.labs] key {key!r} is not a lab number") from None
        if n not in labs:
            raise CourseError(f"{rel}: [grading.labs] names lab {key}, which this tree does not have")
        if mode not in MODES:
            raise CourseError(f"{rel}: [grading.labs] {key} = {mode!r}: use \"released\" or \"own\"")
        per_lab[n] = mode
    return Policy(released, default, per_lab, labs, file)


def _parse_labs(text: str, labs: dict[int, str], where: str) -> list[int]:
    """A SOL=-style lab list, checked against the tree's labs (not against solutions/,
    which a student tree may not have)."""
    t = text.strip().lower()
    if t in ("", "none"):
        return []
    if t == "all":
        return sorted(labs)
    out: set[int] = set()
    for part in t.split(","):
        a, _, b = part.strip().partition("-")
        try:
            lo, hi = int(a), int(b or a)
        except ValueError:
            raise CourseError(f"{where}: cannot read {part.strip()!r}; use none, all, 2, 0-2 or 0,2") from None
        for n in range(lo, hi + 1):
            if n not in labs:
                raise CourseError(f"{where}: there is no lab {n} (labs in this tree: {', '.join(str(k) for k in sorted(labs))})")
            out.add(n)
    return sorted(out)


def write_course(path: str, policy: Policy, root: str = ROOT) -> None:
    """Write a course.toml for a student tree (tools/dist.py): the labs it ships, the same grading."""
    from grader.results import write_text_atomic
    rel = selection.canonical(policy.released, root) if policy.released else "none"
    lines = ["# course.toml - the course policy of this student tree (written by `make dist`).",
             "# [release] labs: the labs whose reference files are in solutions/ (use them with SOL=).",
             "# [grading]: \"released\" grades a lab on the released reference of the earlier labs,",
             "# \"own\" on your own earlier labs. `python3 -m grader.policy` explains it lab by lab.",
             "", "[release]", f'labs = "{rel}"', "", "[grading]", f'default = "{policy.default}"', "",
             "[grading.labs]"]
    lines += [f'"{n}" = "{m}"' for n, m in sorted(policy.per_lab.items())]
    write_text_atomic(path, "\n".join(lines) + "\n")


# ---------------------------------------------------------------- what the student built against

def record_grade(root: str, sol: str, results, seed) -> None:
    """Remember the last grade of each lab (build/grades.json): the selection it was built
    with and its score. `make handin` reports and records it."""
    path = os.path.join(root, GRADES_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    try:
        sol_name = selection.canonical(selection.parse(sol, root), root)
    except selection.SelectionError:
        sol_name = sol
    labs: dict[int, list] = {}
    for r in results:
        labs.setdefault(r.lab, []).append(r)
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime())
    for lab, rows in labs.items():
        data[f"{lab:02d}"] = {"sol": sol_name, "score": sum(r.score for r in rows),
                              "max": sum(r.max_score for r in rows), "checkpoints": len(rows),
                              "seed": seed, "time": stamp}
    try:
        from grader.results import write_json_atomic
        write_json_atomic(path, data)
    except OSError:
        pass


def last_grades(root: str = ROOT) -> dict[int, dict]:
    try:
        with open(os.path.join(root, GRADES_FILE), encoding="utf-8") as f:
            data = json.load(f)
        return {int(k): v for k, v in data.items() if isinstance(v, dict)}
    except (OSError, ValueError, AttributeError):
        return {}


def handin_report(root: str, stub_labs: set[int], policy: Policy | None = None) -> tuple[list[str], list[str]]:
    """For make handin: (messages for the terminal, '# ...' lines for the MANIFEST)."""
    p = policy or load(root)
    grades = last_grades(root)
    released = selection.canonical(p.released, root) if p.released else "none"
    messages: list[str] = []
    record = [f"# course: released {released}; grading default {p.default}"
              + "".join(f"; lab {n:02d} {m}" for n, m in sorted(p.per_lab.items()))]
    for lab in sorted(p.labs):
        folder = p.labs[lab]
        g = grades.get(lab)
        built = (f"last graded with SOL={g.get('sol')}: {g.get('score')}/{g.get('max')} "
                 f"({g.get('checkpoints')} checkpoints, {g.get('time')})") if g else "never graded in this tree"
        stub = lab in stub_labs
        record.append(f"# lab {folder}: {'stub' if stub else 'worked on'}; graded with SOL={p.sol_name(lab, root)} "
                      f"({p.mode(lab)}); {built}")
        if stub:
            continue
        consequence = p.stub_consequence(lab, stub_labs, root)
        if consequence:
            messages.append(f"ntlab: handin: {consequence}")
        if g and g.get("sol") != p.sol_name(lab, root):
            messages.append(f"ntlab: handin: note: you last graded lab {folder} with SOL={g.get('sol')}, the course "
                            f"grades it with SOL={p.sol_name(lab, root)}: {p.describe(lab, root)}; check with "
                            f"`make grade{'' if p.sol_name(lab, root) == 'none' else ' SOL=' + p.sol_name(lab, root)} "
                            f"LAB={lab}`")
    return messages, record


# ---------------------------------------------------------------- grading a submission by the policy

def submission_stubs(submission: str, root: str) -> set[int] | None:
    """The labs whose files are missing from a submission or still stubs (None: it does not
    unpack; the grade itself reports why)."""
    from grader import handin, submit
    students = handin.student_paths(root)
    with tempfile.TemporaryDirectory(prefix="ntlab-policy.") as tmp:
        try:
            files = submit.unpack(submission, tmp)
        except submit.SubmissionError:
            return None
        chosen, _notes = submit.select_student_files(files, tmp, students)
        stubs = set()
        for rel, folder in students.items():
            n = int(folder[:2])
            if rel not in chosen:
                stubs.add(n)
                continue
            with open(chosen[rel], "rb") as f:
                if handin.is_stub(f.read()):
                    stubs.add(n)
        return stubs


def _lab_of(test: dict) -> int:
    try:
        return int(str(test.get("number", "")).split(".")[0])
    except ValueError:
        return -1


def grade_by_policy(grade, submission: str, out: str, *, root: str = ROOT, course: str | None = None,
                    lab=None, seed=None, work=None, keep_work=True, echo=None, **kw) -> dict:
    """grader submit's policy hook: grade each lab with the selection the policy gives it
    (grade is submit.grade_submission, called with an explicit sol= for each group) and
    merge the results into out/results.json, out/junit.xml and out/grade.log."""
    import random
    from grader import labconfig, submit
    from grader.results import write_json_atomic, write_text_atomic
    root = os.path.abspath(root)
    out = os.path.abspath(out)
    if seed is None:
        seed = random.SystemRandom().getrandbits(32)
    try:
        p = load(root, course)
    except CourseError as e:
        data = grade(submission, out, sol="none", root=root, lab=lab, seed=seed, work=work, keep_work=keep_work,
                     echo=echo, **kw)
        return _annotate(out, data, [f"grader error: {e}"], {}, echo, error=True)
    try:
        labs = sorted(x.number for x in labconfig.load_labs(root))
    except labconfig.LabConfigError:
        labs = sorted(p.labs)
    if lab is not None:
        labs = [n for n in labs if n == int(lab)]
    groups = p.groups(labs, root) or [("none", labs)]
    stubs = submission_stubs(submission, root) or set()
    notes = [f"course policy ({os.path.relpath(p.path, root) if p.path else 'no course.toml: nothing released'}): "
             f"released labs {selection.canonical(p.released, root) if p.released else 'none'}"]
    per_lab: dict[int, list[str]] = {}
    for n in labs:
        why = [p.describe(n, root)]
        c = p.stub_consequence(n, stubs, root) if n not in stubs else None
        if c:
            why.append(c)
        notes += [f"  {w}" for w in why]
        if c or p.sol_for(n):           # each test says so where the policy changed what was built
            per_lab[n] = why
    if len(groups) == 1:
        sol, _ = groups[0]
        data = grade(submission, out, sol=sol, root=root, lab=lab, seed=seed, work=work, keep_work=keep_work,
                     echo=echo, **kw)
        return _annotate(out, data, notes, per_lab, echo)
    merged_tests: list[dict] = []
    outputs: list[str] = []
    logs: list[str] = []
    elapsed = 0
    for i, (sol, group_labs) in enumerate(groups):
        sub_out = os.path.join(out, "policy", sol)
        if echo:
            echo(f"ntlab submit: labs {', '.join(f'{n:02d}' for n in group_labs)} with SOL={sol}")
        sub_work = (work + "-" + sol) if work else None
        data = grade(submission, sub_out, sol=sol, root=root, lab=group_labs, seed=seed, work=sub_work,
                     keep_work=keep_work, echo=echo, **kw)
        merged_tests += [t for t in data.get("tests", []) if _lab_of(t) in group_labs]
        text = data.get("output", "")
        if i > 0 and "\n\nsubmission notes:" in text:
            text = text.split("\n\nsubmission notes:")[0]      # said once, by the first group
        outputs.append(text)
        elapsed += data.get("execution_time", 0)
        try:
            with open(os.path.join(sub_out, "grade.log"), encoding="utf-8") as f:
                logs.append(f"==== labs {', '.join(f'{n:02d}' for n in group_labs)}: SOL={sol} ====\n" + f.read())
        except OSError:
            pass
    merged_tests.sort(key=lambda t: tuple(int(x) if x.isdigit() else 0 for x in str(t.get("number", "")).split(".")))
    total = sum(t.get("max_score", 0) for t in merged_tests)
    score = sum(t.get("score", 0) for t in merged_tests)
    data = {"score": score, "execution_time": elapsed,
            "output": "\n\n".join(outputs) + f"\n\ntotal {score}/{total}", "tests": merged_tests}
    write_text_atomic(os.path.join(out, "grade.log"), "\n".join(logs))
    write_json_atomic(os.path.join(out, "results.json"), data)
    write_text_atomic(os.path.join(out, "junit.xml"), submit.junit_xml(data))
    return _annotate(out, data, notes, per_lab, echo)


def _build_error_once(data: dict) -> None:
    """A build error in full once (in the overall output); each checkpoint says it was not built."""
    seen: dict[str, str] = {}
    for t in data.get("tests", []):
        text = t.get("output", "")
        if not text.startswith("verdict: build error"):
            continue
        body = "\n".join(l for l in text.splitlines()[1:] if not l.startswith(("re-run this", "watch its raw")))
        seen.setdefault(body, t.get("name", ""))
        first = next((l.strip() for l in body.splitlines()[3:] if "error" in l.lower()), "")
        rerun = [l for l in text.splitlines() if l.startswith(("re-run this", "watch its raw"))]
        t["output"] = "\n".join(["verdict: build error",
                                 "not built: the kernel did not build, so this checkpoint was not run (the "
                                 "compiler's errors are shown once, in the overall output)"]
                                + ([f"first error: {first}"] if first else []) + rerun)
    if seen:
        blocks = [f"build error (checkpoints from {name} on are not built):\n{body}" for body, name in seen.items()]
        data["output"] = "\n\n".join(blocks) + "\n\n" + data.get("output", "")


def _annotate(out: str, data: dict, notes: list[str], per_lab: dict[int, list[str]], echo, error=False) -> dict:
    """Say the policy at the top of the output and of each lab's tests; rewrite the outputs."""
    from grader import submit
    from grader.results import write_json_atomic, write_text_atomic
    _build_error_once(data)
    data["output"] = "\n".join(notes) + "\n\n" + data.get("output", "")
    for t in data.get("tests", []):
        why = per_lab.get(_lab_of(t))
        if why and (t.get("status") != "passed" or len(why) > 1):
            t["output"] = "\n".join(f"course policy: {w}" for w in why) + "\n" + t.get("output", "")
        elif error:
            t["output"] = notes[0] + "\n" + t.get("output", "")
    for n in notes:
        if echo:
            echo(n)
    write_json_atomic(os.path.join(out, "results.json"), data)
    write_text_atomic(os.path.join(out, "junit.xml"), submit.junit_xml(data))
    try:
        with open(os.path.join(out, "grade.log"), "a", encoding="utf-8") as f:
            f.write("\n".join(notes) + "\n")
    except OSError:
        pass
    return data


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m grader.policy", description="print the course policy")
    ap.add_argument("--root", default=ROOT)
    ap.add_argument("--course", default=None, help="the course file (default ROOT/course.toml)")
    args = ap.parse_args(argv)
    root = os.path.abspath(args.root)
    try:
        p = load(root, args.course)
    except CourseError as e:
        print(f"ntlab: {e}", file=sys.stderr)
        return 1
    where = os.path.relpath(p.path, root) if p.path else "no course.toml (nothing released)"
    print(f"course policy: {where}")
    print(f"  released labs: {selection.canonical(p.released, root) if p.released else 'none'}")
    for n in sorted(p.labs):
        print(f"  {p.describe(n, root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
