"""Helpers for the tests that build and boot the real kernel: copy the tree, build a
selection, run a grade in a subprocess and read its results.json."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
SEED = os.environ.get("NTLAB_TEST_SEED", "20261122")


def clean_env() -> dict:
    """The environment for a nested grade: no pytest/xdist variables of the outer run."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SEED"))}


def has_solutions(root: str = ROOT) -> bool:
    """TRUE in the instructor tree: every lab has its solutions and hidden checkpoints
    (a student tree may carry released solutions, never hidden/)."""
    sys.path.insert(0, root)
    from grader import selection
    labs = selection.lab_dirs(root)
    return bool(labs) and all(os.path.isdir(os.path.join(root, "solutions", name, "hidden"))
                              for name in labs.values())


def lab_numbers(root: str = ROOT) -> list[int]:
    sys.path.insert(0, root)
    from grader import selection
    return sorted(selection.lab_dirs(root))


def copy_tree(dest: str, with_build: str | None = "all", link: bool = False, changing: tuple = ()) -> str:
    """Copy the source tree (no .git, no build) to dest; with_build copies that
    selection's build folder too (timestamps kept), so only changed files rebuild.

    link=True (the mutation runner, the seed sweep: hundreds of trees that change one file):
    hard links instead of copies wherever no build step writes the file in place: every source
    file, and the build's binaries that gcc, as, ld and objcopy replace (they unlink an old output
    first) or that make moves into place. Text outputs the build rewrites with a shell `>`
    (ksyms.c, pass1.nm, flags, build.log...) and NASM's objects (NASM writes in place) are
    copied; the saved states (build/<sel>/state/) and the disk's staging folder are left out (a
    changed kernel has its own). changing: the C files (paths under the tree) the caller will
    change, each with replace_file (a new file, never written through the link); their objects
    and dependency files are left out (gcc writes a .d in place), the other .d files are linked
    (a changed header would rewrite them all: then they are copied)."""
    def ignore(path, names):
        skip = {".git", "__pycache__", ".pytest_cache"}
        if os.path.abspath(path) == ROOT:
            skip.add("build")
        return [n for n in names if n in skip]
    shutil.copytree(ROOT, dest, ignore=ignore, copy_function=_link if link else shutil.copy2, symlinks=True)
    src = os.path.join(ROOT, "build", with_build) if with_build else ""
    if src and os.path.isdir(src):
        if link:
            _link_build(src, os.path.join(dest, "build", with_build), changing)
        else:
            shutil.copytree(src, os.path.join(dest, "build", with_build), copy_function=shutil.copy2, symlinks=True)
    return dest


def _link(s: str, d: str) -> None:
    """A hard link, or a copy where there can be none (dest on another file system)."""
    try:
        os.link(s, d)
    except OSError:
        shutil.copy2(s, d)


# Build outputs that are always replaced, never rewritten in place (see copy_tree).
_REPLACED = (".elf", ".disk", ".lnx", ".dll", ".exe")   # not core.img: grub-mkimage writes in place


def _link_build(src: str, dest: str, changing: tuple) -> None:
    link_deps = all(c.endswith(".c") for c in changing)
    left_out = {os.path.join(src, "obj", c[:-2] + ext) for c in changing if c.endswith(".c") for ext in (".o", ".d")}

    def ignore(path, names):
        skip = {"state", "memdisk"} if path == src else set()
        return [n for n in names if n in skip or os.path.join(path, n) in left_out]

    def link_or_copy(s, d):
        rel = os.path.relpath(s, src)
        in_obj = rel.startswith("obj" + os.sep)
        replaced = s.endswith(_REPLACED) or (in_obj and s.endswith(".d") and link_deps) or (
            in_obj and s.endswith(".o")
            and (s.endswith(".kt.o") or os.path.isfile(os.path.join(ROOT, rel[4:-2] + ".c"))))
        return _link(s, d) if replaced else shutil.copy2(s, d)
    shutil.copytree(src, dest, ignore=ignore, copy_function=link_or_copy, symlinks=True)


def replace_file(path: str, text: str) -> None:
    """Write text to path as a new file (path may be a hard link into the source tree)."""
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    shutil.copymode(path, tmp)          # not its time: make must see the change
    os.replace(tmp, path)


def make(root: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=root, env=clean_env(),
                          capture_output=True, text=True, timeout=timeout)


def grade(root: str, sol: str, lab: int | None = None, seed: str = SEED, jobs: int = 2,
          results: str | None = None, timeout: int = 600) -> tuple[dict, subprocess.CompletedProcess]:
    """Grade (all labs, or one) and return (results.json as a dict, the process)."""
    results = results or os.path.join(root, "build", f"results-{sol}-{lab}.json")
    if os.path.exists(results):
        os.unlink(results)
    cmd = [PYTHON, "-m", "pytest", "-p", "grader.plugin", "-p", "no:cacheprovider", "-q",
           "-n", str(jobs), f"--ntlab-sol={sol}", f"--ntlab-seed={seed}", f"--ntlab-results={results}"]
    if lab is not None:
        cmd.append(f"--ntlab-lab={lab}")
    cmd.append("labs")
    proc = subprocess.run(cmd, cwd=root, env=clean_env(), capture_output=True, text=True, timeout=timeout)
    if not os.path.exists(results):
        raise AssertionError(f"grade SOL={sol} LAB={lab} wrote no results.json\n{proc.stdout[-3000:]}\n"
                             f"{proc.stderr[-3000:]}")
    with open(results) as f:
        return json.load(f), proc


def by_lab(data: dict) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for t in data["tests"]:
        out.setdefault(int(t["number"].split(".")[0]), []).append(t)
    return out


def summary(tests: list[dict]) -> str:
    return "\n".join(f"  {t['number']} {t['name']}: {t['score']}/{t['max_score']} {t['status']}\n"
                     + "\n".join("      " + line for line in t.get("output", "").splitlines()[:6])
                     for t in tests)


# ---------------------------------------------------------------- loader states
#
# Hundreds of kernels that each boot one to three checkpoints (the mutation runner) spend
# most of a boot in the firmware and GRUB: a state saved at a kernel's first instruction
# (grader/bootstate.py) is worth it only for several boots of that kernel. A loader state is
# saved earlier, inside GRUB before it reads anything from the disk: at GRUB's first BIOS disk
# call (int 13h) after it starts at 1 MiB (its decompressed image). SeaBIOS, QEMU's Linux-boot
# ROM, GRUB's decompression and GRUB's start have run (0.27 of the 0.38 CPU-s to the kernel's
# entry) and nothing was read from the disk (QEMU's virtio_blk_handle_read trace: the 56 reads
# all come after it). It holds no kernel: it is saved once with a blank disk of the same size
# (SeaBIOS records the disk's size) and every kernel's boot restores it into its own core image
# and disk; GRUB then loads that kernel as on any other path (tests/test_bootpath.py: the same
# transcript). The key is the GRUB core image's bytes, the disk's size and the QEMU arguments.

LOADER_STOP = 0x100000


def loader_state(image: str, memory: str = "64M") -> str | None:
    """The loader state for this GRUB core image (build/<sel>/ntlab.lnx) and the size of its
    disk, saved on first use under ROOT/build/loader/ (None if it cannot be made: then the
    caller boots as the grader does)."""
    import fcntl
    import hashlib
    import json
    import time
    sys.path.insert(0, ROOT)
    from grader import bootstate as bs
    from grader import qemu as q
    if q.is_iso(image) or q.kvm_enabled() or bs.boot_mode() != "snapshot":
        return None
    disk = q.boot_disk(image)
    try:
        size = os.path.getsize(disk)
        base = q.base_command(image, memory)
        key = hashlib.sha256(json.dumps([bs._binary_id(base[0]), bs._file_hash(image), size, memory,
                                         [x for x in base[1:] if x != image and disk not in x]]).encode())
    except OSError:
        return None
    folder = os.path.join(ROOT, "build", "loader")
    path = os.path.join(folder, key.hexdigest()[:24] + ".vm")
    try:
        os.utime(path)                  # in use: not a day old (see below)
        return path
    except OSError:
        pass
    os.makedirs(folder, exist_ok=True)
    with open(path[:-3] + ".lock", "a+") as lf:
        fcntl.flock(lf, fcntl.LOCK_EX)
        try:
            if os.path.isfile(path) or os.path.isfile(path[:-3] + ".why"):
                return path if os.path.isfile(path) else None
            for old in os.listdir(folder):   # other core images' states (2 MB each), a day old
                old = os.path.join(folder, old)
                if old.endswith((".vm", ".why")) and os.path.getmtime(old) < time.time() - 86400:
                    os.unlink(old)
            blank = path[:-3] + ".blank"
            with open(blank, "wb") as f:
                f.truncate(size)
            drive = f"file={q._qemu_escape(disk)},"
            base = [x.replace(drive, f"file={q._qemu_escape(blank)},", 1) if x.startswith(drive) else x
                    for x in base]
            try:
                _save_loader_state(base, path)
                return path
            except (bs.SaveError, OSError) as e:
                with open(path[:-3] + ".why", "w") as f:
                    f.write(f"no loader state: {e}\n")
                return None
            finally:
                os.unlink(blank)
        finally:
            fcntl.flock(lf, fcntl.LOCK_UN)


def _save_loader_state(base: list[str], path: str, timeout: float = 30.0) -> None:
    """Run base (QEMU, stopped, with its GDB stub and QMP) to GRUB's start at LOADER_STOP, then to
    its next BIOS disk call (the int 13h vector's address, read from the interrupt table then),
    and save the machine to path (as grader/bootstate.save_boot_state does at the kernel's
    entry). Raises bootstate.SaveError."""
    import shlex
    import signal
    import struct
    import subprocess
    import tempfile
    import time
    sys.path.insert(0, ROOT)
    from grader import bootstate as bs
    d = tempfile.mkdtemp(prefix="ntlab-loader-", dir="/tmp")
    gdb_sock, qmp_sock, raw = os.path.join(d, "gdb"), os.path.join(d, "qmp"), os.path.join(d, "raw")
    proc = subprocess.Popen(base + ["-S", "-gdb", f"unix:{gdb_sock},server=on,wait=off",
                                    "-qmp", f"unix:{qmp_sock},server=on,wait=off"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        gdb = bs._Gdb(bs._connect(gdb_sock, proc, deadline))
        gdb.ask(b"?")

        def run_to(linear: int, real_mode: bool) -> None:
            if gdb.ask(b"Z1,%x,1" % linear) != b"OK":
                raise bs.SaveError("QEMU's GDB stub refused a hardware breakpoint")
            gdb.send(b"c")
            if not gdb.reply().startswith((b"T", b"S")):
                raise bs.SaveError(f"the guest ended before 0x{linear:x}")
            gdb.ask(b"z1,%x,1" % linear)
            regs = bytes.fromhex(gdb.ask(b"g").decode())
            rip, cs = struct.unpack_from("<Q", regs, 128)[0], struct.unpack_from("<I", regs, 140)[0]
            at = cs * 16 + (rip & 0xFFFF) if real_mode else rip
            if at != linear:
                raise bs.SaveError(f"stopped at 0x{at:x}, not 0x{linear:x}")
        run_to(LOADER_STOP, False)
        offset, segment = struct.unpack("<HH", bytes.fromhex(gdb.ask(b"m4c,4").decode()))
        run_to(segment * 16 + offset, True)
        qmp = bs._Qmp(bs._connect(qmp_sock, proc, deadline))
        qmp.ask("migrate", uri="exec:cat > " + shlex.quote(raw))
        while (st := qmp.ask("query-migrate").get("status")) != "completed":
            if st in ("failed", "cancelled") or time.monotonic() > deadline:
                raise bs.SaveError(f"saving the loader state: migration {st or 'timed out'}")
            time.sleep(0.005)
        if proc.stdout and bs._readable(proc.stdout) and proc.stdout.read1(1):
            raise bs.SaveError("the guest wrote to the serial port before GRUB read the disk")
        with open(raw, "rb") as f:
            stream = bs.running_state(f.read())
        with open(path + ".tmp", "wb") as f:
            f.write(stream)
        os.replace(path + ".tmp", path)
    except (OSError, ValueError, struct.error) as e:
        raise bs.SaveError(str(e)) from None
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
        if proc.stdout:
            proc.stdout.close()
        shutil.rmtree(d, ignore_errors=True)


def boot_checkpoints(root: str, sol: str, wanted, seed: str = SEED, jobs: int = 2,
                     mode: str | None = None, loader: bool = False) -> dict:
    """Build a selection (make, under its lock, as a grade does) and boot only the wanted
    checkpoints with the grader's own runner, each alone on a fresh kernel, `jobs` at a time
    (mode None: a state is saved for each memory size two or more of them boot with, the others
    boot the GRUB core image; loader=True: every boot restores the loader state, above).
    wanted: checkpoint ids ('01.list_totals') or a predicate on a Checkpoint. Returns
    {checkpoint id: Verdict}; a build failure gives every checkpoint its build-error verdict."""
    from concurrent.futures import ThreadPoolExecutor
    sys.path.insert(0, root)
    from grader import build, labconfig, runner
    status = build.build(sol, root, no_build=False)
    cps = [cp for lab in labconfig.load_labs(root) for cp in lab.checkpoints
           if (wanted(cp) if callable(wanted) else cp.id in wanted)]
    if not callable(wanted):
        missing = set(wanted) - {cp.id for cp in cps}
        assert not missing, f"no such checkpoint(s): {', '.join(sorted(missing))}"

    # how many of these boots share each memory size: a state is saved only for two or more
    # (saving one costs about as much as a boot of the GRUB core image)
    uses: dict[str, int] = {}
    for cp in cps:
        uses[cp.memory] = uses.get(cp.memory, 0) + 1

    restore = {m: loader_state(status.core, m) for m in uses} if loader and status.ok and mode is None else {}

    def one(cp):
        return cp.id, runner.run_checkpoint(cp, sol=sol, seed=int(seed, 0), root=root, status=status,
                                            mode=mode, boots=uses[cp.memory], restore=restore.get(cp.memory))[0]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return dict(pool.map(one, cps))


def verdict_summary(verdicts: dict) -> str:
    return "\n".join(f"  {cid}: {v.kind}\n" + "\n".join("      " + line for line in v.details.splitlines()[:6])
                     for cid, v in sorted(verdicts.items()))
