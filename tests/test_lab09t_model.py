"""grader/models/lab09t.py agrees with the reference kernel's KTEST VALUE records for the seed
they were recorded with (tests/transcripts/lab09t_values_seed5.txt: wow64.threads, SOL=all,
SEED=5), rejects them for another seed, and names the clause of a changed field."""
import os

from grader.models import lab09, lab09t

HERE = os.path.dirname(os.path.abspath(__file__))


def _values():
    out = []
    with open(os.path.join(HERE, "transcripts", "lab09t_values_seed5.txt")) as f:
        for line in f:
            _, _, test, key, value = line.rstrip("\n").split(" ", 4)
            out.append((test, key, value))
    return out


def _changed(key, old, new):
    return [(t, k, v.replace(old, new, 1) if k == key else v) for t, k, v in _values()]


def test_model_agrees_with_the_reference():
    assert lab09.judge("threads", 5, _values()) == []


def test_model_rejects_another_seed():
    assert lab09t.judge(6, _values())


def test_a_stale_teb_names_the_0x53_base():
    # thread1's seventh field: FS:[0x18] stayed its own TEB32 after every yield
    values = [(t, k, " ".join(f if j != 6 else "0" for j, f in enumerate(v.split())) if k == "u1.thread1" else v)
              for t, k, v in _values()]
    problems = lab09t.judge(5, values)
    assert any("0x53 descriptor" in p for p in problems), problems
    assert any("same transcript" in p for p in problems), problems


def test_shared_redirection_state_names_per_thread():
    problems = lab09t.judge(5, _changed("u1.redir_states", "1 0 0", "1 1 1"))
    assert len(problems) == 1 and "per thread" in problems[0], problems


def test_the_64_bit_build_has_no_redirection_records():
    values = _values() + [("wow64.threads", "u2.redir_states", "1 0 0")]
    problems = lab09t.judge(5, values)
    assert any("unexpected record u2.redir_states" in p for p in problems), problems
