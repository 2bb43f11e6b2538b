#!/usr/bin/env python3
"""Handouts that cannot drift from the code (`make handouts`).

    python3 tools/handouts.py update   fill every contract block of handouts/*.md from the source
    python3 tools/handouts.py check    exit 1 if a contract block differs from the source, or a
                                       handout cites a checkpoint, function, figure, section or
                                       seed note that does not exist (tests/test_handouts.py)
    python3 tools/handouts.py html     render handouts/*.md to build/handouts/ (pandoc): one page a
                                       lab, their figures, an index: a small course site

A contract block in a handout is

    <!-- contract: labs/01-pfn/pfnlist.c MiInsertPageInList -->
    ...generated: the function's comment in that file, verbatim...
    <!-- end contract -->

and `update` rewrites what is between the markers from the comment above the function in
the student file, so the handout quotes the contract as the code states it.
"""
from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from grader import labconfig  # noqa: E402

HANDOUTS = os.path.join(ROOT, "handouts")
BLOCK_RE = re.compile(r"(<!-- contract: (\S+) (\w+) -->\n)(.*?)(<!-- end contract -->)", re.S)
FIGURE_EXT = (".png", ".svg", ".jpg", ".jpeg", ".gif")
NT_PREFIXES = ("Ke", "Ki", "Mm", "Mi", "Ex", "Exp", "Rtl", "Rtlp", "Hal", "Kt", "Ktp", "Ob", "Obp", "Io",
               "Iop", "Ps", "Psp", "Nt", "Zw", "Dbg")
FUNC_RE = re.compile(r"\b((?:%s)[A-Z][A-Za-z0-9]+)(\*?)" % "|".join(sorted(NT_PREFIXES, key=len, reverse=True)))
# Windows' own names a handout may cite as NT's (not this kernel's), and 4-letter pool tags.
NT_ONLY = {"MiGetPteAddress"}


class HandoutError(Exception):
    pass


# ---------------------------------------------------------------- contracts from the source

def contract(path: str, function: str, root: str = ROOT) -> str:
    """The comment block right above `function`'s definition in path, without the comment
    syntax (the contract as the student's file states it)."""
    full = os.path.join(root, path)
    try:
        text = open(full, encoding="utf-8").read()
    except OSError as e:
        raise HandoutError(f"{path}: cannot read ({e.strerror})") from None
    m = re.search(r"/\*\n((?:[ \t]*\*.*\n)*?)[ \t]*\*/\n[^\n;{]*\b%s\(" % re.escape(function), text)
    if not m:
        raise HandoutError(f"{path}: no comment right above the definition of {function}()")
    lines = []
    for line in m.group(1).splitlines():
        line = re.sub(r"^[ \t]*\* ?", "", line)
        lines.append(line.rstrip())
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def render_block(path: str, function: str, root: str = ROOT) -> str:
    return (f"The contract of `{function}`, from the comment in `{path}` (quoted by `make handouts`):\n\n"
            f"```text\n{contract(path, function, root)}\n```\n")


def update(root: str = ROOT, write: bool = True) -> list[str]:
    """Fill every contract block; return the problems (a block that differs, when not writing)."""
    problems = []
    for name in handout_files(root):
        path = os.path.join(root, "handouts", name)
        text = open(path, encoding="utf-8").read()

        def fill(m):
            try:
                body = render_block(m.group(2), m.group(3), root)
            except HandoutError as e:
                problems.append(f"handouts/{name}: {e}")
                return m.group(0)
            if body != m.group(3 + 1) and not write:
                problems.append(f"handouts/{name}: the contract of {m.group(3)} differs from {m.group(2)} "
                                f"(run `make handouts`)")
            return m.group(1) + body + m.group(5)
        new = BLOCK_RE.sub(fill, text)
        if write and new != text:
            with open(path, "w", encoding="utf-8") as f:
                f.write(new)
    return problems


def handout_files(root: str = ROOT) -> list[str]:
    base = os.path.join(root, "handouts")
    return sorted(n for n in os.listdir(base) if re.match(r"^\d\d-[\w-]+\.md$", n)) if os.path.isdir(base) else []


# ---------------------------------------------------------------- citations

def _identifiers(root: str) -> set[str]:
    """Every identifier of the tree's C and assembly sources (functions, variables, macros)."""
    out: set[str] = set()
    for top in ("kernel", "labs", "solutions", "user"):
        for base, _dirs, files in os.walk(os.path.join(root, top)):
            for n in files:
                if n.endswith((".c", ".h", ".asm", ".ld")):
                    with open(os.path.join(base, n), encoding="utf-8", errors="replace") as f:
                        out.update(re.findall(r"\b[A-Za-z_]\w*\b", f.read()))
    return out


def check_citations(root: str = ROOT) -> list[str]:
    """Checkpoints, functions, figures, sections and seed notes a handout cites must exist."""
    problems = []
    labs = {lab.number: lab for lab in labconfig.load_labs(root)}
    public = {lab.number: {cp.name for cp in lab.checkpoints if not cp.hidden} for lab in labs.values()}
    every = set().union(*public.values()) if public else set()
    hidden = {cp.name for lab in labs.values() for cp in lab.checkpoints if cp.hidden}
    ids = _identifiers(root)
    seeds = os.path.isdir(os.path.join(root, "seeds"))
    for name in handout_files(root):
        path = os.path.join(root, "handouts", name)
        text = open(path, encoding="utf-8").read()
        lab_no = int(name[:2])
        mine = public.get(lab_no, set())
        where = lambda i: f"handouts/{name}:{text.count(chr(10), 0, i) + 1}"  # noqa: E731
        # Checkpoints: CHECKPOINT=name (of LAB=N when given), rows and mentions `name` in section 4.
        for m in re.finditer(r"(?:LAB=(\d+)\s+)?CHECKPOINT=([a-z0-9_]+)", text):
            lab = int(m.group(1)) if m.group(1) else lab_no
            if m.group(2) not in public.get(lab, set()):
                problems.append(f"{where(m.start())}: cites checkpoint {m.group(2)!r}, which lab {lab:02d} does not "
                                f"have (its checkpoints: {', '.join(sorted(public.get(lab, [])))})")
        sec = re.search(r"^## 4\. Checkpoints\n(.*?)(?=^## |\Z)", text, re.S | re.M)
        if sec:
            for m in re.finditer(r"^\| `([a-z0-9_]+)` \|", sec.group(1), re.M):
                if m.group(1) not in mine:
                    problems.append(f"{where(sec.start(1) + m.start())}: the checkpoint table lists {m.group(1)!r}, "
                                    f"which is not a public checkpoint of lab {lab_no:02d}")
            for m in re.finditer(r"^\*\*([a-z0-9_]+)\.\*\*", sec.group(1), re.M):
                if m.group(1) not in mine:
                    problems.append(f"{where(sec.start(1) + m.start())}: describes checkpoint {m.group(1)!r}, which is "
                                    f"not a public checkpoint of lab {lab_no:02d}")
            for n in sorted(mine):
                if f"`{n}`" not in sec.group(1):
                    problems.append(f"handouts/{name}: section 4 does not list checkpoint {n!r}")
        # Hidden checkpoints may be named only in the clause table ("What is checked"), which
        # says which check guards each clause; students cannot run them by name.
        outside = re.sub(r"^## [0-9. ]*What is checked\n.*?(?=^## |\Z)", "", text, flags=re.S | re.M | re.I)
        for n in sorted(hidden - every):
            if re.search(r"`%s`|CHECKPOINT=%s\b" % (n, n), outside):
                problems.append(f"handouts/{name}: cites the hidden checkpoint {n!r}, which students do not have")
        # Functions and other NT-style names, in code spans and backtrace samples.
        for m in FUNC_RE.finditer(text):
            word = m.group(1)
            if word in NT_ONLY or len(word) <= 4:           # MmSt, KtRd: pool tags
                continue
            if m.group(2) == "*" or text[m.end():m.end() + 1] == "/":    # KtCrash*, KtChainA/B/C
                if any(i.startswith(word[:-1] if m.group(2) != "*" else word) for i in ids):
                    continue
            if word not in ids:
                problems.append(f"{where(m.start())}: cites {word}, which no source file defines or uses")
        # Figures: image links resolve; "Figure N" has its caption.
        for m in re.finditer(r"!\[[^\]]*\]\(([^)\s]+)", text):
            if not os.path.isfile(os.path.join(root, "handouts", m.group(1))):
                problems.append(f"{where(m.start())}: the figure {m.group(1)} does not exist in handouts/")
        captions = set(re.findall(r"^\**Figure (\d+)[.:]", text, re.M))
        for m in re.finditer(r"\b[Ff]igure (\d+)\b", text):
            if m.group(1) not in captions:
                problems.append(f"{where(m.start())}: cites Figure {m.group(1)}, which has no caption "
                                f"('Figure {m.group(1)}:') in this handout")
        # Sections: "section N" needs a heading "## N.".
        heads = set(re.findall(r"^## (\d+)\.", text, re.M))
        for m in re.finditer(r"\bsection (\d+)\b", text):
            if m.group(1) not in heads:
                problems.append(f"{where(m.start())}: cites section {m.group(1)}, which this handout does not have")
        # Seed notes are course-design material, not in a student's tree.
        if not seeds:
            for m in re.finditer(r"\b[Ss]eeds? (\d{3})\b", text):
                problems.append(f"{where(m.start())}: cites seed note {m.group(1)}, which students do not have")
        # Contract blocks must name a real file and function.
        for m in BLOCK_RE.finditer(text):
            if not os.path.isfile(os.path.join(root, m.group(2))):
                problems.append(f"{where(m.start())}: contract block names {m.group(2)}, which does not exist")
    return problems


# ---------------------------------------------------------------- the HTML site

CSS = """body { max-width: 52rem; margin: 2rem auto; padding: 0 1rem; font: 16px/1.5 system-ui, sans-serif;
  color: #1b1b1b; }
pre, code { font: 14px/1.4 ui-monospace, monospace; } pre { background: #f5f5f5; padding: .6rem;
  overflow-x: auto; } table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .2rem .5rem; }
nav { margin-bottom: 1rem; } img { max-width: 100%; }
"""


def pandoc() -> str:
    tool = shutil.which("pandoc")
    if not tool:
        raise HandoutError("pandoc is not installed; install it with: sudo apt-get install pandoc")
    return tool


def html_site(root: str = ROOT, out: str | None = None) -> list[str]:
    """Render the handouts (contract blocks filled) to out/: NN-name.html, index.html, style.css,
    and the figures. Returns the pages written."""
    tool = pandoc()
    out = out or os.path.join(root, "build", "handouts")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "style.css"), "w", encoding="utf-8") as f:
        f.write(CSS)
    for n in os.listdir(os.path.join(root, "handouts")):
        if n.lower().endswith(FIGURE_EXT):
            shutil.copy2(os.path.join(root, "handouts", n), os.path.join(out, n))
    labs = {lab.folder: lab for lab in labconfig.load_labs(root)}
    pages = []
    rows = []
    for name in handout_files(root):
        stem = name[:-3]
        lab = labs.get(stem)
        title = f"Lab {stem[:2]}: {lab.title}" if lab else stem
        text = open(os.path.join(root, "handouts", name), encoding="utf-8").read()
        text = re.sub(r"\((\d\d-[\w-]+)\.md(#[\w-]*)?\)", r"(\1.html\2)", text)
        nav = '<nav><a href="index.html">ntlab handouts</a></nav>'
        page = os.path.join(out, stem + ".html")
        _pandoc(tool, text, title, nav, page)
        pages.append(page)
        rows.append(f'<li><a href="{stem}.html">{html.escape(title)}</a></li>')
    index = os.path.join(out, "index.html")
    with open(index, "w", encoding="utf-8") as f:
        f.write('<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>ntlab handouts</title>'
                '<link rel="stylesheet" href="style.css"></head><body>\n<h1>ntlab handouts</h1>\n'
                '<p>One handout a lab; each quotes its functions\' contracts from the source files.</p>\n'
                f'<ul>\n{chr(10).join(rows)}\n</ul>\n</body></html>\n')
    return [index] + pages


def _pandoc(tool: str, text: str, title: str, nav: str, page: str) -> None:
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        before = os.path.join(tmp, "nav.html")
        with open(before, "w", encoding="utf-8") as f:
            f.write(nav)
        p = subprocess.run([tool, "-f", "gfm", "-t", "html5", "-s", "--toc", "--toc-depth=2", "-c", "style.css",
                            "--metadata", f"title={title}", "-B", before, "-o", page],
                           input=text, capture_output=True, text=True)
        if p.returncode != 0:
            raise HandoutError(f"pandoc failed on {os.path.basename(page)}: {p.stderr.strip()}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("update", "check", "html", "all"))
    ap.add_argument("--root", default=ROOT)
    ap.add_argument("--out", default=None, help="html: the site folder (default build/handouts)")
    args = ap.parse_args(argv)
    root = os.path.abspath(args.root)
    try:
        if args.what in ("update", "all"):
            problems = update(root, write=True)
            if problems:
                print("\n".join(f"ntlab: {p}" for p in problems), file=sys.stderr)
                return 1
        if args.what in ("check", "all"):
            problems = update(root, write=False) + check_citations(root)
            if problems:
                print("\n".join(f"ntlab: {p}" for p in problems), file=sys.stderr)
                print(f"ntlab: {len(problems)} problem(s) in the handouts", file=sys.stderr)
                return 1
            print(f"ntlab: handouts check: {len(handout_files(root))} handouts, contracts and citations ok")
        if args.what in ("html", "all"):
            pages = html_site(root, args.out)
            print(f"ntlab: course site: {os.path.relpath(pages[0], root)} ({len(pages) - 1} handouts)")
    except (HandoutError, labconfig.LabConfigError) as e:
        print(f"ntlab: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
