"""The grader's fast boot path: one machine state saved per build and image, after the
firmware and GRUB have run and before the kernel's first instruction, restored for every
checkpoint with QEMU's migration from a file (-incoming).

How the state is saved (save_boot_state):
  1. QEMU starts with the same arguments as every restore (qemu.base_command: the GRUB core
     image ntlab.lnx given to -kernel, the kernel on the disk ntlab.disk), stopped (-S), with its GDB stub and QMP on private
     Unix sockets and no fw_cfg files of ours (no command line, no key).
  2. A hardware breakpoint at the kernel's ELF entry point; the CPU runs SeaBIOS and GRUB, and
     stops *before* executing the instruction at the entry (the stop is accepted only with
     GRUB's multiboot2 hand-over in the registers: EAX = 0x36d76289, EIP = the entry).
     Nothing of the kernel has run: no instruction, no fw_cfg read, no serial output.
  3. QMP `migrate` writes the whole machine (RAM, CPU, devices, clocks) to a file; the run
     state recorded in the stream ("debug", from the breakpoint) is rewritten to "running",
     so that a restore starts the CPU at once (QEMU refuses to enter "debug" on a restore).
Every restore then passes its own fw_cfg files (opt/ntlab/cmdline, opt/ntlab/auth): fw_cfg
files are not part of the migration stream (QEMU 7.2's fw_cfg vmstate is the selected entry,
the offset in it, the DMA address and the ACPI blob sizes; see qemu-system-x86_64
-dump-vmstate), and the kernel reads them at its start, after the restore, so each boot gets
its own command line and a fresh key.

Saved states live in build/<sel>/state/, named by a hash of the image, its disk and every QEMU
argument that shapes the machine (memory, accelerator, -icount...), made once under a lock
and shared by all the grade's boots. Whenever a state cannot be made or restored the reason is
recorded and the grader boots the core image (or the ISO) instead: same GRUB, same kernel,
same transcript, only slower.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

from grader import qemu as q

MB2_BOOT_MAGIC = 0x36D76289
SAVE_TIMEOUT = 30.0
STATE_DIR = "state"


class SaveError(RuntimeError):
    """The state could not be saved; the message says why."""


# ---------------------------------------------------------------- which path

def boot_mode() -> str:
    """NTLAB_BOOT: 'snapshot' (default: restore the saved state), 'kernel' (boot the GRUB core
    image every time) or 'iso' (the CD image, as make qemu). Raises ValueError for another value."""
    raw = os.environ.get("NTLAB_BOOT", "").strip().lower()
    if raw in ("", "auto", "snapshot", "fast"):
        return "snapshot"
    if raw in ("kernel", "core", "lnx"):
        return "kernel"
    if raw == "iso":
        return "iso"
    raise ValueError(f"NTLAB_BOOT={raw!r}: use snapshot (default), kernel or iso")


def elf_entry(path: str) -> int:
    """The entry point of an ELF file (GRUB's multiboot2 jumps there: our header has no entry tag)."""
    with open(path, "rb") as f:
        head = f.read(64)
    if len(head) < 32 or head[:4] != b"\x7fELF":
        raise SaveError(f"{path}: not an ELF file")
    if head[4] == 2:
        return struct.unpack_from("<Q", head, 24)[0]
    return struct.unpack_from("<I", head, 24)[0]


_HASHES: dict[tuple, str] = {}


def _file_hash(path: str) -> str:
    """SHA-256 of a file, remembered per process for the same file (inode, size, mtime): every
    boot of a grade asks for its image's state. make replaces an image (a new inode), never
    rewrites it in place."""
    st = os.stat(path)
    key = (os.path.abspath(path), st.st_ino, st.st_size, st.st_mtime_ns)
    if key not in _HASHES:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _HASHES[key] = h.hexdigest()
    return _HASHES[key]


def _binary_id(binary: str) -> str:
    path = shutil.which(binary) or binary
    try:
        st = os.stat(path)
        return f"{os.path.realpath(path)}:{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        return path


def state_path(image: str, base: list[str]) -> str:
    """Where the state for this image and these QEMU arguments is kept."""
    args = [a if a != image else "<image>" for a in base[1:]]
    key = hashlib.sha256(json.dumps([_binary_id(base[0]), args]).encode()).hexdigest()[:16]
    # the core image and the disk it boots the kernel from (the kernel is on the disk)
    files = _file_hash(image) + _file_hash(q.boot_disk(image))
    return os.path.join(os.path.dirname(os.path.abspath(image)), STATE_DIR,
                        f"{hashlib.sha256(files.encode()).hexdigest()[:16]}-{key}.vm")


def saved_state(image: str, elf: str, memory: str = "64M", *, kvm: bool | None = None,
                qemu: str | None = None, timeout: float = SAVE_TIMEOUT) -> tuple[str | None, str]:
    """(path of the saved state for image, "") or (None, why there is none). Made on first use
    under a lock; a failure is remembered (next to where the state would be) and not retried."""
    if q.is_iso(image):
        return None, "an ISO boots through El Torito; states are saved from the core image"
    if kvm if kvm is not None else q.kvm_enabled():
        return None, "NTLAB_KVM=1: the core image is booted (states are saved under TCG only)"
    base = q.base_command(image, memory, kvm=kvm, qemu=qemu)
    try:
        path = state_path(image, base)
    except OSError as e:
        return None, f"cannot read {image}: {e.strerror or e}"
    why_path = path[:-3] + ".why"
    if os.path.isfile(path):
        return path, ""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path[:-3] + ".lock", "a+") as lf:
        fcntl.flock(lf, fcntl.LOCK_EX)
        try:
            if os.path.isfile(path):
                return path, ""
            if os.path.isfile(why_path):
                with open(why_path, encoding="utf-8", errors="replace") as f:
                    return None, f.read().strip()
            _forget_other_images(path)
            try:
                save_boot_state(base, elf_entry(elf), path, timeout)
                return path, ""
            except (SaveError, OSError) as e:
                why = f"no saved state: {e}"
                with open(why_path, "w", encoding="utf-8") as f:
                    f.write(why + "\n")
                return None, why
        finally:
            fcntl.flock(lf, fcntl.LOCK_UN)


def forget(state: str, why: str) -> None:
    """A restore of state failed: drop it and remember why (later boots use the core image)."""
    try:
        with open(state[:-3] + ".why", "w", encoding="utf-8") as f:
            f.write(f"the saved state did not restore: {why}\n")
        os.unlink(state)
    except OSError:
        pass


def _forget_other_images(path: str) -> None:
    """Delete the states of earlier images of this build (they are 2 MB each)."""
    folder, name = os.path.split(path)
    prefix = name.split("-", 1)[0] + "-"
    for other in os.listdir(folder):
        if not other.startswith(prefix) and other.endswith((".vm", ".why", ".lock")):
            try:
                os.unlink(os.path.join(folder, other))
            except OSError:
                pass


# ---------------------------------------------------------------- saving

def _gdb_packet(data: bytes) -> bytes:
    return b"$" + data + b"#" + b"%02x" % (sum(data) & 0xFF)


class _Gdb:
    """The few GDB remote-protocol requests needed (QEMU's gdbstub)."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = b""

    def _byte(self) -> bytes:
        if not self.buf:
            self.buf = self.sock.recv(4096)
            if not self.buf:
                raise SaveError("QEMU closed its GDB connection")
        c, self.buf = self.buf[:1], self.buf[1:]
        return c

    def reply(self) -> bytes:
        while True:
            c = self._byte()
            if c == b"$":
                break
        body = b""
        while (c := self._byte()) != b"#":
            body += c
        self._byte(), self._byte()
        self.sock.sendall(b"+")
        return body

    def send(self, data: bytes) -> None:
        self.sock.sendall(_gdb_packet(data))

    def ask(self, data: bytes) -> bytes:
        self.send(data)
        return self.reply()


class _Qmp:
    def __init__(self, sock: socket.socket):
        self.f = sock.makefile("rwb")
        self._read()                                    # the greeting
        self.ask("qmp_capabilities")

    def _read(self) -> dict:
        line = self.f.readline()
        if not line:
            raise SaveError("QEMU closed its QMP connection")
        return json.loads(line)

    def ask(self, command: str, **arguments) -> dict:
        self.f.write(json.dumps({"execute": command, "arguments": arguments}).encode() + b"\n")
        self.f.flush()
        while True:
            r = self._read()
            if "error" in r:
                raise SaveError(f"QMP {command}: {r['error'].get('desc', r['error'])}")
            if "return" in r:
                return r["return"]


def _connect(path: str, proc: subprocess.Popen, deadline: float) -> socket.socket:
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            s.settimeout(max(0.1, deadline - time.monotonic()))
            return s
        except OSError:
            s.close()
            if proc.poll() is not None:
                raise SaveError(f"QEMU exited with status {proc.returncode} before its {os.path.basename(path)} "
                                f"socket was ready") from None
            if time.monotonic() > deadline:
                raise SaveError("QEMU's sockets did not appear in time") from None
            time.sleep(0.005)


def _socket_dir() -> str:
    d = tempfile.mkdtemp(prefix="ntlab-save-")
    if len(d) > 80:                                     # Unix socket paths are short
        shutil.rmtree(d, ignore_errors=True)
        d = tempfile.mkdtemp(prefix="ntlab-save-", dir="/tmp")
    return d


def running_state(stream: bytes) -> bytes:
    """The migration stream with its recorded run state ("debug": the VM stopped at a GDB
    breakpoint) changed to "running", so that the restore starts the CPU (QEMU cannot enter
    the debug state on a restore). The globalstate section is: idstr, instance and version
    ids, the string's size (u32) and a 100-byte NUL-padded run state name."""
    tag = b"\x0bglobalstate"
    at = stream.find(tag)
    if at < 0 or stream.find(tag, at + 1) >= 0:
        raise SaveError("the migration stream has no single globalstate section")
    field = at + len(tag) + 8
    size = struct.unpack_from(">I", stream, field)[0]
    name = stream[field + 4:field + 104]
    if size != len(b"debug") + 1 or name != b"debug".ljust(100, b"\0"):
        seen = name.rstrip(b"\0")
        raise SaveError(f"unexpected run state in the migration stream: {seen!r}")
    return (stream[:field] + struct.pack(">I", len(b"running") + 1) + b"running".ljust(100, b"\0")
            + stream[field + 104:])


def save_boot_state(base: list[str], entry: int, path: str, timeout: float = SAVE_TIMEOUT, *,
                    magic: int | None = MB2_BOOT_MAGIC) -> dict:
    """Boot base (qemu.base_command) to the kernel's first instruction at entry and save the
    machine to path (see the module comment). Returns figures (seconds) for the benchmark:
    start (QEMU up), loader (firmware and GRUB, to the entry), save. Raises SaveError.
    magic None: stop at the first execution of entry, whatever EAX holds (an address inside
    the loader: tests/kernel_harness.py's loader states)."""
    q.check_qemu(base[0])
    d = _socket_dir()
    gdb_sock, qmp_sock = os.path.join(d, "gdb"), os.path.join(d, "qmp")
    raw = path + f".raw{os.getpid()}"
    cmd = base + ["-S", "-gdb", f"unix:{gdb_sock},server=on,wait=off",
                  "-qmp", f"unix:{qmp_sock},server=on,wait=off"]
    t0 = time.monotonic()
    deadline = t0 + timeout
    figures: dict = {}
    err = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                            start_new_session=True)
    try:
        gdb = _Gdb(_connect(gdb_sock, proc, deadline))
        gdb.ask(b"?")
        figures["start"] = time.monotonic() - t0
        if gdb.ask(b"Z1,%x,1" % entry) != b"OK":
            raise SaveError("QEMU's GDB stub refused a hardware breakpoint")
        for _ in range(16):
            gdb.send(b"c")
            stop = gdb.reply()
            if not stop.startswith((b"T", b"S")):
                raise SaveError(f"the guest ended before the kernel's entry ({stop[:40]!r})")
            regs = bytes.fromhex(gdb.ask(b"g").decode())
            eax = struct.unpack_from("<Q", regs, 0)[0] & 0xFFFFFFFF
            rip = struct.unpack_from("<Q", regs, 16 * 8)[0]
            if rip == entry and (magic is None or eax == magic):
                break
        else:
            raise SaveError(f"the breakpoint at 0x{entry:x} never saw GRUB's multiboot2 hand-over")
        figures["loader"] = time.monotonic() - t0 - figures["start"]
        gdb.ask(b"z1,%x,1" % entry)
        t1 = time.monotonic()
        qmp = _Qmp(_connect(qmp_sock, proc, deadline))
        qmp.ask("migrate", uri="exec:cat > " + shlex.quote(raw))
        while True:
            st = qmp.ask("query-migrate").get("status")
            if st == "completed":
                break
            if st in ("failed", "cancelled") or time.monotonic() > deadline:
                raise SaveError(f"saving the machine state: migration {st or 'timed out'}")
            time.sleep(0.005)
        with open(raw, "rb") as f:
            stream = running_state(f.read())
        out = proc.stdout.read1(4096) if proc.stdout and _readable(proc.stdout) else b""
        if out:
            raise SaveError(f"the guest wrote to the serial port before the kernel's entry: {out[:80]!r}")
        tmp = path + f".tmp{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(stream)
        os.replace(tmp, path)
        figures["save"] = time.monotonic() - t1
        return figures
    except (OSError, ValueError, struct.error) as e:
        err.seek(0)
        tail = err.read(2000).decode("utf-8", "replace").strip()
        raise SaveError(f"{e}" + (f" (QEMU: {tail})" if tail else "")) from None
    except SaveError as e:
        err.seek(0)
        tail = err.read(2000).decode("utf-8", "replace").strip()
        if tail:
            raise SaveError(f"{e} (QEMU: {tail})") from None
        raise
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
        if proc.stdout:
            proc.stdout.close()
        err.close()
        shutil.rmtree(d, ignore_errors=True)
        try:
            os.unlink(raw)
        except FileNotFoundError:
            pass


def _readable(f) -> bool:
    import select
    return bool(select.select([f], [], [], 0)[0])
