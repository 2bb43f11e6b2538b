"""grader/models/lab09x.py agrees with the reference kernel's KTEST VALUE records for the seed
they were recorded with (tests/transcripts/lab09x_values_seed5.txt: wow64.seh and wow64.exconv,
SOL=all, SEED=5), rejects them for another seed, and names the clause of a changed field."""
import os

from grader.models import lab09x

HERE = os.path.dirname(os.path.abspath(__file__))


def _values():
    out = []
    with open(os.path.join(HERE, "transcripts", "lab09x_values_seed5.txt")) as f:
        for line in f:
            _, _, test, key, value = line.rstrip("\n").split(" ", 4)
            out.append((test, key, value))
    return out


def test_model_agrees_with_the_reference():
    assert lab09x.judge("exceptions", 5, _values()) == []
    assert lab09x.judge("exception_conversions", 5, _values()) == []


def test_model_rejects_another_seed():
    assert lab09x.judge("exceptions", 6, _values())
    assert lab09x.judge("exception_conversions", 6, _values())


def test_a_changed_register_names_its_clause():
    values = [(t, k, v.replace("0x2b 0x53", "0x2b 0x2b", 1) if k == "u1.read.seg" else v) for t, k, v in _values()]
    problems = lab09x.judge("exceptions", 5, values)
    assert len(problems) == 1 and "SegFs 0x53" in problems[0], problems


def test_a_changed_byte_names_its_field():
    values = _values()
    i = next(i for i, (t, k, v) in enumerate(values) if k == "v6.80")   # CONTEXT64 at 0x80: Rcx
    t, k, v = values[i]
    values[i] = (t, k, v[:8] + ("00" if v[8:10] != "00" else "ff") + v[10:])
    problems = lab09x.judge("exception_conversions", 5, values)
    assert len(problems) == 1 and "Rcx" in problems[0] and "zero-extended" in problems[0], problems
