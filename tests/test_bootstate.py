"""The saved-state boot path (grader.bootstate) without a real QEMU: the run-state rewrite of
the migration stream, NTLAB_BOOT, the ELF entry, and the fall-back to the core image when a
state cannot be saved (a fake QEMU)."""
import stat
import struct
from pathlib import Path

import pytest

from grader import bootstate as bs
from grader import build as b
from grader import runner
from grader.labconfig import Checkpoint

T = Path(__file__).parent / "transcripts"


def stream(state=b"debug"):
    section = (b"\x04\x00\x00\x00\x29\x0bglobalstate" + struct.pack(">II", 0, 1)
               + struct.pack(">I", len(state) + 1) + state.ljust(100, b"\0"))
    return b"QEVM\x00\x00\x00\x03" + b"ram..." + section + b"\x1f\x00\x00\x00\x29" + b"tail"


def test_run_state_rewritten_to_running():
    s = stream()
    out = bs.running_state(s)
    assert len(out) == len(s)
    at = out.find(b"globalstate") + len(b"globalstate") + 8
    assert struct.unpack_from(">I", out, at)[0] == 8
    assert out[at + 4:at + 104] == b"running".ljust(100, b"\0")
    assert out[:at] == s[:at] and out[at + 104:] == s[at + 104:]
    with pytest.raises(bs.SaveError, match="unexpected run state"):
        bs.running_state(stream(b"paused"))
    with pytest.raises(bs.SaveError, match="globalstate"):
        bs.running_state(b"QEVM nothing here")
    with pytest.raises(bs.SaveError, match="globalstate"):
        bs.running_state(stream() + stream())


def test_boot_mode(monkeypatch):
    monkeypatch.delenv("NTLAB_BOOT", raising=False)
    assert bs.boot_mode() == "snapshot"
    for raw, mode in (("iso", "iso"), ("kernel", "kernel"), ("Snapshot", "snapshot")):
        monkeypatch.setenv("NTLAB_BOOT", raw)
        assert bs.boot_mode() == mode
    monkeypatch.setenv("NTLAB_BOOT", "floppy")
    with pytest.raises(ValueError, match="NTLAB_BOOT='floppy'"):
        bs.boot_mode()


def test_elf_entry(tmp_path):
    elf = tmp_path / "k.elf"
    elf.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(17) + struct.pack("<Q", 0x100020) + bytes(32))
    assert bs.elf_entry(str(elf)) == 0x100020
    elf.write_bytes(b"MZ" + bytes(62))
    with pytest.raises(bs.SaveError, match="not an ELF"):
        bs.elf_entry(str(elf))


def test_no_state_falls_back_to_the_core_image(tmp_path, monkeypatch):
    """A QEMU that cannot save a state: the reason is kept (not retried), the checkpoint boots
    the core image and is judged as usual."""
    bdir = tmp_path / "build" / "all"
    bdir.mkdir(parents=True)
    (bdir / "ntlab.lnx").write_bytes(b"core image")
    (bdir / "ntlab.disk").write_bytes(b"kernel disk")
    (bdir / "ntlab.elf").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(17) + struct.pack("<Q", 0x100020) + bytes(32))
    log = tmp_path / "calls"
    fake = tmp_path / "qemu"
    fake.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\ncat "{T / "pass.txt"}"\nexit 33\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("NTLAB_QEMU", str(fake))
    monkeypatch.delenv("NTLAB_BOOT", raising=False)
    monkeypatch.delenv("NTLAB_KVM", raising=False)
    status = b.BuildStatus(True, "all", str(bdir))
    cp = Checkpoint(lab=1, name="pfn_totals", title="t", points=10, ktests=("pfn.totals", "pfn.zeroed"), timeout=5)
    for _ in range(2):
        verdict, run = runner.run_checkpoint(cp, sol="all", seed=3, root=str(tmp_path), status=status)
        assert verdict.passed, verdict.text
        assert "-kernel" in run.command and "-incoming" not in run.command
    calls = log.read_text().splitlines()
    assert sum(" -gdb " in c for c in calls) == 1, calls          # one attempt to save, remembered
    why = list((bdir / "state").glob("*.why"))
    assert len(why) == 1 and "no saved state" in why[0].read_text()
    image, state, reason = runner.boot_plan(status)
    assert image.endswith("ntlab.lnx") and state is None and "no saved state" in reason
    monkeypatch.setenv("NTLAB_KVM", "1")
    assert "KVM" in runner.boot_plan(status)[2]
