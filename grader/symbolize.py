"""Turn kernel addresses into `function+0xNN (file.c:line)` from the ELF's symbols and DWARF
line table (binutils' addr2line and nm, which the build already needs). Used by the verdicts
to print every backtrace frame with its source line, whatever the student's RtlLookupSymbol
printed. File names are made relative to the tree (labs/03-pool/pool.c), so no host path
appears in a report.
"""
from __future__ import annotations

import bisect
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

TOP_DIRS = ("labs", "solutions", "kernel", "build", "tests", "user")
_CACHE: dict[tuple, "Symbolizer"] = {}


@dataclass(frozen=True)
class Location:
    address: int
    function: str | None        # the ELF symbol containing the address
    offset: int                 # address - the symbol's start
    file: str | None            # relative to the tree
    line: int | None

    def __str__(self) -> str:
        name = f"{self.function}+0x{self.offset:x}" if self.function else f"0x{self.address:x}"
        return f"{name} ({self.file}:{self.line})" if self.file and self.line else name

    @property
    def source(self) -> str:
        return f"{self.file}:{self.line}" if self.file and self.line else ""


def relative_source(path: str) -> str:
    """'/any/where/labs/03-pool/tests/x.c' -> 'labs/03-pool/tests/x.c': from the last source
    folder of the tree (labs, solutions, kernel, user), else the last of build or tests."""
    parts = path.replace("\\", "/").split("/")
    for names in (("labs", "solutions", "kernel", "user"), ("build", "tests")):
        for i in range(len(parts) - 2, -1, -1):
            if parts[i] in names:
                return "/".join(parts[i:])
    return parts[-1]


class Symbolizer:
    def __init__(self, elf: str):
        self.elf = elf
        self.starts: list[int] = []
        self.names: list[str] = []
        self.sizes: list[int] = []
        self._lines: dict[int, tuple[str | None, int | None]] = {}
        self._asm: dict[str, tuple[str, int]] | None = None
        self._loaded = False

    def _load(self) -> None:
        """Read the symbol table (nm), once, when a verdict first needs a name."""
        if self._loaded:
            return
        self._loaded = True
        elf = self.elf
        nm = shutil.which("nm")
        if nm:
            try:
                out = subprocess.run([nm, "-n", "-S", "--defined-only", elf], capture_output=True, text=True,
                                     timeout=30).stdout
            except (OSError, subprocess.TimeoutExpired):
                out = ""
            for line in out.splitlines():
                f = line.split()
                if len(f) == 4 and f[2] in "tTwW":
                    self.starts.append(int(f[0], 16))
                    self.sizes.append(int(f[1], 16))
                    self.names.append(f[3])
                elif len(f) == 3 and f[1] in "tTwW":
                    self.starts.append(int(f[0], 16))
                    self.sizes.append(0)
                    self.names.append(f[2])

    def function(self, address: int) -> tuple[str | None, int]:
        self._load()
        i = bisect.bisect_right(self.starts, address) - 1
        if i < 0:
            return None, 0
        start, size = self.starts[i], self.sizes[i]
        if size and address >= start + size:
            return None, 0
        return self.names[i], address - start

    def lines(self, addresses) -> None:
        """Look up (file, line) of every address not yet known, in one addr2line run."""
        todo = sorted({a for a in addresses if a not in self._lines})
        if not todo:
            return
        tool = shutil.which("addr2line")
        found: dict[int, tuple[str | None, int | None]] = {a: (None, None) for a in todo}
        if tool:
            try:
                out = subprocess.run([tool, "-a", "-e", self.elf] + [f"0x{a:x}" for a in todo],
                                     capture_output=True, text=True, timeout=30).stdout.splitlines()
            except (OSError, subprocess.TimeoutExpired):
                out = []
            for i in range(0, len(out) - 1, 2):
                try:
                    addr = int(out[i], 16)
                except ValueError:
                    continue
                m = re.match(r"^(.*):(\d+)(?: \(discriminator \d+\))?$", out[i + 1].strip())
                if m and m.group(1) != "??" and int(m.group(2)) > 0:
                    found[addr] = (relative_source(m.group(1)), int(m.group(2)))
        self._lines.update(found)

    def asm_label(self, function: str) -> tuple[str | None, int | None]:
        """(file, line) of an assembly function's label in the tree's .asm sources (NASM objects
        carry no line table: see the Makefile)."""
        if self._asm is None:
            self._asm = {}
            root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(self.elf))))
            for base, _dirs, files in os.walk(os.path.join(root, "kernel")):
                for name in files:
                    if name.endswith(".asm"):
                        path = os.path.join(base, name)
                        try:
                            with open(path, encoding="utf-8", errors="replace") as f:
                                for no, text in enumerate(f, 1):
                                    m = re.match(r"^([A-Za-z_][\w.]*):", text)
                                    if m:
                                        self._asm.setdefault(m.group(1), (relative_source(path), no))
                        except OSError:
                            pass
        return self._asm.get(function, (None, None))

    def locate(self, address: int, *, return_address: bool = False) -> Location:
        """The location of address; return_address: it is a return address, so the source
        line is that of the call (address - 1), as a debugger shows it."""
        probe = address - 1 if return_address else address
        self.lines([probe])
        func, off = self.function(probe)
        file, line = self._lines.get(probe, (None, None))
        if file is None and func:
            file, line = self.asm_label(func.split(".")[0])
        if func is not None and return_address:
            off += 1
        return Location(address, func, off, file, line)


def for_elf(elf: str | None) -> Symbolizer | None:
    """A (cached) Symbolizer for the ELF, or None when there is none to read."""
    if not elf:
        return None
    try:
        st = os.stat(elf)
    except OSError:
        return None
    key = (os.path.abspath(elf), st.st_mtime_ns, st.st_size)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = Symbolizer(elf)
    return _CACHE[key]
