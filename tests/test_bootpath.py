"""The grader's three boot paths against the real kernel, GRUB and QEMU: the ISO (El Torito, as
`make qemu`), the GRUB core image given to -kernel, and the state saved at the kernel's first
instruction and restored per boot (and the mutation runner's loader state, saved inside GRUB
before it reads the disk: tests/kernel_harness.py). The same tree and seed give the same
transcript on each path and the same verdicts, and a restore gets its own command line and a
fresh key."""
import os

import pytest

from kernel_harness import ROOT, by_lab, grade, has_solutions, loader_state, make
from grader import auth as a
from grader import bootstate as bs
from grader import build as b
from grader import labconfig, runner
from grader import qemu as q

pytestmark = pytest.mark.skipif(not has_solutions(), reason="needs the instructor tree (solutions/)")


@pytest.fixture(scope="module")
def status():
    proc = make(ROOT, "SOL=all", "iso", "images")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    st = b.build("all", ROOT, no_build=True)
    assert st.ok and os.path.isfile(st.core) and os.path.isfile(st.iso)
    return st


def untimed(output: bytes) -> list[bytes]:
    """The transcript without the ungraded tests' timings and scheduling counts (the benchmarks,
    the framework's thread tests, what the loader left dirty, the addresses the debugger
    tests announce for GDB, and where pfn.layout finds its contiguous run after all the tests
    before it in this one boot, threads among them: the run and the layout made at it move
    with the ticks, e.g. with NTLAB_ICOUNT=4, 5 or 6): they follow where the clock's ticks
    fall, and the firmware and loader run a different number of instructions on each path
    before the kernel starts. The graded tests' other lines must match exactly."""
    return [ln for ln in output.splitlines()
            if b"bench" not in ln and not ln.startswith((b"KTEST VALUE ke.", b"KTEST VALUE mm.poisoned",
                                                         b"KTEST VALUE gdb.", b"KTEST VALUE pfn.layout layout_"))]


def test_same_transcript_on_every_path(status, monkeypatch):
    monkeypatch.delenv("NTLAB_KVM", raising=False)
    state, why = bs.saved_state(status.core, status.elf)
    assert state, why
    loader = loader_state(status.core)          # the mutation runner's path: inside GRUB, no kernel
    assert loader, "no loader state: see build/loader/*.why"
    runs = {}
    for name, image, st in (("iso", status.iso, None), ("kernel", status.core, None), ("restore", status.core, state),
                            ("loader", status.core, loader)):
        run = q.run_qemu(q.qemu_command(image, "all", 41, state=st), 60)
        assert run.exit_status == q.EXIT_ALL_PASSED, (name, run.stderr, run.output[-2000:])
        runs[name] = untimed(run.output)
    assert runs["iso"][0].startswith(b"NTLAB BOOT ") and b"ktest: seed 41" in runs["iso"]
    assert runs["kernel"] == runs["iso"]
    assert runs["restore"] == runs["iso"]
    assert runs["loader"] == runs["iso"]


def test_restore_reads_its_own_command_line_and_key(status, monkeypatch):
    """fw_cfg files are not in the saved state: every restore reads the ones it was given (two
    different selections, seeds and keys from one state), and nothing of the kernel ran before
    the save (its first line comes after the restore)."""
    monkeypatch.delenv("NTLAB_KVM", raising=False)
    monkeypatch.delenv("NTLAB_BOOT", raising=False)
    labs = labconfig.load_labs(ROOT)
    byname = {c.name: c for lab in labs for c in lab.checkpoints}
    seen = []
    for name, seed in (("list_totals", 7), ("double_free", 8), ("list_totals", 9)):
        cp = byname[name]
        verdict, run = runner.run_checkpoint(cp, sol="all", seed=seed, root=ROOT, status=status)
        assert "-incoming" in run.command, run.command
        assert verdict.passed, verdict.text                  # authentic tags: the fresh key was read
        lines = run.output.splitlines()
        assert lines[0].startswith(b"NTLAB BOOT "), lines[:3]
        assert f"ktest: seed {seed}".encode() in lines
        seen.append(run.output)
    assert seen[0] != seen[2]
    # a key the kernel did not get does not verify: the tags are made with the restore's key
    cp = byname["list_totals"]
    key, other = a.AuthKey.new(), a.AuthKey.new()
    state, _ = bs.saved_state(status.core, status.elf, cp.memory)
    run = q.run_qemu(q.qemu_command(status.core, cp.ktests, 5, cp.memory, auth=key.fw_cfg_value(), state=state), 20)
    from grader import transcript
    t = transcript.parse(run.output)
    assert a.verify(run.output, t, cp, key) == []
    assert a.verify(run.output, t, cp, other)


def test_fast_path_and_iso_give_the_same_verdicts(status, monkeypatch, tmp_path):
    """A whole grade of the reference and of the stubs (seeded) on the ISO path and on the
    default path: the same verdict for every checkpoint."""
    for sol in ("all", "none"):
        verdicts = {}
        for mode in ("iso", "snapshot"):
            monkeypatch.setenv("NTLAB_BOOT", mode)
            data, proc = grade(ROOT, sol, results=str(tmp_path / f"{sol}-{mode}.json"))
            verdicts[mode] = {t["name"].split(":")[0]: (t["status"], t["score"], _kind(t["output"]))
                              for t in data["tests"]}
        assert verdicts["iso"] == verdicts["snapshot"], sol
        if sol == "all":
            assert all(v[0] == "passed" for v in verdicts["iso"].values())
        else:
            assert by_lab({"tests": data["tests"]}) and all(v[1] == 0 for v in verdicts["iso"].values())


def _kind(output: str) -> str:
    for line in output.splitlines():
        if line.startswith("verdict: "):
            return line
    return ""
