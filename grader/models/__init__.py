"""Host-side models: grader/models/<name>.py computes, from the seed, what a checkpoint's
ktests must report, and compares it with the run's KTEST VALUE records.

Each module defines
    judge(checkpoint: str, seed: int, values: list[tuple[str, str, str]]) -> list[str]
values is every (test, key, value) of the run's KTEST VALUE records, in order; the result is
the failure messages (empty when the model agrees), each naming the contract clause, the
expected and the seen value. A checkpoint opts in with `model = "<name>"` in its lab.toml.
"""
