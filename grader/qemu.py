"""Build the QEMU command line (the single source of truth for the grader and `make qemu`)
and run one boot: capture the serial port with a timeout and a size cap, and never leave
a QEMU process behind.
"""
from __future__ import annotations

import os
import selectors
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

DEFAULT_QEMU = "qemu-system-x86_64"
MAX_SERIAL = 4 * 1024 * 1024
MAX_STDERR = 64 * 1024
INSTALL_HINT = "sudo apt-get install qemu-system-x86"

# isa-debug-exit statuses: (value << 1) | 1
EXIT_ALL_PASSED = 33
EXIT_SOME_FAILED = 35
EXIT_BUGCHECK = 37
EXIT_HANG = 39
EXIT_RESET = 0
KNOWN_EXITS = {EXIT_ALL_PASSED: "all ktests passed", EXIT_SOME_FAILED: "some ktest failed",
               EXIT_BUGCHECK: "bugcheck (STOP)", EXIT_HANG: "the kernel's watchdog found a hang",
               EXIT_RESET: "the guest reset or shut down"}


class QemuNotFound(RuntimeError):
    """The QEMU binary is not installed; the message says how to install it."""


@dataclass
class QemuRun:
    """The outcome of one boot."""
    command: list[str]
    output: bytes                       # the serial port (at most MAX_SERIAL bytes)
    exit_status: int | None             # QEMU's exit status (negative: killed by that signal)
    timed_out: bool = False
    flooded: bool = False
    stderr: str = ""
    elapsed: float = 0.0
    timeout: float | None = None
    extra: dict = field(default_factory=dict)


def qemu_binary() -> str:
    return os.environ.get("NTLAB_QEMU") or DEFAULT_QEMU


def kvm_enabled() -> bool:
    return os.environ.get("NTLAB_KVM", "").strip() not in ("", "0", "no", "false")


# Deterministic runs under software emulation: instruction counting makes guest time (the
# clock interrupt, the HPET, preemption points) a function of the instruction stream, so the
# same tree and seed give the same transcript byte for byte, on any host load. sleep=off: a
# halted guest jumps to its next timer instead of waiting for it. The RTC follows guest time
# from a fixed date. NTLAB_ICOUNT=<shift> changes the rate (2^shift ns an instruction),
# NTLAB_ICOUNT=0 turns counting off. Not used under KVM, which cannot count instructions.
ICOUNT_SHIFT = 5


def icount_args(kvm: bool) -> list[str]:
    raw = os.environ.get("NTLAB_ICOUNT", "").strip()
    if kvm or raw in ("0", "off", "no"):
        return []
    shift = int(raw) if raw.isdigit() and 0 < int(raw) <= 10 else ICOUNT_SHIFT
    return ["-icount", f"shift={shift},sleep=off", "-rtc", "base=2026-01-01T00:00:00,clock=vm"]


def kernel_cmdline(ktests, seed) -> str:
    """The kernel command line passed through fw_cfg: 'ktest=a,b seed=S'."""
    if not isinstance(ktests, str):
        ktests = ",".join(ktests)
    from grader import onstop   # NTLAB_ON_STOP=halt|dump: the kernel halts after a STOP
    return f"ktest={ktests} seed={seed}" + onstop.cmdline_word()


def _qemu_escape(value: str) -> str:
    """QEMU option values double a comma to keep it literal."""
    return str(value).replace(",", ",,")


# ---------------------------------------------------------------- the command line
#
# A boot's argv is [qemu] + machine_args() + boot_args() + accel_args() + boot-specific
# arguments (fw_cfg files, -incoming). A saved machine state (below) is restored only into a
# QEMU started with exactly the arguments it was saved with, so everything that shapes the
# machine goes into machine_args() or accel_args(): adding an argument there is one line.

def machine_args(memory: str = "64M") -> list[str]:
    """The machine every boot path uses (the same for the ISO, the core image and a restore)."""
    return ["-nodefaults", "-machine", "pc", "-m", str(memory),
            "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]


def accel_args(kvm: bool | None = None) -> list[str]:
    """The accelerator: software emulation (TCG) with instruction counting unless KVM is asked for."""
    use_kvm = kvm if kvm is not None else kvm_enabled()
    return (["-enable-kvm", "-cpu", "host"] if use_kvm else []) + icount_args(use_kvm)


BOOT_DISK = "ntlab.disk"


def boot_disk(image: str) -> str:
    """The disk the GRUB core image ntlab.lnx boots the kernel from: ntlab.disk beside it (a tar
    archive of boot/ntlab.elf, which GRUB reads as (hd0))."""
    return os.path.join(os.path.dirname(str(image)), BOOT_DISK)


def boot_args(image: str) -> list[str]:
    """How QEMU finds GRUB: an ISO (El Torito, as `make qemu` boots) or the grader's GRUB
    core image (ntlab.lnx: lnxboot.img + a core with no kernel in it) given to -kernel, which
    reads the kernel from a read-only virtio disk (ntlab.disk). The ISO path has the same disk
    (unused): SeaBIOS keeps memory for a virtio disk at the top of RAM, so without it the
    kernel would see another memory map on that path."""
    disk = ["-drive", f"file={_qemu_escape(boot_disk(image))},format=raw,if=virtio,readonly=on"]
    if is_iso(image):
        return ["-drive", f"file={_qemu_escape(image)},media=cdrom,readonly=on,if=ide", "-boot", "d"] + disk
    return ["-kernel", image] + disk


def is_iso(image: str) -> bool:
    return str(image).endswith(".iso")


def fw_cfg_args(ktests, seed, auth: str | None = None) -> list[str]:
    """The per-boot inputs: the command line and the authentication secret (fw_cfg files, read
    by the kernel at its start, so also fresh after a restore)."""
    cmd = ["-fw_cfg", f"name=opt/ntlab/cmdline,string={_qemu_escape(kernel_cmdline(ktests, seed))}"]
    if auth:
        cmd += ["-fw_cfg", f"name=opt/ntlab/auth,string={_qemu_escape(auth)}"]
    return cmd


def incoming_args(state: str) -> list[str]:
    """Restore a saved machine state (QEMU migration from a file) instead of booting. This is
    the form a person types; run_qemu() gives QEMU the file itself (fd:N, see _direct_incoming)."""
    return ["-incoming", "exec:cat " + shlex.quote(state)]


def _direct_incoming(command: list[str]) -> tuple[list[str], int | None]:
    """(command, fd): a restore written as `-incoming 'exec:cat FILE'` (incoming_args) becomes
    `-incoming fd:N` with FILE opened read-only as N, which QEMU inherits: the same bytes in
    the same order, without a shell and a cat started for every boot (about 8 ms of CPU a
    restore). Any other command comes back unchanged with fd None; so does one whose file
    cannot be opened (QEMU's cat then says why, as before)."""
    try:
        at = command.index("-incoming")
        words = shlex.split(command[at + 1]) if command[at + 1].startswith("exec:") else []
    except (ValueError, IndexError):
        return command, None
    if len(words) != 2 or words[0] != "exec:cat":
        return command, None
    try:
        fd = os.open(words[1], os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return command, None
    return command[:at + 1] + [f"fd:{fd}"] + command[at + 2:], fd


def base_command(image: str, memory: str = "64M", *, kvm: bool | None = None,
                 qemu: str | None = None) -> list[str]:
    """Everything but the per-boot arguments: what a saved state must be restored into."""
    return [qemu or qemu_binary()] + machine_args(memory) + boot_args(image) + accel_args(kvm)


def qemu_command(iso: str, ktests, seed, memory: str = "64M", *, gdb: bool = False,
                 kvm: bool | None = None, qemu: str | None = None, auth: str | None = None,
                 state: str | None = None) -> list[str]:
    """The full QEMU argv for one boot of an image (the ISO, or the GRUB core image ntlab.lnx
    with its disk ntlab.disk)
    running ktests (a list or 'a,b') with seed. auth is the output-authentication secret
    '<hexkey>:<hexnonce>' (grader/auth.py), or None. state: restore this saved state
    (save_boot_state) instead of running firmware and GRUB."""
    cmd = base_command(iso, memory, kvm=kvm, qemu=qemu) + fw_cfg_args(ktests, seed, auth)
    if state:
        cmd += incoming_args(state)
    if gdb:     # True: QEMU's default tcp::1234; a number: that port, on localhost only
        cmd += ["-s", "-S"] if gdb is True else ["-gdb", f"tcp:127.0.0.1:{int(gdb)}", "-S"]
    return cmd


def check_qemu(binary: str) -> str:
    """Return the path of the QEMU binary or raise QemuNotFound with the install command."""
    path = shutil.which(binary)
    if path is None:
        if binary == DEFAULT_QEMU:
            raise QemuNotFound(f"{binary} is not installed (or not on PATH); install it with: {INSTALL_HINT}")
        raise QemuNotFound(f"NTLAB_QEMU={binary} is not an executable (unset NTLAB_QEMU to use "
                           f"{DEFAULT_QEMU}, installed with: {INSTALL_HINT})")
    return path


def _kill_group(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        # QEMU is gone; its helpers (if any) share its process group.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            proc.kill()
        except ProcessLookupError:
            pass


def run_qemu(command: list[str], timeout: float, *, max_serial: int = MAX_SERIAL) -> QemuRun:
    """Run QEMU (stdin /dev/null), reading its stdout (the serial port) until EOF or timeout.

    Past max_serial bytes QEMU is killed (flooded=True); on timeout the whole
    process group is killed (timed_out=True). Raises QemuNotFound if the binary is missing.
    """
    check_qemu(command[0])
    start = time.monotonic()
    deadline = start + timeout
    chunks: list[bytes] = []
    size = 0
    timed_out = flooded = False
    argv, state_fd = _direct_incoming(command)
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                                    start_new_session=True, pass_fds=(state_fd,) if state_fd is not None else ())
        finally:
            if state_fd is not None:
                os.close(state_fd)
        try:
            fd = proc.stdout.fileno()
            with selectors.DefaultSelector() as sel:
                sel.register(fd, selectors.EVENT_READ)
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        timed_out = True
                        break
                    if not sel.select(left):
                        continue
                    data = os.read(fd, 65536)
                    if not data:
                        break
                    if size + len(data) > max_serial:
                        chunks.append(data[:max_serial - size])
                        size = max_serial
                        flooded = True
                        break
                    chunks.append(data)
                    size += len(data)
            if timed_out or flooded:
                _kill_group(proc)
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                # stdout closed but QEMU lingers: treat as a timeout.
                timed_out = True
                _kill_group(proc)
                proc.wait()
        finally:
            if proc.returncode is None:
                _kill_group(proc)
                proc.wait()
            else:
                _kill_group(proc)   # reap stray children in the group, if any
            proc.stdout.close()
        err.seek(0)
        stderr = err.read(MAX_STDERR).decode("utf-8", errors="replace")
    return QemuRun(command=list(command), output=b"".join(chunks), exit_status=proc.returncode,
                   timed_out=timed_out, flooded=flooded, stderr=stderr,
                   elapsed=time.monotonic() - start, timeout=timeout)


def format_command(command: list[str]) -> str:
    """The command as a shell would need it typed."""
    import shlex
    return " ".join(shlex.quote(c) for c in command)
