"""The reference under KVM (NTLAB_KVM=1, opt-in): every checkpoint of SOL=all passes when QEMU
runs the kernel with -enable-kvm -cpu host instead of software emulation.

Runs only where KVM can run a guest at hardware speed; otherwise it is skipped with the
reason. Three things are checked first, cheapest first: /dev/kvm exists and this user may
open it; the processor has hardware virtualization (a vmx or svm flag in /proc/cpuinfo;
without one, a KVM module such as kvm_pvm emulates every guest instruction, about a
hundred times slower than QEMU's own software emulation); and a tiny guest (a boot sector
that counts down 2^26 in a loop, then writes to isa-debug-exit) ends within PROBE_SECONDS."""
import os
import subprocess

import pytest

from kernel_harness import ROOT, boot_checkpoints, has_solutions, lab_numbers, verdict_summary

PROBE_SECONDS = 20
PROBE_EXIT = (0x41 << 1) | 1          # isa-debug-exit: QEMU exits with (value << 1) | 1

# Real mode, loaded at 0x7c00: mov ecx, 1 << 26; l: dec ecx; jnz l; mov al, 0x41;
# out 0xf4, al; h: hlt; jmp h.
PROBE_CODE = bytes([0x66, 0xB9, 0x00, 0x00, 0x00, 0x04, 0x66, 0x49, 0x75, 0xFC, 0xB0, 0x41, 0xE6, 0xF4,
                    0xF4, 0xEB, 0xFD])


def _kvm_modules() -> str:
    try:
        names = sorted(n for n in os.listdir("/sys/module") if n.startswith("kvm"))
    except OSError:
        return "unknown"
    return ", ".join(names) or "none"


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def kvm_problem(tmp_dir: str) -> str | None:
    """Why the reference cannot be graded under KVM on this machine (None: it can)."""
    if not os.path.exists("/dev/kvm"):
        return "no /dev/kvm (no KVM module loaded, or the device is not exposed to this machine)"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "/dev/kvm is not readable and writable by this user (add the user to the group kvm)"
    flags = _cpu_flags()
    if flags and not flags & {"vmx", "svm"}:
        return (f"the processor has no hardware virtualization (no vmx or svm flag in /proc/cpuinfo; "
                f"KVM modules: {_kvm_modules()}): KVM emulates every guest instruction, far slower "
                f"than QEMU's software emulation")
    from grader import qemu as q
    image = os.path.join(tmp_dir, "kvm-probe.img")
    with open(image, "wb") as f:
        f.write(PROBE_CODE + bytes(510 - len(PROBE_CODE)) + b"\x55\xaa")
    cmd = [q.qemu_binary()] + q.machine_args() + ["-drive", f"file={image},format=raw,if=ide",
                                                 "-enable-kvm", "-cpu", "host"]
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=PROBE_SECONDS)
    except subprocess.TimeoutExpired:
        return (f"a boot sector counting down 2^26 did not finish in {PROBE_SECONDS} s under KVM "
                f"(KVM modules: {_kvm_modules()}): KVM does not run guests at hardware speed here")
    except OSError as e:
        return f"cannot start {cmd[0]}: {e}"
    if r.returncode != PROBE_EXIT:
        err = r.stderr.decode(errors="replace").strip().splitlines()[-1:] or [f"exit status {r.returncode}"]
        return f"QEMU with -enable-kvm cannot run a boot sector: {err[0]}"
    return None


@pytest.fixture(scope="module")
def kvm_verdicts(tmp_path_factory):
    if not has_solutions():
        pytest.skip("needs the instructor tree (solutions/)")
    why = kvm_problem(str(tmp_path_factory.mktemp("kvm")))
    if why:
        pytest.skip(f"KVM cannot run the grade here: {why}")
    mp = pytest.MonkeyPatch()
    mp.setenv("NTLAB_KVM", "1")
    mp.delenv("NTLAB_ICOUNT", raising=False)
    try:
        from grader import qemu as q
        args = q.accel_args()
        assert "-enable-kvm" in args and "-icount" not in args, f"NTLAB_KVM=1 gives accelerator arguments {args}"
        yield boot_checkpoints(ROOT, ",".join(str(n) for n in lab_numbers()), lambda cp: True)
    finally:
        mp.undo()


def test_reference_passes_under_kvm(kvm_verdicts):
    assert {int(cid.split(".")[0]) for cid in kvm_verdicts} == set(lab_numbers())
    failed = {cid: v for cid, v in kvm_verdicts.items() if not v.passed}
    assert not failed, "NTLAB_KVM=1 SOL=all:\n" + verdict_summary(failed)
