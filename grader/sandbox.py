"""Run untrusted work (building and booting a submission) in a sandbox: bubblewrap (bwrap)
with no network, the whole file system read-only except one writable folder, its own PID,
IPC and UTS namespaces, killed with its parent; inside it prlimit limits on address space,
CPU time, file size and processes; as root, the work runs as an unprivileged user (nobody)
through setpriv. A wall-clock timeout kills the whole process group.

Where bwrap cannot create namespaces (many containers), the same command runs with the
limits alone; Sandbox.mode says which ("bwrap" or "limits only: why"), for the grade log.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field

NOBODY = 65534
MOUNT_POINT = "/tmp/ntlab/tree"  # where the work tree appears inside bwrap (on its /tmp tmpfs)


@dataclass
class Limits:
    address_space: int = 4 << 30        # bytes (QEMU maps its guest RAM and code buffer)
    cpu_seconds: int = 600              # per process
    file_size: int = 256 << 20          # largest file a process may write
    processes: int = 512                # RLIMIT_NPROC (for the sandbox user)


@dataclass
class Outcome:
    returncode: int | None
    timed_out: bool
    elapsed: float
    output: str = ""                    # stdout+stderr, at most max_output bytes (the start and the end)


@dataclass
class Sandbox:
    """One work tree: tree (read-only inside) and tree/build (writable)."""
    tree: str
    limits: Limits = field(default_factory=Limits)
    use_bwrap: bool | None = None       # None: probe
    drop_privileges: bool | None = None  # None: when root and the tree is readable by nobody
    mode: str = ""

    def __post_init__(self):
        self.tree = os.path.abspath(self.tree)
        self.build = os.path.join(self.tree, "build")
        os.makedirs(self.build, exist_ok=True)
        if self.use_bwrap is None:
            ok, why = bwrap_works()
            self.use_bwrap = ok
            self.mode = "bwrap (no network, read-only tree except build/, own pid/ipc namespaces)" if ok \
                else f"limits only: bubblewrap cannot create namespaces here ({why})"
        elif not self.mode:
            self.mode = "bwrap" if self.use_bwrap else "limits only (bwrap disabled)"
        if self.drop_privileges is None:
            self.drop_privileges = os.geteuid() == 0 and shutil.which("setpriv") is not None
        if self.drop_privileges:
            _chown_tree(self.build, NOBODY, NOBODY)
            if not self.use_bwrap and not _readable_by_nobody(self.tree):
                self.drop_privileges = False
                self.mode += "; runs as root: the work folder is not readable by nobody"
        if self.drop_privileges:
            self.mode += "; as user nobody"
        self.mode += (f"; limits: AS {self.limits.address_space >> 20} MiB, CPU {self.limits.cpu_seconds} s, "
                      f"file {self.limits.file_size >> 20} MiB, {self.limits.processes} processes")

    @property
    def inner_tree(self) -> str:
        """The tree's path as the sandboxed command sees it."""
        return MOUNT_POINT if self.use_bwrap else self.tree

    def command(self, argv: list[str]) -> list[str]:
        """The full argv that runs argv (cwd: the tree) in the sandbox."""
        lim = self.limits
        inner = ["prlimit", f"--as={lim.address_space}", f"--cpu={lim.cpu_seconds}",
                 f"--fsize={lim.file_size}", f"--nproc={lim.processes}", "--core=0", "--"] + list(argv)
        if self.drop_privileges:
            inner = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                     "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"] + inner
        if not self.use_bwrap:
            return inner
        return ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                "--perms", "1777", "--tmpfs", "/tmp", "--tmpfs", "/run",
                "--perms", "0755", "--dir", os.path.dirname(MOUNT_POINT),
                "--ro-bind", self.tree, MOUNT_POINT, "--bind", self.build, MOUNT_POINT + "/build",
                "--unshare-net", "--unshare-ipc", "--unshare-pid", "--unshare-uts", "--hostname", "ntlab",
                "--die-with-parent", "--new-session", "--chdir", MOUNT_POINT, "--"] + inner

    def env(self, extra: dict | None = None) -> dict:
        keep = ("PATH", "LANG", "LC_ALL", "NTLAB_TIMEOUT_SCALE", "NTLAB_KVM", "NTLAB_QEMU", "NTLAB_MAX_SERIAL")
        env = {k: os.environ[k] for k in keep if k in os.environ}
        env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
        env.update({"HOME": self.inner_tree + "/build", "TMPDIR": self.inner_tree + "/build/tmp",
                    "PYTHONDONTWRITEBYTECODE": "1", "NTLAB_DEPS_OK": "1"})
        env.update(extra or {})
        return env

    def run(self, argv: list[str], timeout: float, *, env: dict | None = None,
            max_output: int = 1 << 20) -> Outcome:
        """Run argv in the sandbox (cwd: the tree) with a wall-clock timeout; never raises for
        a failing command (returncode None: could not start)."""
        os.makedirs(os.path.join(self.build, "tmp"), exist_ok=True)
        if self.drop_privileges:
            _chown_tree(os.path.join(self.build, "tmp"), NOBODY, NOBODY)
        cmd = self.command(argv)
        start = time.monotonic()
        log_path = os.path.join(self.build, f".sandbox-output-{os.getpid()}-{time.monotonic_ns()}")
        try:
            with open(log_path, "w+b") as out:
                try:
                    proc = subprocess.Popen(cmd, cwd=self.tree, stdin=subprocess.DEVNULL, stdout=out,
                                            stderr=subprocess.STDOUT, env=self.env(env), start_new_session=True)
                except OSError as e:
                    return Outcome(None, False, 0.0, f"cannot start {cmd[0]}: {e.strerror or e}")
                timed_out = False
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    timed_out = True
                finally:
                    _kill_group(proc)
                out.seek(0, os.SEEK_END)
                size = out.tell()
                out.seek(0)
                if size <= max_output:
                    text = out.read()
                else:
                    head = out.read(max_output // 2)
                    out.seek(size - max_output // 2)
                    text = head + f"\n[... {size - max_output} bytes cut ...]\n".encode() + out.read()
        finally:
            try:
                os.unlink(log_path)
            except OSError:
                pass
        return Outcome(proc.returncode, timed_out, time.monotonic() - start,
                       text.decode("utf-8", errors="replace"))


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _chown_tree(path: str, uid: int, gid: int) -> None:
    for dirpath, dirs, files in os.walk(path):
        for name in [dirpath] + [os.path.join(dirpath, n) for n in dirs + files]:
            try:
                os.lchown(name, uid, gid)
            except OSError:
                pass


def _readable_by_nobody(path: str) -> bool:
    try:
        r = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--",
                            "test", "-r", os.path.join(path, "Makefile")], timeout=10,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return r.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


_BWRAP: tuple[bool, str] | None = None


def bwrap_works() -> tuple[bool, str]:
    """(True, "") if bwrap can create the namespaces the sandbox uses, else (False, why).
    NTLAB_SANDBOX=none forces the limits-only fallback."""
    global _BWRAP
    if os.environ.get("NTLAB_SANDBOX", "").strip().lower() in ("none", "limits", "0", "no"):
        return False, "NTLAB_SANDBOX=none"
    if _BWRAP is None:
        if shutil.which("bwrap") is None:
            _BWRAP = (False, "bwrap is not installed: apt-get install bubblewrap")
        else:
            try:
                r = subprocess.run(["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                                    "--unshare-net", "--unshare-ipc", "--unshare-pid", "--die-with-parent",
                                    "--", "true"], capture_output=True, text=True, timeout=20)
                _BWRAP = (r.returncode == 0, (r.stderr.strip().splitlines() or [f"status {r.returncode}"])[-1])
            except (OSError, subprocess.TimeoutExpired) as e:
                _BWRAP = (False, str(e))
    return _BWRAP
