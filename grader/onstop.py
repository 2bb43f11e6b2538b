"""NTLAB_ON_STOP: keep an unexpected STOP for inspection, like an NT crash dump.

  NTLAB_ON_STOP=halt   the kernel halts after the STOP instead of exiting (kernel command line
                       word `onstop=halt`); QEMU stays up with a gdbstub, and GDB attaches to the
                       crashed kernel (`make gdb`, or the command the report prints).
  NTLAB_ON_STOP=dump   the same halt, then QEMU's dump-guest-memory (over QMP) writes the memory
                       and registers as an ELF core to build/dumps/<checkpoint>-<seed>.core and
                       QEMU is ended; `make debug-dump DUMP=<file>` opens it in GDB.
  unset / exit         the kernel ends the run itself after a STOP (the default).

A STOP the checkpoint expects (its stop_code) is neither kept nor dumped. The runner waits for
the kernel's line "NTLAB HALTED after STOP 0x<code>: ..." (kernel/ke/stopdata.c) and then acts;
a run ended this way reports QEMU's status as the kernel's bugcheck exit (37), since the kernel
would have exited with it.
"""
from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import socket
import subprocess
import tempfile
import time

from grader import qemu as q

ENV = "NTLAB_ON_STOP"
MODES = ("exit", "halt", "dump")
HALTED_RE = re.compile(rb"NTLAB HALTED after STOP 0x([0-9A-Fa-f]+)[^\n]*\n")
KERNEL_WORD = "onstop=halt"


class OnStopError(ValueError):
    """NTLAB_ON_STOP has a value that is not a mode."""


def mode() -> str:
    raw = os.environ.get(ENV, "").strip().lower()
    if raw in ("", "0", "no", "off", "exit"):
        return "exit"
    if raw not in MODES:
        raise OnStopError(f"{ENV}={raw!r} must be one of: halt, dump, exit")
    return raw


def enabled() -> bool:
    try:
        return mode() != "exit"
    except OnStopError:
        return False


def cmdline_word() -> str:
    """' onstop=halt' for the kernel command line when a STOP is to be kept, else ''."""
    return f" {KERNEL_WORD}" if enabled() else ""


def dump_path(root: str, name: str, seed) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.+-]", "+", name)[:120] or "run"
    return os.path.join(root, "build", "dumps", f"{safe}-{seed}.core")


class Qmp:
    """A minimal QMP client over a Unix socket."""

    def __init__(self, path: str, timeout: float = 30.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + 5
        while True:
            try:
                self.sock.connect(path)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        self.buf = b""
        self._read()                               # the greeting
        self.execute("qmp_capabilities")

    def _read(self) -> dict:
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise OSError("QMP connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, command: str, **arguments) -> dict:
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read()
            if "return" in reply or "error" in reply:
                if "error" in reply:
                    raise OSError(f"QMP {command}: {reply['error'].get('desc', reply['error'])}")
                return reply["return"]

    def close(self) -> None:
        self.sock.close()


def extra_args(kind: str, qmp_path: str, gdb_path: str) -> list[str]:
    """dump: a QMP socket for dump-guest-memory; halt: a gdbstub on a Unix socket (private to
    this run: no port to collide with another QEMU)."""
    if kind == "dump":
        return ["-qmp", f"unix:{qmp_path},server=on,wait=off"]
    return ["-chardev", f"socket,id=ntlabgdb,path={gdb_path},server=on,wait=off", "-gdb", "chardev:ntlabgdb"]


def run(command: list[str], timeout: float, *, root: str, name: str, seed, expected_code: int | None = None,
        max_serial: int = q.MAX_SERIAL, echo=None, elf: str | None = None) -> q.QemuRun:
    """Like qemu.run_qemu, for a kernel booted with onstop=halt: when it halts after a STOP
    that is not expected_code, keep it (halt: QEMU stays up with a gdbstub) or dump it (dump).
    echo(bytes) sees the serial output as it comes (make qemu). run.extra gets 'dump' (path),
    or 'halted' ({socket, pid, command}) or 'dump_error'."""
    kind = mode()
    q.check_qemu(command[0])
    tmp = tempfile.mkdtemp(prefix="ntlab-qmp-")
    qmp_path, gdb_path = os.path.join(tmp, "qmp.sock"), os.path.join(tmp, "gdb.sock")
    command = list(command) + extra_args(kind, qmp_path, gdb_path)
    start = time.monotonic()
    deadline = start + timeout
    chunks, size = [], 0
    timed_out = flooded = False
    extra: dict = {}
    keep_running = False
    status = None
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                                start_new_session=True)
        try:
            halted, tail = None, b""
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
                    if echo:
                        echo(data)
                    if size + len(data) > max_serial:
                        chunks.append(data[:max_serial - size])
                        flooded = True
                        break
                    chunks.append(data)
                    size += len(data)
                    tail = (tail + data)[-8192:]
                    halted = HALTED_RE.search(tail)
                    if halted:
                        break
            if halted:
                code = int(halted.group(1), 16)
                if expected_code is not None and code == expected_code:
                    extra["kept"] = "expected STOP: not kept"
                elif kind == "dump":
                    path = dump_path(root, name, seed)
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    try:
                        qmp = Qmp(qmp_path)
                        try:
                            qmp.execute("dump-guest-memory", paging=True, protocol=f"file:{path}.tmp")
                        finally:
                            qmp.close()
                        os.replace(f"{path}.tmp", path)
                        extra["dump"] = path
                    except OSError as e:
                        extra["dump_error"] = f"the dump failed: {e}"
                else:
                    keep_running = True
                    elf_rel = os.path.relpath(elf, root) if elf else "build/<selection>/ntlab.elf"
                    gdb_cmd = (f"gdb -q {elf_rel} -ex 'set architecture i386:x86-64' -x tools/gdb/ntlab.py "
                               f"-ex 'target remote {gdb_path}' -ex 'nt attach'")
                    extra["halted"] = {"socket": gdb_path, "pid": proc.pid, "command": gdb_cmd}
                status = q.EXIT_BUGCHECK
        finally:
            if not keep_running:
                q._kill_group(proc)
                proc.wait()
            proc.stdout.close()
            if not keep_running:   # a kept machine keeps its gdb socket
                shutil.rmtree(tmp, ignore_errors=True)
        err.seek(0)
        stderr = err.read(q.MAX_STDERR).decode("utf-8", errors="replace")
    if status is None:
        status = proc.returncode
    run_ = q.QemuRun(command=command, output=b"".join(chunks), exit_status=status, timed_out=timed_out,
                     flooded=flooded, stderr=stderr, elapsed=time.monotonic() - start, timeout=timeout)
    run_.extra.update(extra)
    return run_


def report_lines(run_: q.QemuRun, root: str, sol_arg: str = "") -> list[str]:
    """What a failure report says about a kept STOP."""
    if run_ is None:
        return []
    if "dump" in run_.extra:
        rel = os.path.relpath(run_.extra["dump"], root)
        return [f"crash dump: {rel} (memory and registers at the STOP)",
                f"open it:    make debug-dump {sol_arg}DUMP={rel}   (bt, nt bugcheck, nt stack, nt help)"]
    if "dump_error" in run_.extra:
        return [f"crash dump: none, {run_.extra['dump_error']}"]
    if "halted" in run_.extra:
        h = run_.extra["halted"]
        return [f"the machine is kept halted at the STOP (QEMU pid {h['pid']}, gdbstub on {h['socket']})",
                f"attach:     {h['command']}",
                f"end it:     kill {h['pid']}"]
    return []
