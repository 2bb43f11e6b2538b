"""The command line (python3 -m grader run / labs) against a fake tree and a fake qemu."""
import os
import stat
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

LAB = """
[lab]
number = 0
title = "Tools"
files = ["stack.c"]

[[checkpoint]]
name = "stack_chain"
title = "Frames in order"
points = 10
ktests = ["rtl.stack_chain"]
"""


def make_tree(tmp_path):
    (tmp_path / "labs" / "00-tools").mkdir(parents=True)
    (tmp_path / "labs" / "00-tools" / "lab.toml").write_text(LAB)
    (tmp_path / "solutions" / "00-tools").mkdir(parents=True)
    (tmp_path / "build" / "all").mkdir(parents=True)
    (tmp_path / "build" / "all" / "ntlab.iso").write_bytes(b"iso")
    q = tmp_path / "qemu"
    q.write_text('#!/bin/sh\nprintf "ARG %s\\n" "$@"\nexit 33\n')
    q.chmod(q.stat().st_mode | stat.S_IXUSR)
    return tmp_path


def grader(tmp_path, *args, **env):
    e = dict(os.environ, PYTHONPATH=str(REPO), NTLAB_NO_BUILD="1", NTLAB_QEMU=str(tmp_path / "qemu"))
    e.update(env)
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=tmp_path, env=e,
                          capture_output=True, text=True, timeout=30)


def test_run_runs_qemu_and_names_the_ending(tmp_path):
    make_tree(tmp_path)
    p = grader(tmp_path, "run", "--sol", "all", "--ktest", "a,b", "--seed", "9", "--root", str(tmp_path))
    # the fake QEMU exits 33 (all passed): a run the kernel ended itself is a success for make
    assert p.returncode == 0, p.stderr
    assert "the kernel ended the run: all ktests passed" in p.stderr
    assert "ARG name=opt/ntlab/cmdline,string=ktest=a,,b seed=9" in p.stdout
    assert f"ARG file={tmp_path}/build/all/ntlab.iso,media=cdrom,readonly=on,if=ide" in p.stdout
    assert "ARG -S" not in p.stdout


def test_run_gdb_and_defaults(tmp_path):
    make_tree(tmp_path)
    p = grader(tmp_path, "run", "--sol", "all", "--gdb", "--root", str(tmp_path))
    assert p.returncode == 0
    assert "ARG name=opt/ntlab/cmdline,string=ktest= seed=1" in p.stdout
    # A free port of this user's (not 1234), on localhost, printed with the exact make gdb command.
    m = __import__("re").search(r"ARG -gdb\nARG tcp:127\.0\.0\.1:(\d+)\nARG -S", p.stdout)
    assert m and m.group(1) != "1234", p.stdout
    assert f"make gdb SOL=all GDBPORT={m.group(1)}" in p.stderr
    assert (tmp_path / "build" / "all" / "gdbport").read_text().strip() == m.group(1)


def test_run_reports_build_and_selection_errors(tmp_path):
    make_tree(tmp_path)
    p = grader(tmp_path, "run", "--sol", "none", "--root", str(tmp_path))
    assert p.returncode == 1 and "no build/none/ntlab.iso" in p.stderr and "Traceback" not in p.stderr
    p = grader(tmp_path, "run", "--sol", "5", "--root", str(tmp_path))
    assert p.returncode == 2 and "no lab 5" in p.stderr


def test_run_missing_qemu(tmp_path):
    make_tree(tmp_path)
    p = grader(tmp_path, "run", "--sol", "all", "--root", str(tmp_path), NTLAB_QEMU="qemu-system-x86_64-nope")
    assert p.returncode == 1 and "apt-get install qemu-system-x86" in p.stderr and "Traceback" not in p.stderr


def test_labs_lists_and_checks(tmp_path):
    make_tree(tmp_path)
    p = grader(tmp_path, "labs", "--root", str(tmp_path))
    assert p.returncode == 0 and "00.1  stack_chain" in p.stdout
    (tmp_path / "labs" / "00-tools" / "lab.toml").write_text(LAB.replace("points = 10", "points = -1"))
    p = grader(tmp_path, "labs", "--root", str(tmp_path))
    assert p.returncode == 1 and "labs/00-tools/lab.toml" in p.stderr and "'points'" in p.stderr
