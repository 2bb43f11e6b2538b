"""nt vad and nt pte's user PTE states (lab 08, tools/gdb/ntgdb/vm.py) at the stop of gdb.vad
(labs/08-usermode/tests/gdb_vm_tests.c): three reservations of a test process, attached."""
from __future__ import annotations

from test_gdb_nt import SEED, _no_traceback, pytestmark, reference, run_snapshot  # noqa: F401


def test_nt_vad_and_pte(reference):  # noqa: F811
    _, v, _ = run_snapshot(reference, SEED, [("vad", "nt vad")], ktest="gdb.vad", first_stop=1)
    a, b, c = (int(x, 16) for x in v["vads"][0].split())
    s, _, text = run_snapshot(reference, SEED, [
        ("vad", "nt vad"), ("valid", f"nt pte {a:#x}"), ("dz", f"nt pte {a + 0x1000:#x}"),
        ("decommitted", f"nt pte {a + 0x3000:#x}"), ("reserved", f"nt pte {b:#x}"),
        ("committed", f"nt pte {b + 0x1000:#x}"),
    ], ktest="gdb.vad", first_stop=1)
    _no_traceback(text)
    assert "KTEST END gdb.vad PASS" in text, text
    assert "3 VADs" in s["vad"] and "corrupt" not in s["vad"], s["vad"]
    for base, what in ((a, "READWRITE MemCommit"), (b, "READONLY"), (c, "READWRITE|GUARD MemCommit")):
        assert f"{base:12x}" in s["vad"] and what in s["vad"], (hex(base), s["vad"])
    assert "kept protection READWRITE" in s["valid"], s["valid"]
    assert "zero: ask the VAD" in s["dz"], s["dz"]
    assert "decommitted" in s["decommitted"], s["decommitted"]
    assert "not valid" in s["reserved"], s["reserved"]
    assert "demand zero: committed, protection EXECUTE_READ" in s["committed"], s["committed"]
