"""Adversarial submissions, each graded through `python3 -m grader submit`: every one must end
with a results.json (plus junit.xml and grade.log), the stated verdict, and no unearned
points. The boots grade lab 00 only, with small timeouts (--timeout-scale), to stay fast."""
import io
import json
import os
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from kernel_harness import PYTHON, ROOT, clean_env, has_solutions

FIX = Path(__file__).parent / "adversarial"
LAB0 = "labs/00-bugcheck"
needs_qemu = pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None, reason="needs QEMU")


def tar_of(tmp_path, files: dict, name="sub.tar.gz") -> Path:
    path = tmp_path / name
    with tarfile.open(path, "w:gz") as tar:
        for rel, data in files.items():
            data = data.encode() if isinstance(data, str) else data
            info = tarfile.TarInfo(rel)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def submit(sub, out, *extra, timeout=240):
    proc = subprocess.run([PYTHON, "-m", "grader", "submit", str(sub), "--out", str(out), "--seed", "11",
                           "--quiet", *extra], cwd=ROOT, env=clean_env(), capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("results.json", "junit.xml", "grade.log"):
        assert (Path(out) / name).is_file(), f"{name} missing"
    data = json.loads((Path(out) / "results.json").read_text())
    assert data["tests"], "results.json lists no checkpoint"
    return data, (Path(out) / "grade.log").read_text()


def by_name(data):
    return {t["name"].split(":")[0]: t for t in data["tests"]}


def assert_zero(data, why):
    assert data["score"] == 0, f"{why}: unearned points\n" + json.dumps(data, indent=1)[:3000]
    for t in data["tests"]:
        assert t["score"] == 0 and t["status"] == "failed"
        assert why in t["output"], t["output"][:1000]


def lab0(tmp_path, symbols: str, stackwalk: str | None = None):
    files = {f"{LAB0}/symbols.c": symbols}
    if stackwalk is not None:
        files[f"{LAB0}/stackwalk.c"] = stackwalk
    return tar_of(tmp_path, files)


# ---------------------------------------------------------------- boots

@needs_qemu
def test_hang_at_high_level_is_a_timeout(tmp_path):
    data, log = submit(lab0(tmp_path, (FIX / "hang_symbols.c").read_text()), tmp_path / "out",
                       "--lab", "0", "--timeout-scale", "0.2")
    t = by_name(data)
    assert t["00.symbol_lookup"]["status"] == "failed"
    assert "verdict: timeout" in t["00.symbol_lookup"]["output"]
    assert data["score"] == 0


@needs_qemu
def test_triple_fault(tmp_path):
    data, log = submit(lab0(tmp_path, (FIX / "triple_symbols.c").read_text()), tmp_path / "out",
                       "--lab", "0", "--timeout-scale", "0.5")
    t = by_name(data)
    assert "verdict: triple fault" in t["00.symbol_lookup"]["output"]
    assert data["score"] == 0


@needs_qemu
def test_serial_flood_is_capped(tmp_path):
    out = tmp_path / "out"
    data, log = submit(lab0(tmp_path, (FIX / "flood_symbols.c").read_text()), out, "--lab", "0",
                       "--timeout-scale", "1", "--no-keep-work")
    t = by_name(data)
    assert "verdict: serial flood" in t["00.symbol_lookup"]["output"]
    assert data["score"] == 0
    stored = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    assert stored < 20 << 20, f"the pipeline stored {stored} bytes"


@needs_qemu
@pytest.mark.skipif(not has_solutions(), reason="needs the reference stack walker (solutions/)")
def test_forged_records_are_integrity_failures(tmp_path):
    walker = (Path(ROOT) / "solutions/00-bugcheck/stackwalk.c").read_text()
    data, log = submit(lab0(tmp_path, (FIX / "forged_symbols.c").read_text(), walker), tmp_path / "out",
                       "--lab", "0", "--timeout-scale", "1")
    t = by_name(data)
    for name in ("00.bugcheck_stop", "00.kernel_page_fault"):
        assert t[name]["score"] == 0
        assert "verdict: integrity failure" in t[name]["output"], t[name]["output"]
        assert "KTEST VALUE" in t[name]["output"] or "STOP AUTH" in t[name]["output"]
    # the symbol checkpoints are not earned; the walker (the reference) legitimately is
    assert t["00.symbol_lookup"]["score"] == 0
    assert t["00.stack_chain"]["score"] == t["00.stack_chain"]["max_score"]


def test_forged_records_with_exit_are_refused_statically(tmp_path):
    data, log = submit(lab0(tmp_path, (FIX / "forged_exit_symbols.c").read_text()), tmp_path / "out")
    assert_zero(data, "static check")
    assert f"{LAB0}/symbols.c:14: uses HalExitQemu" in log


def test_port_io_fw_cfg_and_include_escape_are_refused(tmp_path):
    data, log = submit(lab0(tmp_path, (FIX / "port_io_symbols.c").read_text()), tmp_path / "out")
    assert_zero(data, "static check")
    assert "HalReadFirmwareConfigFile" in log and "port I/O" in log and "0xF4" in log
    assert "'..' are not allowed" in log


def test_compile_error_reports_the_compiler_message(tmp_path):
    bad = "/* broken */\n#include \"rtl.h\"\nNTSTATUS RtlLookupSymbol(ULONG_PTR A, PCSTR *N, PULONG_PTR O)\n{\n" \
          "    return this_is_not_declared;\n}\n"
    data, log = submit(lab0(tmp_path, bad), tmp_path / "out")
    assert_zero(data, "build error")
    out = data["tests"][0]["output"]
    assert "labs/00-bugcheck/symbols.c" in out and "this_is_not_declared" in out and "error" in out


@needs_qemu
def test_non_student_files_are_ignored(tmp_path):
    """A whole tree whose framework and tests were changed to pass everything: only the
    student files (the stubs here) are used, so nothing is earned."""
    tree = tmp_path / "tree"
    for rel in ("Makefile", "kernel/ktest/runner.c", f"{LAB0}/tests/stack_tests.c", f"{LAB0}/lab.toml",
                f"{LAB0}/stackwalk.c", f"{LAB0}/symbols.c", "grader/verdict.py"):
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(ROOT) / rel, tree / rel)
    (tree / "kernel/ktest/runner.c").write_text("/* every test passes */\n")
    (tree / "grader/verdict.py").write_text("def judge(*a, **k): return None\n")
    (tree / f"{LAB0}/tests/stack_tests.c").write_text("/* no tests */\n")
    data, log = submit(tree, tmp_path / "out", "--lab", "0", "--timeout-scale", "1")
    assert data["score"] == 0
    assert "ignored kernel/ktest/runner.c: not a student file" in log
    assert "ignored grader/verdict.py: not a student file" in log
    assert "verdict: not implemented" in by_name(data)["00.stack_chain"]["output"]


def test_empty_submission(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    data, log = submit(empty, tmp_path / "out")
    assert_zero(data, "no student file")
    data, log = submit(tar_of(tmp_path, {"README.txt": "hello"}), tmp_path / "out2")
    assert_zero(data, "no student file")
    assert "ignored README.txt: not a student file" in data["output"]


# ---------------------------------------------------------------- unsafe archives

def raw_tar(tmp_path, members, name="evil.tar"):
    path = tmp_path / name
    with tarfile.open(path, "w") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def member(name, data=b"x", **kw):
    info = tarfile.TarInfo(name)
    info.size = len(data) if data is not None else 0
    for k, val in kw.items():
        setattr(info, k, val)
    return info, data


@pytest.mark.parametrize("case", ["dotdot", "absolute", "symlink", "hardlink", "device", "too_many"])
def test_unsafe_tar_is_refused_and_nothing_escapes(tmp_path, case):
    good = member(f"{LAB0}/symbols.c", b"/* ok */\n")
    members = {
        "dotdot": [good, member("labs/../../escaped.txt", b"owned")],
        "absolute": [good, member("/tmp/ntlab-escaped.txt", b"owned")],
        "symlink": [member(f"{LAB0}/symbols.c", None, type=tarfile.SYMTYPE, linkname="/etc/passwd")],
        "hardlink": [member(f"{LAB0}/symbols.c", None, type=tarfile.LNKTYPE, linkname="/etc/shadow")],
        "device": [member("dev0", None, type=tarfile.CHRTYPE, devmajor=1, devminor=3)],
        "too_many": [member(f"f{i}.c", b"x") for i in range(250)],
    }[case]
    out = tmp_path / "out"
    data, log = submit(raw_tar(tmp_path, members), out)
    assert_zero(data, "refused")
    assert not (tmp_path / "escaped.txt").exists() and not (out / "escaped.txt").exists()
    assert not Path("/tmp/ntlab-escaped.txt").exists()
    written = [p for p in (out / "work").rglob("*") if p.is_file() or p.is_symlink()]
    assert all(not p.is_symlink() for p in written)


def test_zip_with_symlink_and_dotdot_is_refused(tmp_path):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as z:
        info = zipfile.ZipInfo(f"{LAB0}/symbols.c")
        info.external_attr = 0o120777 << 16
        z.writestr(info, "/etc/passwd")
    data, log = submit(path, tmp_path / "out")
    assert_zero(data, "symbolic link")
    with zipfile.ZipFile(tmp_path / "evil2.zip", "w") as z:
        z.writestr("../../outside.c", "x")
    data, log = submit(tmp_path / "evil2.zip", tmp_path / "out2")
    assert_zero(data, "'..'")


@pytest.mark.skipif(shutil.which("tar") is None, reason="needs GNU tar")
def test_sparse_2gb_file_is_refused_without_writing_it(tmp_path):
    src = tmp_path / "src"
    (src / LAB0).mkdir(parents=True)
    with open(src / LAB0 / "symbols.c", "wb") as f:
        f.truncate(2 << 30)                         # 2 GiB, sparse
    archive = tmp_path / "sparse.tar.gz"
    subprocess.run(["tar", "--sparse", "-czf", str(archive), "-C", str(src), "labs"], check=True)
    assert archive.stat().st_size < 10 << 20
    out = tmp_path / "out"
    data, log = submit(archive, out, timeout=60)
    assert_zero(data, "refused")
    stored = sum(f.stat().st_blocks * 512 for f in out.rglob("*") if f.is_file())
    assert stored < 10 << 20
