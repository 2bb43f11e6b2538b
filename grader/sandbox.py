"""Run untrusted work (unpacking, checking, building and booting a submission) in a sandbox
with a minimal view: bubblewrap (bwrap) shows the command only the system's programs
(/usr and its merged /bin, /lib...; no /etc, /home, /root, /work or any other folder), a
fresh /tmp, /dev and /proc, and ONE work folder ("the tree", mounted at MOUNT_POINT,
read-only except its build/), plus any extra read-only binds the caller names. No network,
own PID/IPC/UTS/cgroup namespaces, killed with its parent. Inside it, prlimit limits address
space, CPU time, file size and processes; as root, the work runs as the unprivileged user
nobody through setpriv. A wall-clock timeout kills the whole process group.

Fail closed: where bwrap cannot create its namespaces, Sandbox() raises IsolationError
(whose message says the command that fixes it) unless it is told `unconfined=True`; then
the same command runs with the limits alone, as nobody, and Sandbox.unconfined is True so
that the results can say so. Nothing runs as root: as root without setpriv, or when the
tree is not readable by nobody, it refuses too.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field

NOBODY = 65534
MOUNT_POINT = "/tmp/ntlab/tree"   # where the work tree appears inside bwrap (on its /tmp tmpfs)
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Public system files some tools read (the dynamic linker's cache, Debian's alternatives).
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/alternatives")
FIX_INSTALL = "sudo apt-get install bubblewrap   (or: sudo make deps)"


class IsolationError(RuntimeError):
    """Grading refused: no working isolation. The message names the fix."""


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


def refusal(why: str) -> str:
    """The message of a refused grading: why, and the commands that fix it."""
    lines = [f"ntlab: refusing to grade: no working isolation ({why})."]
    if shutil.which("bwrap") is None:
        lines.append(f"  fix: {FIX_INSTALL}")
    else:
        lines += ["  fix: let bubblewrap create namespaces, e.g.",
                  "         sudo sysctl -w kernel.unprivileged_userns_clone=1 user.max_user_namespaces=15000",
                  "       (Ubuntu 24.04 also: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0;",
                  "        in a container: run it with --security-opt seccomp=unconfined --cap-add SYS_ADMIN)",
                  "       check with: bwrap --unshare-all --dev-bind / / true"]
    lines.append("  or grade knowingly without isolation: add --unconfined (every result then says "
                 "\"unconfined\")")
    return "\n".join(lines)


def check_isolation(unconfined: bool = False) -> str:
    """'' when bwrap works; the reason it does not when unconfined is allowed; raises
    IsolationError otherwise."""
    ok, why = bwrap_works()
    if ok:
        return ""
    if not unconfined:
        raise IsolationError(refusal(why))
    return why


@dataclass
class Sandbox:
    """One work tree: tree (read-only inside) and tree/build (writable)."""
    tree: str
    limits: Limits = field(default_factory=Limits)
    unconfined: bool = False            # allowed to run without bwrap (limits only)
    ro_binds: list = field(default_factory=list)   # [(host path, path inside)] read-only extras
    mode: str = ""
    use_bwrap: bool = True
    drop_privileges: bool = False

    def __post_init__(self):
        self.tree = os.path.abspath(self.tree)
        self.build = os.path.join(self.tree, "build")
        os.makedirs(self.build, exist_ok=True)
        why = check_isolation(self.unconfined)
        self.use_bwrap = not why
        self.unconfined = bool(why)
        self.mode = "bwrap (minimal view: system programs and the work tree only; no network; read-only " \
                    "except build/; own pid/ipc namespaces)" if self.use_bwrap \
            else f"UNCONFINED: limits only, bubblewrap cannot isolate here ({why})"
        self.drop_privileges = os.geteuid() == 0
        if self.drop_privileges:
            if shutil.which("setpriv") is None:
                raise IsolationError("ntlab: refusing to grade as root without setpriv (util-linux) to drop "
                                     "privileges.\n  fix: sudo apt-get install util-linux")
            _chown_tree(self.build, NOBODY, NOBODY)
            if not self.use_bwrap and not _readable_by_nobody(self.tree):
                raise IsolationError("ntlab: refusing to grade as root: the work folder is not readable "
                                     "by the user nobody.\n  fix: give --work a folder under a world-"
                                     "readable path (e.g. mkdir -m 755 /var/tmp/ntlab)")
            self.mode += "; as user nobody"
        self.mode += (f"; limits: AS {self.limits.address_space >> 20} MiB, CPU {self.limits.cpu_seconds} s, "
                      f"file {self.limits.file_size >> 20} MiB, {self.limits.processes} processes")

    @property
    def inner_tree(self) -> str:
        """The tree's path as the sandboxed command sees it."""
        return MOUNT_POINT if self.use_bwrap else self.tree

    def inner(self, host: str, inside: str) -> str:
        """The path inside the sandbox of an extra bind (host path when unconfined)."""
        return inside if self.use_bwrap else host

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
        return ["bwrap"] + system_view() + [
            "--dev", "/dev", "--perms", "1777", "--tmpfs", "/dev/shm", "--proc", "/proc",
            "--perms", "1777", "--tmpfs", "/tmp",
            "--perms", "0755", "--dir", os.path.dirname(MOUNT_POINT),
            "--ro-bind", self.tree, MOUNT_POINT, "--bind", self.build, MOUNT_POINT + "/build"] + \
            [a for host, inside in self.ro_binds
             for a in ("--perms", "0755", "--dir", os.path.dirname(inside), "--ro-bind", host, inside)] + [
            "--unshare-net", "--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try",
            "--hostname", "ntlab", "--die-with-parent", "--new-session", "--chdir", MOUNT_POINT, "--"] + inner

    def env(self, extra: dict | None = None) -> dict:
        keep = ("LANG", "LC_ALL", "NTLAB_TIMEOUT_SCALE", "NTLAB_KVM", "NTLAB_QEMU", "NTLAB_MAX_SERIAL")
        env = {k: os.environ[k] for k in keep if k in os.environ}
        env["PATH"] = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
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


def system_view() -> list[str]:
    """bwrap arguments that show the system's programs and libraries, read-only, and nothing
    else of the host: /usr, the merged-/usr links (or the folders themselves), public files."""
    args: list[str] = []
    for d in SYSTEM_DIRS:
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    for f in SYSTEM_FILES:
        if os.path.exists(f):
            args += ["--perms", "0755", "--dir", os.path.dirname(f), "--ro-bind", f, f]
    return args


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
                            "test", "-r", path + "/."], timeout=10,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return r.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


_BWRAP: tuple[bool, str] | None = None


def bwrap_works() -> tuple[bool, str]:
    """(True, "") if bwrap can create the namespaces the sandbox uses, else (False, why).
    NTLAB_SANDBOX=none makes it report failure (to test the refusal and the unconfined mode)."""
    global _BWRAP
    if os.environ.get("NTLAB_SANDBOX", "").strip().lower() in ("none", "limits", "0", "no"):
        return False, "NTLAB_SANDBOX=none"
    if _BWRAP is None:
        if shutil.which("bwrap") is None:
            _BWRAP = (False, "bwrap is not installed")
        else:
            try:
                r = subprocess.run(["bwrap"] + system_view() + ["--dev", "/dev", "--proc", "/proc",
                                    "--unshare-net", "--unshare-ipc", "--unshare-pid", "--die-with-parent",
                                    "--", "true"], capture_output=True, text=True, timeout=20)
                _BWRAP = (r.returncode == 0, (r.stderr.strip().splitlines() or [f"status {r.returncode}"])[-1])
            except (OSError, subprocess.TimeoutExpired) as e:
                _BWRAP = (False, str(e))
    return _BWRAP
