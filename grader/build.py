"""Build the boot images of a selection once (make SOL=<sol> images: the kernel and the GRUB
core image the grader boots; `iso` for the CD image) under a file lock, and let other processes
(xdist workers, a second grade on the same tree) wait for that build and read its status from
<build_dir>/build.status.

A new selection starts from the objects of the selections already built in the same tree
(seed_from_siblings): every object under obj/ is compiled the same way in every selection (the
selection's name has its own generated source), so a selection's build links the others'
objects instead of compiling the whole kernel again; make still decides what is stale.

Submissions (grader/submit.py) build less: framework_objects() builds the framework's objects
once per tree and pipeline run, and seed_tree() copies only those into a submission's fresh
tree, so its build compiles the student's files alone and links.
"""
from __future__ import annotations

import fcntl
import os
import subprocess
from dataclasses import dataclass

from grader import selection
from grader.results import write_text_atomic

STATUS_FILE = "build.status"
LOG_FILE = "build.log"
CORE_IMAGE = "ntlab.lnx"
BOOT_DISK = "ntlab.disk"            # the kernel, as a tar archive on a virtio disk (grader/qemu.py)


@dataclass
class BuildStatus:
    ok: bool
    sol: str
    build_dir: str              # absolute
    message: str = ""           # one line: why it failed, or what was done
    log: str = ""               # the make output (build.log), if any

    @property
    def iso(self) -> str:
        return os.path.join(self.build_dir, "ntlab.iso")

    @property
    def core(self) -> str:
        """The GRUB core image (QEMU -kernel); the kernel is on its disk, BOOT_DISK beside it."""
        return os.path.join(self.build_dir, CORE_IMAGE)

    def image(self, mode: str = "snapshot") -> str:
        """What to boot: the core image (with its disk) unless the ISO is asked for (mode 'iso')
        or is all there is (an old build, NTLAB_NO_BUILD=1)."""
        if mode != "iso" and _core_built(self.build_dir):
            return self.core
        return self.iso

    @property
    def elf(self) -> str:
        return os.path.join(self.build_dir, "ntlab.elf")

    @property
    def log_path(self) -> str:
        return os.path.join(self.build_dir, LOG_FILE)


def paths(sol: str, root: str = selection.ROOT) -> tuple[str, str]:
    """(absolute build dir, lock file) for a selection; raises selection.SelectionError."""
    bdir = os.path.join(root, selection.build_dir(sol, root))
    return bdir, bdir.rstrip(os.sep) + ".lock"


def no_build_requested() -> bool:
    return os.environ.get("NTLAB_NO_BUILD", "").strip() not in ("", "0", "no", "false")


def default_target() -> str:
    """'images' (kernel + GRUB core image), or 'iso' when NTLAB_BOOT=iso."""
    return "iso" if os.environ.get("NTLAB_BOOT", "").strip().lower() == "iso" else "images"


def make_command(sol: str, target: str | None = None) -> list[str]:
    jobs = max(1, min(4, os.cpu_count() or 1))
    return ["make", "--no-print-directory", f"SOL={sol}", target or default_target(), f"-j{jobs}"]


def _core_built(bdir: str) -> bool:
    """The GRUB core image and the disk it boots the kernel from are both there."""
    return os.path.isfile(os.path.join(bdir, CORE_IMAGE)) and os.path.isfile(os.path.join(bdir, BOOT_DISK))


def _products(bdir: str, target: str) -> list[str]:
    """The files a target must leave (any one of them, for images: an ISO still boots)."""
    return [os.path.join(bdir, "ntlab.iso")] if target == "iso" else \
        [os.path.join(bdir, CORE_IMAGE), os.path.join(bdir, "ntlab.iso")]


def _missing(bdir: str, target: str, root: str) -> str:
    return " or ".join(os.path.relpath(p, root) for p in _products(bdir, target)[:1 if target == "iso" else 2])


def _read_text(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def _open_lock(lock: str):
    os.makedirs(os.path.dirname(lock), exist_ok=True)
    return open(lock, "a+")


def build(sol: str, root: str = selection.ROOT, *, no_build: bool | None = None,
          target: str | None = None) -> BuildStatus:
    """Run make for the selection (target: 'images' by default, 'iso') under an exclusive lock
    and record the status.

    With NTLAB_NO_BUILD=1 (or no_build=True) make is skipped and the existing images are used.
    Never raises for a failed build: the status says what went wrong.
    """
    target = target or default_target()
    try:
        bdir, lock = paths(sol, root)
    except selection.SelectionError as e:
        return BuildStatus(False, sol, os.path.join(root, "build"), f"ntlab: {e}")
    if no_build is None:
        no_build = no_build_requested()
    with _open_lock(lock) as lf:
        fcntl.flock(lf, fcntl.LOCK_EX)
        try:
            os.makedirs(bdir, exist_ok=True)
            status_path = os.path.join(bdir, STATUS_FILE)
            if no_build:
                if any(os.path.isfile(p) for p in _products(bdir, target)):
                    st = BuildStatus(True, sol, bdir, "NTLAB_NO_BUILD=1: using the existing images")
                else:
                    st = BuildStatus(False, sol, bdir, f"NTLAB_NO_BUILD=1 but there is no "
                                     f"{_missing(bdir, target, root)}; unset NTLAB_NO_BUILD to build it")
                write_text_atomic(status_path, ("ok" if st.ok else "error") + "\n" + st.message + "\n")
                return st
            try:
                os.unlink(status_path)
            except FileNotFoundError:
                pass
            log_path = os.path.join(bdir, LOG_FILE)
            try:
                seed_from_siblings(bdir)
                seed_user_from_siblings(bdir, root)
            except OSError:
                pass                        # a copy that failed: make compiles what is missing
            cmd = make_command(sol, target)
            try:
                with open(log_path, "wb") as log:
                    # We hold the selection's lock: tell the Makefile not to take it again.
                    proc = subprocess.run(cmd, cwd=root, stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT,
                                          env={**os.environ, "NTLAB_BUILD_LOCKED": "1"})
                code = proc.returncode
                message = f"{' '.join(cmd)} exited with status {code}"
            except OSError as e:
                code = -1
                message = f"cannot run {' '.join(cmd)}: {e.strerror or e}"
                with open(log_path, "a", encoding="utf-8") as log:
                    log.write(message + "\n")
            ok = code == 0 and any(os.path.isfile(p) for p in _products(bdir, target))
            if code == 0 and not ok:
                message = f"{' '.join(cmd)} succeeded but did not produce {_missing(bdir, target, root)}"
                with open(log_path, "a", encoding="utf-8") as log:
                    log.write("ntlab: error: " + message + "\n")
            write_text_atomic(status_path, ("ok" if ok else "error") + "\n" + message + "\n")
            return BuildStatus(ok, sol, bdir, message, "" if ok else _read_text(log_path))
        except BaseException:
            try:
                write_text_atomic(os.path.join(bdir, STATUS_FILE), "error\nthe build was interrupted\n")
            except OSError:
                pass
            raise
        finally:
            fcntl.flock(lf, fcntl.LOCK_UN)


def wait_for_build(sol: str, root: str = selection.ROOT) -> BuildStatus:
    """Wait (shared lock) until no build of the selection runs, then read its recorded status."""
    try:
        bdir, lock = paths(sol, root)
    except selection.SelectionError as e:
        return BuildStatus(False, sol, os.path.join(root, "build"), f"ntlab: {e}")
    with _open_lock(lock) as lf:
        fcntl.flock(lf, fcntl.LOCK_SH)
        try:
            text = _read_text(os.path.join(bdir, STATUS_FILE))
        finally:
            fcntl.flock(lf, fcntl.LOCK_UN)
    lines = text.splitlines()
    if not lines:
        return BuildStatus(False, sol, bdir, f"no build status in {os.path.relpath(bdir, root)}/"
                           f"{STATUS_FILE} (the build did not run)")
    ok = lines[0].strip() == "ok"
    message = lines[1] if len(lines) > 1 else ""
    return BuildStatus(ok, sol, bdir, message, "" if ok else _read_text(os.path.join(bdir, LOG_FILE)))


def error_excerpt(log: str, count: int = 20) -> list[str]:
    """The first compiler errors of a build log: from the first line mentioning 'error', count
    lines; else the last count lines."""
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if "error" in line.lower():
            return lines[i:i + count]
    return lines[-count:]


# ---------------------------------------------------------------- building less per submission

FRAMEWORK_SOL = "none"
_FRAMEWORK: dict[str, bool] = {}
_HASHES: dict[tuple, str] = {}


def built(build_dir: str) -> bool:
    """True if a build folder holds an image the grader can boot."""
    return any(os.path.isfile(p) for p in _products(build_dir, "images"))


def framework_objects(root: str) -> str | None:
    """root's build folder of the selection submissions are built with (build/none), brought up
    to date once per tree and process (make SOL=none images, under its lock): the framework's
    objects that seed_tree() copies into each submission's tree. None if it does not build."""
    root = os.path.abspath(root)
    if root not in _FRAMEWORK:
        _FRAMEWORK[root] = build(FRAMEWORK_SOL, root, no_build=False, target="images").ok
    return paths(FRAMEWORK_SOL, root)[0] if _FRAMEWORK[root] else None


def _hash(path: str) -> str | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = (path, st.st_mtime_ns, st.st_size)
    if key not in _HASHES:
        import hashlib
        with open(path, "rb") as f:
            _HASHES[key] = hashlib.sha256(f.read()).hexdigest()
    return _HASHES[key]


def _dependencies(dep_file: str) -> list[str] | None:
    """The files a make dependency file (gcc -MMD) names for its object, or None if unreadable."""
    try:
        with open(dep_file, encoding="utf-8") as f:
            text = f.read().replace("\\\n", " ")
    except (OSError, UnicodeDecodeError):
        return None
    first = text.split("\n", 1)[0]
    if ":" not in first:
        return None
    return first.split(":", 1)[1].split()


def _student_object(rel: str) -> bool:
    """obj/labs/NN-name/<file>.o and obj/solutions/NN-name/<file>.o: a lab's student file (never
    copied: each submission compiles its own). Tests (labs/*/tests/, hidden/) are framework."""
    parts = rel.split("/")
    return len(parts) == 4 and parts[0] == "obj" and parts[1] in ("labs", "solutions")


def _same_sources(root: str, dest: str, deps: list[str] | None) -> bool:
    """True if every file of a dependency list is byte for byte the same in dest as in root."""
    return bool(deps) and all(_hash(os.path.join(root, d)) is not None and
                              _hash(os.path.join(root, d)) == _hash(os.path.join(dest, d)) for d in deps)


def stub_symbols(root: str, dest: str, rels, symbols) -> dict[str, list[str]]:
    """{student file: sorted symbols(object)} for the stubs (labs/NN-name/<file>.c) whose object in
    root's framework build was compiled from sources all the same in dest (the pristine tree);
    the others are left out (the caller compiles those stubs itself)."""
    cache = framework_objects(root)
    out: dict[str, list[str]] = {}
    if cache is None:
        return out
    _bdir, lock = paths(FRAMEWORK_SOL, root)
    with _open_lock(lock) as lf:
        fcntl.flock(lf, fcntl.LOCK_SH)
        try:
            for rel in rels:
                obj = os.path.join(cache, "obj", rel[:-2] + ".o")
                if not _same_sources(root, dest, _dependencies(obj[:-2] + ".d")):
                    continue
                try:
                    out[rel] = sorted(symbols(obj))
                except Exception:       # an unreadable object: the stub is compiled instead
                    continue
        finally:
            fcntl.flock(lf, fcntl.LOCK_UN)
    return out


def seed_tree(root: str, dest: str, sol: str = FRAMEWORK_SOL) -> tuple[int, int]:
    """Copy into dest/build/<sol> the framework objects of root's build that are valid for dest:
    never a student file's object, and only objects every one of whose sources and headers
    (their .d file) is byte for byte the same in dest as in root. The copies are dated now, so
    make keeps them and compiles only the rest (the student's files) before linking. Objects
    come only from root's own build (made by framework_objects(), never by a submission), so no
    submission's object reaches another's build. Returns (framework objects copied, framework
objects left out: compiled again)."""
    cache = framework_objects(root)
    if cache is None:
        return 0, 0
    rel_dir = os.path.relpath(cache, os.path.abspath(root))
    target = os.path.join(dest, rel_dir)
    copied = skipped = 0
    _bdir, lock = paths(sol, root)
    with _open_lock(lock) as lf:
        fcntl.flock(lf, fcntl.LOCK_SH)
        try:
            flags = os.path.join(cache, "flags")
            if not os.path.isfile(flags):
                return 0, 0
            os.makedirs(target, exist_ok=True)
            import shutil
            shutil.copy2(flags, os.path.join(target, "flags"))         # older than every object
            for dirpath, _dirs, files in os.walk(os.path.join(cache, "obj")):
                for name in files:
                    if not name.endswith(".o"):
                        continue
                    obj = os.path.join(dirpath, name)
                    rel = os.path.relpath(obj, cache)
                    if _student_object(rel):
                        continue                # never copied, not counted: the student's own
                    deps = _dependencies(obj[:-2] + ".d")
                    has_d = deps is not None
                    if deps is None:
                        deps = _asm_dependencies(root, rel)
                    if not _same_sources(root, dest, deps):
                        skipped += 1
                        continue
                    out = os.path.join(target, rel)
                    os.makedirs(os.path.dirname(out), exist_ok=True)
                    if has_d:
                        shutil.copyfile(obj[:-2] + ".d", out[:-2] + ".d")
                    shutil.copyfile(obj, out)                          # dated now: newer than its sources
                    copied += 1
            users = _seed_user_images(root, dest, cache, target)
            copied += users + (_seed_core_image(root, dest, cache, target) if users else 0)
        finally:
            fcntl.flock(lf, fcntl.LOCK_UN)
    return copied, skipped


def _asm_dependencies(root: str, rel: str) -> list[str] | None:
    """The files the Makefile's NASM rule makes obj/<path>.o depend on (NASM writes no
    dependency file): <path>.asm and kernel/arch/x86_64/*.inc, or None if it is not an
    assembly object of root."""
    if not rel.startswith("obj/") or not rel.endswith(".o"):
        return None
    src = rel[len("obj/"):-2] + ".asm"
    if not os.path.isfile(os.path.join(root, src)):
        return None
    inc_dir = os.path.join("kernel", "arch", "x86_64")
    try:
        incs = sorted(os.path.join(inc_dir, n) for n in os.listdir(os.path.join(root, inc_dir)) if n.endswith(".inc"))
    except OSError:
        return None
    return [src] + incs


# The user-mode images (user/user.mk, user/wow64.mk) are the framework's too, but for the lab 09
# files: wow64.dll links the student's thunk.c and redirect.c (compiled into obj64w/), so it
# and every object compiled from a lab's file are built in the submission's own tree.
USER_STUDENT_IMAGES = ("user/System32/wow64.dll",)
USER_BUILD_INPUTS = ("user", "tools", "Makefile")     # what the user images are made from, with the
                                                      # headers their dependency files name


def _tree_files(base: str, names) -> list[str]:
    out = []
    for name in names:
        full = os.path.join(base, name)
        if os.path.isfile(full):
            out.append(name)
            continue
        for dirpath, dirs, files in os.walk(full):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            out += [os.path.relpath(os.path.join(dirpath, f), base) for f in files if not f.endswith(".pyc")]
    return sorted(out)


def _seed_user_images(root: str, dest: str, cache: str, target: str) -> int:
    """Copy root's user-mode build (cache/user: the images, their objects and generated
    sources) into target/user, dates kept, so that a submission's make links only wow64.dll
    with the student's lab 09 files: only when every input of that build (user/, tools/, the
    Makefile and each header an object's dependency file names) is byte for byte the same in
    dest as in root, and never an object made from a lab's file or an image linked from one
    (USER_STUDENT_IMAGES). The dates are root's: make then sees in dest what it saw in root,
    where the build was up to date (framework_objects()). Returns the files copied (0: the
    submission's make builds the user images itself)."""
    import shutil
    src_dir = os.path.join(cache, "user")
    if not os.path.isdir(src_dir):
        return 0
    files = _tree_files(src_dir, ["."])
    inputs = set(_tree_files(root, USER_BUILD_INPUTS))
    student: set[str] = set()
    for rel in files:
        if not rel.endswith(".d"):
            continue
        deps = _dependencies(os.path.join(src_dir, rel))
        if deps is None:
            return 0
        if any(d.startswith(("labs/", "solutions/")) and d.endswith(".c") for d in deps):
            student.update({rel, rel[:-2] + ".o"})
            continue
        inputs.update(d for d in deps if not d.startswith("build/"))
    if not _same_sources(root, dest, sorted(inputs)):
        return 0
    skip = student | {os.path.relpath(i, "user") for i in USER_STUDENT_IMAGES}
    copied = 0
    for rel in files:
        if rel in skip or ".tmp" in rel:
            continue
        out = os.path.join(target, "user", rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        shutil.copy2(os.path.join(src_dir, rel), out)
        copied += 1
    return copied


CORE_IMAGE_FILES = ("modules", "grub-core.cfg", "core.img", CORE_IMAGE)   # in the order make made them
CORE_TEMPLATE = "kernel/arch/x86_64/grub-core.cfg"


def _seed_core_image(root: str, dest: str, cache: str, target: str) -> int:
    """Copy root's GRUB core image (ntlab.lnx: the same for every kernel, which is on the disk)
    and what it is made from (the module list, the generated configuration) into target, dates
    kept, when its template is the same in dest as in root (the rest of its inputs, the
    Makefile and user/, were compared by _seed_user_images). Returns the files copied."""
    import shutil
    if not all(os.path.isfile(os.path.join(cache, n)) for n in CORE_IMAGE_FILES) or \
            not _same_sources(root, dest, [CORE_TEMPLATE]):
        return 0
    for n in CORE_IMAGE_FILES:
        shutil.copy2(os.path.join(cache, n), os.path.join(target, n))
    return len(CORE_IMAGE_FILES)


# ---------------------------------------------------------------- one tree, many selections

def _sibling_objects(folder: str) -> dict[str, float]:
    """{path under folder: mtime} of its objects newer than its flags (older ones are stale
    there too: their flags changed since)."""
    try:
        flags_time = os.stat(os.path.join(folder, "flags")).st_mtime_ns
    except OSError:
        return {}
    out = {}
    for dirpath, _dirs, files in os.walk(os.path.join(folder, "obj")):
        for name in files:
            if name.endswith(".o") and os.path.isfile(os.path.join(dirpath, name[:-2] + ".d")):
                full = os.path.join(dirpath, name)
                t = os.stat(full).st_mtime_ns
                if t > flags_time:
                    out[os.path.relpath(full, folder)] = t
    return out


def seed_user_from_siblings(bdir: str, root: str) -> int:
    """A selection folder with no user-mode build yet (bdir, its lock held) takes a sibling's
    (build/*/user/ and the GRUB core image, dates kept) as a submission takes the framework's
    (_seed_user_images, _seed_core_image: never wow64.dll nor an object made from a lab's file,
    which differ between selections): make then relinks only wow64.dll and remakes what is stale
    instead of compiling the user programs again (about 2 CPU-s a new selection: the slicing
    meta-tests build twenty). Returns the files copied."""
    if os.path.isdir(os.path.join(bdir, "user")):
        return 0
    parent = os.path.dirname(bdir.rstrip(os.sep))
    mine = os.path.basename(bdir.rstrip(os.sep))
    def built(n):                       # the newest user build first (the likeliest up to date)
        try:
            return os.stat(os.path.join(parent, n, "user", "System32", "ntdll.dll")).st_mtime_ns
        except OSError:
            return None
    dated = [(t, n) for n in os.listdir(parent) if n != mine and (t := built(n)) is not None]
    for _t, n in sorted(dated, reverse=True):
        sibling = os.path.join(parent, n)
        lf = _open_lock(sibling + ".lock")
        try:
            try:
                fcntl.flock(lf, fcntl.LOCK_SH | fcntl.LOCK_NB)     # a busy sibling is skipped
            except OSError:
                continue
            copied = _seed_user_images(root, root, sibling, bdir)
            if copied:
                return copied + _seed_core_image(root, root, sibling, bdir)
        finally:
            lf.close()
    return 0


def seed_from_siblings(bdir: str) -> int:
    """Copy into the selection folder bdir (its lock held) the objects it lacks from the other
    selections' folders of the same tree (build/*/) that were compiled with the same flags, dates
    kept, each with its dependency file (its target renamed): make then keeps an object exactly
    when it would have kept it in the folder it came from (newer than every source and header
    it names, and than the flags), and compiles the rest. The newest copy of each object wins;
    nothing is overwritten. Returns the number of objects copied."""
    import shutil
    parent = os.path.dirname(bdir.rstrip(os.sep))
    mine = os.path.basename(bdir.rstrip(os.sep))
    try:
        siblings = sorted(n for n in os.listdir(parent) if n != mine and
                          os.path.isfile(os.path.join(parent, n, "flags")) and
                          os.path.isdir(os.path.join(parent, n, "obj")))
    except OSError:
        return 0
    if not siblings:
        return 0
    flags = {n: _read_text(os.path.join(parent, n, "flags")) for n in siblings}
    own = os.path.join(bdir, "flags")
    if os.path.isfile(own):
        want = _read_text(own)
    else:   # the flags most siblings were built with (make rewrites them if this build's differ)
        want = max(set(flags.values()), key=lambda f: sum(1 for v in flags.values() if v == f))
    siblings = [n for n in siblings if flags[n] == want and want]
    best: dict[str, tuple[int, str]] = {}
    locks = []
    copied = 0
    try:
        for n in siblings:      # no sibling's build writes while we read; a busy one is skipped
            lf = _open_lock(os.path.join(parent, n) + ".lock")   # (never wait: it may wait for us)
            try:
                fcntl.flock(lf, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                lf.close()
                continue
            locks.append(lf)
            for rel, t in _sibling_objects(os.path.join(parent, n)).items():
                if not os.path.exists(os.path.join(bdir, rel)) and (rel not in best or t > best[rel][0]):
                    best[rel] = (t, n)
        if not best:
            return 0
        used = sorted({n for _t, n in best.values()})
        if not os.path.isfile(own):
            os.makedirs(bdir, exist_ok=True)
            oldest = min(os.stat(os.path.join(parent, n, "flags")).st_mtime_ns for n in used)
            with open(own, "w", encoding="utf-8") as f:
                f.write(want)
            os.utime(own, ns=(oldest, oldest))          # older than every object copied
        for rel, (t, n) in sorted(best.items()):
            src = os.path.join(parent, n, rel)
            dst = os.path.join(bdir, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            dep = _read_text(src[:-2] + ".d")
            prefix = f"build/{n}/"
            if not dep.startswith(prefix):
                continue                            # not a dependency file of ours: compile it
            tmp = dst + f".seed{os.getpid()}"
            shutil.copyfile(src, tmp)
            os.utime(tmp, ns=(t, t))
            with open(dst[:-2] + ".d", "w", encoding="utf-8") as f:
                f.write(f"build/{mine}/" + dep[len(prefix):])
            os.replace(tmp, dst)
            copied += 1
    finally:
        for lf in locks:
            fcntl.flock(lf, fcntl.LOCK_UN)
            lf.close()
    return copied

