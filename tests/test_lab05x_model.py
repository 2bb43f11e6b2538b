"""grader/models/lab05x.py: the seeded APC delivery order and ERESOURCE grant order follow
the tests' draws (labs/05-threads/tests/apc_tests.c, exsync_tests.c), every seed covers
every case, and a wrong order fails with the clause and a timeline."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from grader.models import lab05x  # noqa: E402


def test_every_seed_covers_every_case():
    for seed in range(1, 300):
        kinds = lab05x.apc_kinds(seed)
        assert 6 <= len(kinds) <= 10 and kinds[0] and not kinds[1]
        assert kinds.count(True) >= 2 and kinds.count(False) >= 2
        modes = lab05x.resource_modes(seed)
        assert 4 <= len(modes) <= 7 and modes[0] and not modes[1] and modes[-1]


def test_orders():
    # seed 3 as the kernel reported it (make qemu SOL=all KTEST=apc.order,resource.shared_exclusive SEED=3)
    assert "".join("N" if n else "S" for n in lab05x.apc_kinds(3)) == "NSNNSSN"
    assert lab05x.apc_order_expected(3) == [1, 4, 5, 0, 2, 3, 6]
    assert "".join("X" if x else "S" for x in lab05x.resource_modes(3)) == "XSSX"
    assert lab05x.resource_grant_expected(3) == [1, 2, 0, 3]


def _values(seed, delivered, granted):
    kinds = "".join("N" if n else "S" for n in lab05x.apc_kinds(seed))
    modes = "".join("X" if x else "S" for x in lab05x.resource_modes(seed))
    return [("apc.order", "kinds", kinds), ("apc.order", "delivered", delivered),
            ("resource.shared_exclusive", "modes", modes), ("resource.shared_exclusive", "granted", granted)]


def test_judge():
    seed = 3
    good = _values(seed, "1,4,5,0,2,3,6", "1,2,0,3")
    assert lab05x.judge("apc_order", seed, good) == []
    assert lab05x.judge("resource_shared_exclusive", seed, good) == []
    bad = _values(seed, "0,1,2,3,4,5,6", "0,1,2,3")
    msg = lab05x.judge("apc_order", seed, bad)
    assert len(msg) == 1 and "special kernel APC" in msg[0] and "expected : 1s 4s 5s 0 2 3 6" in msg[0], msg
    msg = lab05x.judge("resource_shared_exclusive", seed, bad)
    assert len(msg) == 1 and "every shared waiter" in msg[0] and "seen     : 0X 1S 2S 3X" in msg[0], msg
    assert "none" not in lab05x.judge("apc_order", seed, _values(seed, "none", "1,2,0,3"))[0]
    assert lab05x.judge("nope", seed, good)
    assert "not a list" in lab05x.judge("apc_order", seed, _values(seed, "x,y", "1,2,0,3"))[0]
