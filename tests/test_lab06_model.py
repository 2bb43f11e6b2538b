"""grader/models/lab06.py agrees with the reference kernel's KTEST VALUE records for the
seed they were recorded with (tests/transcripts/lab06_values_seed5.txt: handle.storm,
SOL=all, SEED=5) and rejects them for any other seed, naming the clause; its handle table
follows the contract (multiples of 4 from 4, index 0 of each low-level table skipped, LIFO
reuse); every seed's storm grows the table past one level."""
import os

from grader.models import lab06

HERE = os.path.dirname(os.path.abspath(__file__))


def _values():
    out = []
    with open(os.path.join(HERE, "transcripts", "lab06_values_seed5.txt")) as f:
        for line in f:
            _, _, test, key, value = line.rstrip("\n").split(" ", 4)
            out.append((test, key, value))
    return out


def test_model_agrees_with_the_reference():
    assert lab06.judge("handle_storm", 5, _values()) == []


def test_model_rejects_another_seed():
    problems = lab06.judge("handle_storm", 6, _values())
    assert problems and any("LIFO" in p or "seeded operations" in p for p in problems), problems


def test_missing_record_is_named():
    values = [v for v in _values() if v[1] != "digest"]
    assert "expected one KTEST VALUE digest record, seen 0" in lab06.judge("handle_storm", 5, values)[0]


def test_handle_table_contract():
    t = lab06.HandleTable()
    first = [t.create() for _ in range(256)]
    assert first[:255] == list(range(4, 1024, 4)) and first[255] == 1028   # 1024: index 0 of table 2
    t.destroy(8)
    t.destroy(500)
    assert t.create() == 500 and t.create() == 8 and t.create() == 1032


def test_every_seed_grows_past_one_level():
    for seed in range(1, 200):
        e = lab06.storm_expected(seed)
        assert e["max_live"] > 255 and e["steps"] < 4000, (seed, e)
