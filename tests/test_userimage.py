"""The user-mode images (user/, user/user.mk): tools/gensvc.py's parsing of services.def, the
PE32+ images the build makes (ntdll.dll exports every service, a program imports them from it),
and the kernel's side on every boot path - the ISO, the GRUB core image and the restored saved
state - where the ldr.image ktest finds every image as a boot file (the same bytes the build
made) and maps seedcalc.exe and ntdll.dll page by page (kernel/ktest/ldr_tests.c)."""
import hashlib
import os
import re
import struct
import subprocess

import pytest

from kernel_harness import PYTHON, ROOT, has_solutions, make
from grader import bootstate as bs
from grader import build as b
from grader import qemu as q

USER = os.path.join(ROOT, "build", "all", "user", "System32")
GENSVC = os.path.join(ROOT, "tools", "gensvc.py")


def gensvc(tmp_path, text, mode="list"):
    p = tmp_path / "services.def"
    p.write_text(text)
    return subprocess.run([PYTHON, GENSVC, mode, str(p)], capture_output=True, text=True)


def test_gensvc_indexes_in_line_order(tmp_path):
    r = gensvc(tmp_path, "/* a\n comment */\nSVC(NtA, 2)\n\n// more\nSVC( NtB ,0)\nSVC(NtC, 11)\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["0 NtA 2", "1 NtB 0", "2 NtC 11"]
    s = gensvc(tmp_path, "SVC(NtA, 2)\nSVC(NtB, 0)\n", "stubs64")
    assert "NtB:\n\tmov %rcx, %r10\n\tmov $1, %eax\n\tsyscall\n\tret" in s.stdout
    assert "NtServiceCount:\n\t.long 2" in s.stdout


@pytest.mark.parametrize("text, message", [
    ("SVC(NtA, 2)\nSVC(NtA, 3)\n", ":2: NtA is already service 0"),
    ("SVC(NtA 2)\n", ":1: expected SVC(NtName, ArgCount)"),
    ("SVC(NtA, 17)\n", "takes 17 arguments"),
    ("/* open\nSVC(NtA, 1)\n", "unterminated"),
])
def test_gensvc_refuses_a_bad_line(tmp_path, text, message):
    r = gensvc(tmp_path, text)
    assert r.returncode == 1 and message in r.stderr and r.stdout == ""


def test_services_def_parses():
    r = subprocess.run([PYTHON, GENSVC, "list", os.path.join(ROOT, "user", "services.def")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "NtKtestRecord" in r.stdout and "NtTerminateProcess" in r.stdout


# ---------------------------------------------------------------- the images as built

def pe(path):
    """(machine, characteristics, optional-header magic, subsystem, exports, imports) of a PE file."""
    data = open(path, "rb").read()
    assert data[:2] == b"MZ"
    nt = struct.unpack_from("<I", data, 0x3C)[0]
    assert data[nt:nt + 4] == b"PE\0\0"
    machine, nsec, _, _, _, optsize, chars = struct.unpack_from("<HHIIIHH", data, nt + 4)
    opt = nt + 24
    magic = struct.unpack_from("<H", data, opt)[0]
    subsystem = struct.unpack_from("<H", data, opt + 68)[0]
    dirs = opt + (112 if magic == 0x20B else 96)
    sections = [struct.unpack_from("<8sIIII", data, opt + optsize + 40 * i) for i in range(nsec)]

    def off(rva):
        for _n, vsize, va, rawsize, raw in sections:
            if va <= rva < va + max(vsize, rawsize):
                return raw + rva - va
        raise ValueError(hex(rva))

    def cstr(rva):
        o = off(rva)
        return data[o:data.index(b"\0", o)].decode()

    exports, imports = [], {}
    erva, esize = struct.unpack_from("<II", data, dirs)
    if esize:
        e = off(erva)
        nnames, _, names = struct.unpack_from("<III", data, e + 24)
        exports = [cstr(struct.unpack_from("<I", data, off(names) + 4 * i)[0]) for i in range(nnames)]
    irva, isize = struct.unpack_from("<II", data, dirs + 8)
    if isize:
        d = off(irva)
        while True:
            ilt, _, _, name, iat = struct.unpack_from("<IIIII", data, d)
            if name == 0:
                break
            funcs, k = [], 0
            while True:
                v = struct.unpack_from("<Q", data, off(ilt) + 8 * k)[0]
                if not v:
                    break
                funcs.append(cstr(v + 2))
                k += 1
            imports[cstr(name)] = funcs
            d += 20
    return machine, chars, magic, subsystem, exports, imports


@pytest.fixture(scope="module")
def status():
    if not has_solutions():
        pytest.skip("needs the instructor tree (solutions/)")
    proc = make(ROOT, "SOL=all", "iso", "images")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    st = b.build("all", ROOT, no_build=True)
    assert st.ok
    return st


def test_images_are_pe32plus_native(status):
    services = subprocess.run([PYTHON, GENSVC, "list", os.path.join(ROOT, "user", "services.def")],
                              capture_output=True, text=True).stdout.split()[1::3]
    machine, chars, magic, subsystem, exports, _ = pe(os.path.join(USER, "ntdll.dll"))
    assert (machine, magic, subsystem) == (0x8664, 0x20B, 1) and chars & 0x2000    # AMD64, PE32+, native, DLL
    assert set(services) <= set(exports), set(services) - set(exports)
    machine, chars, magic, subsystem, _, imports = pe(os.path.join(USER, "seedcalc.exe"))
    assert (machine, magic, subsystem) == (0x8664, 0x20B, 1) and not chars & 0x2000
    assert list(imports) == ["ntdll.dll"] and "NtKtestRecord" in imports["ntdll.dll"]


def test_same_sources_same_images(status, tmp_path):
    """No timestamp in an image: a rebuild gives the same bytes (so the saved state is reused)."""
    before = {n: open(os.path.join(USER, n), "rb").read() for n in os.listdir(USER)}
    os.utime(os.path.join(ROOT, "user", "user.mk"))
    proc = make(ROOT, "SOL=all", "images")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {n: open(os.path.join(USER, n), "rb").read() for n in os.listdir(USER)} == before


def test_every_boot_path_carries_the_images(status, monkeypatch):
    monkeypatch.delenv("NTLAB_KVM", raising=False)
    # Every set: System32, and lab 09's 32-bit SysWOW64 beside it.
    sets = [d for d in ("System32", "SysWOW64") if os.path.isdir(os.path.join(os.path.dirname(USER), d))]
    files = {f"{d}/{n}": (os.path.getsize(os.path.join(os.path.dirname(USER), d, n)),
                          hashlib.sha256(open(os.path.join(os.path.dirname(USER), d, n), "rb").read()).hexdigest())
             for d in sets for n in os.listdir(os.path.join(os.path.dirname(USER), d))}
    state, why = bs.saved_state(status.core, status.elf)
    assert state, why
    for name, image, st in (("iso", status.iso, None), ("kernel", status.core, None), ("restore", status.core, state)):
        run = q.run_qemu(q.qemu_command(image, "ldr.image", 5, state=st), 60)
        out = run.output.decode(errors="replace")
        assert run.exit_status == q.EXIT_ALL_PASSED and "KTEST END ldr.image PASS" in out, (name, out[-3000:])
        seen = {m.group(1): (int(m.group(2)), m.group(3))
                for m in re.finditer(r"KTEST VALUE ldr.image bootfile (\S+) (\d+) ([0-9a-f]{64})", out)}
        assert seen == files, (name, seen, files)
