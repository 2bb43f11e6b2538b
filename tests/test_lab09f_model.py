"""grader/models/lab09f.py agrees with the reference kernel's KTEST VALUE records for the seed
they were recorded with (tests/transcripts/lab09f_values_seed5.txt: wow64.files and wow64.span,
SOL=all, SEED=5), rejects them for another seed, and names the clause of a changed field."""
import os

from grader.models import lab09f

HERE = os.path.dirname(os.path.abspath(__file__))


def _values():
    out = []
    with open(os.path.join(HERE, "transcripts", "lab09f_values_seed5.txt")) as f:
        for line in f:
            _, _, test, key, value = line.rstrip("\n").split(" ", 4)
            out.append((test, key, value))
    return out


def _changed(key, old, new):
    return [(t, k, v.replace(old, new, 1) if k == key else v) for t, k, v in _values()]


def test_model_agrees_with_the_reference():
    assert lab09f.judge("files", 5, _values()) == []
    assert lab09f.judge("span", 5, _values()) == []


def test_model_rejects_another_seed():
    assert lab09f.judge("files", 6, _values())
    assert lab09f.judge("span", 6, _values())


def test_the_wrong_copy_names_redirection():
    problems = lab09f.judge("files", 5, _changed("u1.which.a", "SysWOW64", "System32"))
    assert problems and "is SysWOW64's x" in problems[0], problems


def test_a_broken_canary_names_the_write_back():
    problems = lab09f.judge("files", 5, _changed("u1.read.middle", " 1 1 1", " 1 0 1"))
    assert len(problems) >= 1 and "canary after the IO_STATUS_BLOCK 0 (expected 1)" in problems[0], problems
    assert "IO_STATUS_BLOCK32" in problems[0], problems


def test_a_native_reply_size_names_the_driver():
    problems = lab09f.judge("files", 5, _changed("u1.ioctl.a", "0x0 16 ", "0x0 24 "))
    assert problems and "Information 24 (expected 16)" in problems[0] and "WOWSAMPLE_REPLY32" in problems[0], problems


def test_an_address_past_the_limit_is_refused_by_the_model():
    values = _values()
    i = next(i for i, (t, k, v) in enumerate(values) if t == "wow64.span" and k.endswith(".span"))
    f = values[i][2].split()
    f[4] = "0x80000fff"
    values[i] = (values[i][0], values[i][1], " ".join(f))
    problems = lab09f.judge("span", 5, values)
    assert problems and "never gets an address above its limit" in problems[0], problems
