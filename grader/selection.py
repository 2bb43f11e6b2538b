"""Parse SOL= selections ("none", "all", "0-1", "1,3") into lab numbers and build folders.

Used by the Makefile (python3 -m grader.selection ...) and by the grader, so both
agree on which labs come from solutions/ and where each selection is built.
"""
from __future__ import annotations

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LAB_RE = re.compile(r"^(\d\d)-[a-z0-9][a-z0-9-]*$")


class SelectionError(ValueError):
    """A SOL= value that cannot be used; the message says why."""


def lab_dirs(root: str = ROOT) -> dict[int, str]:
    """Map lab number -> folder name (e.g. 1 -> '01-pfn') for every labs/NN-name folder."""
    labs = {}
    base = os.path.join(root, "labs")
    if os.path.isdir(base):
        for name in sorted(os.listdir(base)):
            m = _LAB_RE.match(name)
            if m and os.path.isdir(os.path.join(base, name)):
                labs[int(m.group(1))] = name
    return labs


def parse(sol: str, root: str = ROOT) -> list[int]:
    """Return the sorted lab numbers named by a SOL= value.

    Accepts "", "none", "all", single numbers, ranges "a-b" and comma lists.
    Raises SelectionError for syntax errors, unknown labs, or labs whose
    solutions/ folder is missing from this tree.
    """
    labs = lab_dirs(root)
    text = (sol or "").strip().lower()
    if text in ("", "none"):
        return []
    if text == "all":
        chosen = set(labs)
        missing = [n for n in chosen if not os.path.isdir(os.path.join(root, "solutions", labs[n]))]
        if missing:
            raise SelectionError(_missing_msg(sol, [labs[n] for n in sorted(missing)]))
        return sorted(chosen)
    chosen: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise SelectionError(
                f"SOL={sol!r}: cannot read {part!r}; use none, all, a lab number (SOL=1), "
                f"a range (SOL=0-3) or a list (SOL=0,2)")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) else lo
        if hi < lo:
            raise SelectionError(f"SOL={sol!r}: range {part!r} runs backwards")
        for n in range(lo, hi + 1):
            if n not in labs:
                known = ", ".join(str(k) for k in labs) or "none"
                raise SelectionError(f"SOL={sol!r}: there is no lab {n} (labs in this tree: {known})")
            chosen.add(n)
    missing = [labs[n] for n in sorted(chosen) if not os.path.isdir(os.path.join(root, "solutions", labs[n]))]
    if missing:
        raise SelectionError(_missing_msg(sol, missing))
    return sorted(chosen)


def _missing_msg(sol: str, names: list[str]) -> str:
    return (f"SOL={sol!r} asks for solutions/{', solutions/'.join(names)}, which this tree does not have "
            f"(student trees ship without solutions unless your instructor released them)")


def canonical(numbers: list[int], root: str = ROOT) -> str:
    """Canonical name of a selection: 'none', 'all', or ranges like '0-1,3'."""
    labs = lab_dirs(root)
    if not numbers:
        return "none"
    if set(numbers) == set(labs):
        return "all"
    out, run = [], [numbers[0], numbers[0]]
    for n in numbers[1:]:
        if n == run[1] + 1:
            run[1] = n
        else:
            out.append(run)
            run = [n, n]
    out.append(run)
    return ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in out)


def build_dir(sol: str, root: str = ROOT) -> str:
    """Build folder (relative to root) for a SOL= value, e.g. 'build/none'."""
    return os.path.join("build", canonical(parse(sol, root), root))


def main(argv: list[str]) -> int:
    usage = "usage: python3 -m grader.selection dir|name|solution-labs|labs|make SOL"
    if len(argv) != 2:
        print(usage, file=sys.stderr)
        return 2
    what, sol = argv
    if what == "labs":
        print(" ".join(lab_dirs()[n] for n in sorted(lab_dirs())))
        return 0
    try:
        numbers = parse(sol)
    except SelectionError as e:
        print(f"ntlab: {e}", file=sys.stderr)
        return 2
    labs = lab_dirs()
    if what == "dir":
        print(os.path.join("build", canonical(numbers)))
    elif what == "name":
        print(canonical(numbers))
    elif what == "solution-labs":
        print(" ".join(labs[n] for n in numbers))
    elif what == "make":            # the Makefile's one call: name, then "+" marks solution labs
        print(" ".join([canonical(numbers)] + [("+" if n in numbers else "") + labs[n] for n in sorted(labs)]))
    else:
        print(usage, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
