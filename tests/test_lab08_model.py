"""grader/models/lab08.py: the VAD-tree storm agrees with the reference kernel's records for
the seed they were recorded with (tests/transcripts/lab08_values_seed5.txt: vad.tree, SOL=all,
SEED=5) and rejects them for other seeds; the user storm's address-space model follows NT's
rules on hand-made cases; and its scripted calls cover every case on every seed (TESTING.md 5)."""
import os

from grader.models import lab08 as L

HERE = os.path.dirname(os.path.abspath(__file__))


def _values():
    out = []
    with open(os.path.join(HERE, "transcripts", "lab08_values_seed5.txt")) as f:
        for line in f:
            _, _, test, key, value = line.rstrip("\n").split(" ", 4)
            out.append((test, key, value))
    return out


def test_tree_model_agrees_with_the_reference():
    assert L.judge("vad_tree", 5, _values()) == []


def test_tree_model_rejects_another_seed():
    for seed in (6, 7):
        problems = L.judge("vad_tree", seed, _values())
        assert problems and "after the storm" in problems[0], problems


def test_tree_model_rejects_a_tall_tree():
    values = [(t, k, "30" if k == "height" else v) for t, k, v in _values()]
    assert any("AVL bound" in p for p in L.judge("vad_tree", 5, values))


def test_address_space_rules():
    a = L.AddressSpace()
    assert a.allocate(0x20012345, 0x1800, L.MEM_RESERVE, 0x04) == (0, 0x20010000, 0x4000)
    assert a.allocate(0x20013000, 0x10, L.MEM_RESERVE, 0x04)[0] == L.S_CONFLICT
    assert a.allocate(0x20011010, 0x1000, L.MEM_COMMIT, 0x02) == (0, 0x20011000, 0x2000)
    assert a.protect(0x20010000, 0x2000, 0x04)[0] == L.S_NOT_COMMITTED
    assert a.protect(0x20011000, 0x1000, 0x40) == (0, 0x20011000, 0x1000, 0x02)
    assert a.free(0x20011000, 0, L.MEM_RELEASE)[0] == L.S_NOT_AT_BASE
    assert a.free(0x20012000, 0x4000, L.MEM_DECOMMIT)[0] == L.S_UNABLE_FREE
    walk = a.walk()
    assert walk[0] == (0x20000000, 0x10000, L.MEM_FREE, 1, 0, 0, 0)
    assert walk[1] == (0x20010000, 0x1000, L.MEM_RESERVE, 0, 0x20010000, 0x04, L.MEM_PRIVATE)
    assert walk[2] == (0x20011000, 0x1000, L.MEM_COMMIT, 0x40, 0x20010000, 0x04, L.MEM_PRIVATE)
    assert walk[3] == (0x20012000, 0x1000, L.MEM_COMMIT, 0x02, 0x20010000, 0x04, L.MEM_PRIVATE)
    assert a.free(0x20010000, 0, L.MEM_RELEASE) == (0, 0x20010000, 0x4000)
    assert a.free(0x20010000, 0, L.MEM_RELEASE)[0] == L.S_NOT_ALLOCATED
    assert L.mm_protection(0x01 | 0x100) is None and L.mm_protection(0x04 | 0x100) == 0x14


def test_user_storm_covers_every_case_on_every_seed():
    need = {("allocate", 0, L.MEM_RESERVE), ("allocate", 0, L.MEM_RESERVE | L.MEM_COMMIT), ("allocate", 0, L.MEM_COMMIT),
            ("allocate", L.S_CONFLICT), ("free", 0, L.MEM_RELEASE), ("free", L.S_NOT_AT_BASE),
            ("free", L.S_NOT_ALLOCATED), ("free", 0, L.MEM_DECOMMIT), ("free", L.S_UNABLE_FREE), ("protect", 0),
            ("protect", L.S_NOT_COMMITTED), ("protect", L.S_CONFLICT)}
    for seed in range(40):
        xseed, calls = L.user_storm_args(seed)
        a, seen, records = L.AddressSpace(), set(), 5 + calls
        for i, (kind, base, size, t, prot) in enumerate(L.storm_calls(xseed, calls)):
            r = (a.allocate(base, size, t, prot) if kind == "allocate" else
                 a.free(base, size, t) if kind == "free" else a.protect(base, size, prot))
            seen.add((kind, r[0], t) if r[0] == 0 and kind != "protect" else (kind, r[0]))
            if i % 12 == 11 or i == calls - 1:
                records += len(a.walk())
        assert need <= seen, (seed, need - seen)
        assert records <= 450, (seed, records)  # a run may write 512 records (KT_USER_MAX_RECORDS)


def _user_values():
    out = []
    with open(os.path.join(HERE, "transcripts", "lab08_user_values_seed5.txt")) as f:
        for line in f:
            _, _, test, key, value = line.rstrip("\n").split(" ", 4)
            out.append((test, key, value))
    return out


def test_user_models_agree_with_the_reference():
    """user.vmstorm and user.vmtouch, SOL=all, SEED=5 (one boot: the runs are numbered 1 and 2)."""
    assert L.judge("vm_user", 5, _user_values()) == []
    assert L.judge("vm_touch", 5, _user_values()) == []


def test_user_model_rejects_another_seed():
    problems = L.judge("vm_user", 6, _user_values())
    assert problems and problems[0].startswith("call 0:"), problems
