"""The QEMU runner (grader.qemu), the build lock (grader.build) and run_checkpoint
(grader.runner) against fake 'qemu' and 'make' shell scripts: no real QEMU or build."""
import os
import stat
import time
from pathlib import Path

import pytest

from grader import build as b
from grader import qemu as q
from grader import runner
from grader import verdict as v
from grader.labconfig import Checkpoint

T = Path(__file__).parent / "transcripts"


def script(path, body):
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def cp(ktests=("pfn.totals", "pfn.zeroed"), timeout=5, **kw):
    return Checkpoint(lab=1, name="pfn_totals", title="t", points=10, ktests=tuple(ktests), timeout=timeout, **kw)


def test_command_line(monkeypatch):
    monkeypatch.delenv("NTLAB_KVM", raising=False)
    monkeypatch.delenv("NTLAB_QEMU", raising=False)
    cmd = q.qemu_command("build/all/ntlab.iso", ["a.b", "c"], 77, "128M")
    assert cmd[0] == "qemu-system-x86_64"
    s = " ".join(cmd)
    assert "-m 128M" in s and "-no-reboot" in s and "-serial stdio" in s and "-monitor none" in s
    assert "-device isa-debug-exit,iobase=0xf4,iosize=0x04" in s
    assert "-drive file=build/all/ntlab.iso,media=cdrom,readonly=on,if=ide" in s and "-boot d" in s
    # QEMU doubles commas inside an option value
    assert cmd[cmd.index("-fw_cfg") + 1] == "name=opt/ntlab/cmdline,string=ktest=a.b,,c seed=77"
    assert "-enable-kvm" not in cmd and "-S" not in cmd
    # software emulation counts instructions (deterministic runs), with the RTC on guest time
    assert cmd[cmd.index("-icount") + 1] == f"shift={q.ICOUNT_SHIFT},sleep=off"
    assert "clock=vm" in cmd[cmd.index("-rtc") + 1]
    monkeypatch.setenv("NTLAB_ICOUNT", "0")
    assert "-icount" not in q.qemu_command("x.iso", "a", 1)
    monkeypatch.setenv("NTLAB_ICOUNT", "3")
    assert "shift=3,sleep=off" in q.qemu_command("x.iso", "a", 1)
    monkeypatch.delenv("NTLAB_ICOUNT")
    assert q.kernel_cmdline(["a.b", "c"], 77) == "ktest=a.b,c seed=77"
    monkeypatch.setenv("NTLAB_KVM", "1")
    monkeypatch.setenv("NTLAB_QEMU", "/opt/q")
    cmd = q.qemu_command("x.iso", "a,b", 1, gdb=True)
    assert cmd[0] == "/opt/q" and cmd[-2:] == ["-s", "-S"] and "-enable-kvm" in cmd
    assert cmd[cmd.index("-enable-kvm"):cmd.index("-enable-kvm") + 3] == ["-enable-kvm", "-cpu", "host"]
    assert "-icount" not in cmd  # KVM cannot count instructions


def test_core_image_and_restore_command_lines(monkeypatch):
    """The grader's core image goes to -kernel; a restore adds -incoming after the same machine
    arguments (what a saved state needs) and the per-boot fw_cfg files."""
    monkeypatch.delenv("NTLAB_KVM", raising=False)
    monkeypatch.delenv("NTLAB_QEMU", raising=False)
    cmd = q.qemu_command("build/all/ntlab.lnx", ["a"], 5, "64M", auth="k:n", state="/b/state/x y.vm")
    base = q.base_command("build/all/ntlab.lnx", "64M")
    assert cmd[:len(base)] == base and "-kernel" in base
    # the kernel is on a read-only virtio disk beside the core image (not in the core)
    assert base[base.index("-drive") + 1] == "file=build/all/ntlab.disk,format=raw,if=virtio,readonly=on"
    assert cmd[len(base):] == ["-fw_cfg", "name=opt/ntlab/cmdline,string=ktest=a seed=5",
                               "-fw_cfg", "name=opt/ntlab/auth,string=k:n",
                               "-incoming", "exec:cat '/b/state/x y.vm'"]
    iso = q.qemu_command("b/ntlab.iso", ["a"], 5)
    assert iso[:len(q.machine_args())+1] == cmd[:len(q.machine_args())+1]     # one machine for every path


def test_missing_qemu():
    with pytest.raises(q.QemuNotFound, match="apt-get install qemu-system-x86"):
        q.run_qemu(["/nonexistent/qemu-system-x86_64"], 1)
    with pytest.raises(q.QemuNotFound, match="apt-get install qemu-system-x86"):
        q.check_qemu("qemu-system-x86_64-surely-not-here")


def test_transcript_and_exit_code(tmp_path):
    fake = script(tmp_path / "qemu", f'read x; cat "{T / "pass.txt"}"; echo oops >&2; exit 33\n')
    r = q.run_qemu([fake, "-m", "64M"], 5)
    assert r.exit_status == 33 and not r.timed_out and not r.flooded
    assert r.output == (T / "pass.txt").read_bytes()
    assert r.stderr.strip() == "oops"


def test_timeout_kills_the_whole_group(tmp_path):
    pidfile = tmp_path / "child.pid"
    fake = script(tmp_path / "qemu", f'echo "NTLAB BOOT 1 none"\nsleep 1000 &\necho $! > "{pidfile}"\nwait\n')
    t0 = time.monotonic()
    r = q.run_qemu([fake], 1)
    assert time.monotonic() - t0 < 3
    assert r.timed_out and r.output.startswith(b"NTLAB BOOT")
    child = int(pidfile.read_text())
    assert not _alive(child)


def _alive(pid):
    """True if pid runs (a zombie waiting for its reaper does not count)."""
    for _ in range(50):
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        if state in ("Z", "X"):
            return False
        time.sleep(0.02)
    return True


def test_flood_is_capped(tmp_path):
    fake = script(tmp_path / "qemu", "head -c 10000000 /dev/zero | tr '\\0' 'x'\nexit 33\n")
    t0 = time.monotonic()
    r = q.run_qemu([fake], 10)
    assert time.monotonic() - t0 < 5
    assert r.flooded and len(r.output) == q.MAX_SERIAL and not r.timed_out


def test_qemu_failure_status(tmp_path):
    fake = script(tmp_path / "qemu", "echo 'qemu: could not load ISO' >&2; exit 1\n")
    r = q.run_qemu([fake], 5)
    assert r.exit_status == 1 and "could not load" in r.stderr


# ---------------------------------------------------------------- build + runner

@pytest.fixture
def tree(tmp_path):
    for n in ("00-tools", "01-pfn"):
        (tmp_path / "labs" / n).mkdir(parents=True)
        (tmp_path / "solutions" / n).mkdir(parents=True)
    return tmp_path


def test_no_build_uses_existing_iso(tree, monkeypatch):
    monkeypatch.setenv("NTLAB_NO_BUILD", "1")
    st = b.build("all", str(tree))
    assert not st.ok and "no build/all/ntlab.lnx or build/all/ntlab.iso" in st.message
    st = b.build("all", str(tree), target="iso")
    assert not st.ok and "no build/all/ntlab.iso;" in st.message
    (tree / "build" / "all" / "ntlab.iso").write_bytes(b"iso")
    st = b.build("all", str(tree))
    assert st.ok and st.iso == str(tree / "build" / "all" / "ntlab.iso")
    assert st.image() == st.iso                     # no core image: the ISO is booted
    (tree / "build" / "all" / "ntlab.lnx").write_bytes(b"core")
    assert st.image() == st.iso                     # a core image without its disk: the ISO
    (tree / "build" / "all" / "ntlab.disk").write_bytes(b"kernel")
    assert st.image() == st.core and st.image("iso") == st.iso
    w = b.wait_for_build("0-1", str(tree))          # the same selection, another spelling
    assert w.ok and (tree / "build" / "all.lock").exists()


def test_make_failure_keeps_log(tree, monkeypatch):
    monkeypatch.delenv("NTLAB_NO_BUILD", raising=False)
    bindir = tree / "bin"
    bindir.mkdir()
    script(bindir / "make", 'echo "make $*"; echo "kernel/x.c:1:1: error: boom" >&2; exit 2\n')
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    st = b.build("1", str(tree))
    assert not st.ok and "status 2" in st.message
    log = (tree / "build" / "1" / "build.log").read_text()
    assert "make --no-print-directory SOL=1 images" in log and "error: boom" in log
    assert (tree / "build" / "1" / "build.status").read_text().startswith("error")
    w = b.wait_for_build("1", str(tree))
    assert not w.ok and "error: boom" in w.log
    verdict, run = runner.run_checkpoint(cp(), sol="1", seed=3, root=str(tree))
    assert run is None and verdict.kind == v.BUILD_ERROR and "not built" in verdict.summary
    assert "first error: kernel/x.c:1:1: error: boom" in verdict.details     # the full error: once, by the plugin


def test_make_success(tree, monkeypatch):
    monkeypatch.delenv("NTLAB_NO_BUILD", raising=False)
    bindir = tree / "bin"
    bindir.mkdir()
    script(bindir / "make", 'mkdir -p build/none && touch build/none/ntlab.iso; echo built\n')
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    st = b.build("none", str(tree))
    assert st.ok and b.wait_for_build("", str(tree)).ok


def test_wait_without_status(tree):
    st = b.wait_for_build("all", str(tree))
    assert not st.ok and "did not run" in st.message


def test_run_checkpoint_end_to_end(tree, monkeypatch, tmp_path):
    monkeypatch.setenv("NTLAB_NO_BUILD", "1")
    (tree / "build" / "all").mkdir(parents=True)
    (tree / "build" / "all" / "ntlab.iso").write_bytes(b"iso")
    args = tmp_path / "args.txt"
    fake = script(tmp_path / "qemu", f'printf "%s\\n" "$@" > "{args}"; cat "{T / "pass.txt"}"; exit 33\n')
    monkeypatch.setenv("NTLAB_QEMU", fake)
    st = b.build("all", str(tree))
    verdict, run = runner.run_checkpoint(cp(), sol="all", seed=9, root=str(tree), status=st)
    assert verdict.passed and run.exit_status == 33
    assert "name=opt/ntlab/cmdline,string=ktest=pfn.totals,,pfn.zeroed seed=9" in args.read_text()
    monkeypatch.setenv("NTLAB_QEMU", str(tmp_path / "missing-qemu"))
    verdict, run = runner.run_checkpoint(cp(), sol="all", seed=9, root=str(tree), status=st)
    assert verdict.kind == v.QEMU_ERROR and run is None


def test_timeout_scale(monkeypatch):
    monkeypatch.setenv("NTLAB_TIMEOUT_SCALE", "2.5")
    assert runner.effective_timeout(cp(timeout=10)) == 25
    monkeypatch.setenv("NTLAB_TIMEOUT_SCALE", "fast")
    with pytest.raises(runner.ConfigError, match="NTLAB_TIMEOUT_SCALE"):
        runner.timeout_scale()
    monkeypatch.delenv("NTLAB_TIMEOUT_SCALE")
    assert runner.timeout_scale() == 1.0
