"""The static check's cached header prefixes (grader/staticcheck.py header_cache): a student file
whose headers were parsed once from the stub is parsed from that cache and the rest of its text
alone, and gives the same AST (coordinates included) and the same verdicts as a whole parse; a
file whose prefix differs (another include, a macro defined first) is not taken from the cache."""
import io
import os
import shlex
import shutil
import subprocess

import pytest

from kernel_harness import ROOT
from grader import staticcheck as sc

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")

FILES = ["labs/01-pfn/pfnlist.c", "labs/04-irql-dpc/dpc.c", "labs/08-usermode/fault.c"]


@pytest.fixture(scope="module")
def cflags():
    r = subprocess.run(["make", "-s", "--no-print-directory", "SOL=none", "print-cflags"], cwd=ROOT,
                       capture_output=True, text=True, env={**os.environ, "NTLAB_DEPS_OK": "1"})
    assert r.returncode == 0, r.stderr
    return [c for c in shlex.split(r.stdout) if c not in ("-MMD", "-MP")]


@pytest.fixture(scope="module")
def cache(cflags, tmp_path_factory):
    dest = str(tmp_path_factory.mktemp("headers"))
    made = sc.header_cache(ROOT, FILES, cflags, dest)
    assert sorted(made) == sorted(FILES)
    return dest


@pytest.fixture(scope="module")
def view(tmp_path_factory):
    """A compile view as the pipeline makes it (headers, lab files; another folder than the tree)."""
    from grader import submit
    dest = str(tmp_path_factory.mktemp("compile"))
    submit._compile_tree(ROOT, dest, {})
    return dest


def preprocess(cflags, view, rel: str, text: str) -> str:
    """text as the student's file rel in the compile view, preprocessed as the check does."""
    with open(os.path.join(view, rel), "w") as f:
        f.write(text)
    r = subprocess.run(["gcc"] + cflags + ["-E", rel, "-o", "-"], cwd=view, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


def dump(ast) -> str:
    out = io.StringIO()
    ast.show(buf=out, showcoord=True, attrnames=True, nodenames=True)
    return out.getvalue()


def test_cached_parse_is_the_whole_parse(cflags, cache, view):
    for rel in FILES:
        lab = rel.split("/")[1]
        with open(os.path.join(ROOT, "solutions", lab, os.path.basename(rel))) as f:
            text = "/* a student's own comment\n   on two lines */\n\n" + f.read()
        pre = preprocess(cflags, view, rel, text)
        cached = sc._parse_after_prefix(sc._clean_for_parser(pre, rel), rel, cache)
        assert cached is not None, f"{rel}: the stub's prefix was not found in the cache"
        whole, err = sc.parse_c(pre, rel)
        assert err is None
        assert dump(cached) == dump(whole), rel
        assert sc.check_ast(cached, rel) == sc.check_ast(whole, rel)


def test_refusals_are_the_same_from_the_cache(cflags, cache, view):
    rel = "labs/01-pfn/pfnlist.c"
    with open(os.path.join(ROOT, rel)) as f:
        text = f.read() + "\nvoid (*StudentHook)(void) = (void (*)(void))0x1234;\n" \
                          "static void Jump(unsigned long long a) { ((void (*)(void))a)(); }\n"
    pre = preprocess(cflags, view, rel, text)
    cached = sc._parse_after_prefix(sc._clean_for_parser(pre, rel), rel, cache)
    assert cached is not None
    problems = sc.check_ast(cached, rel)[0]
    assert problems == sc.check_ast(sc.parse_c(pre, rel)[0], rel)[0]
    assert any("StudentHook is a function pointer initialised" in p for p in problems), problems
    assert any("casts an integer or data pointer to a function pointer" in p for p in problems), problems


def test_another_prefix_is_parsed_whole(cflags, cache, view):
    rel = "labs/01-pfn/pfnlist.c"
    with open(os.path.join(ROOT, rel)) as f:
        text = f.read()
    for changed in ("#define PFN_NUMBER int\n" + text, '#include "bugcodes.h"\n' + text):
        pre = preprocess(cflags, view, rel, changed)
        assert sc._parse_after_prefix(sc._clean_for_parser(pre, rel), rel, cache) is None
