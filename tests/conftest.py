"""How `make test` spreads the project's tests over two pytest-xdist workers (-n 2 --dist
loadgroup). One worker runs the tests that keep two cores busy on their own: the slicing
meta-tests, the seeds' whole grades and the boot paths' grades (each boots two checkpoints at
a time), then the mutation runner (tests/test_mutations.py, two cases at a time), which comes
last because it spreads over both cores to the end whatever the other worker still runs. The
other worker runs every other test file, one test at a time, in file order, as without xdist:
the tests that wait (GDB sessions, the pipeline's sandboxes, builds, Python and QEMU starting)
run while the first worker keeps the cores busy. No two tests of one group ever run at once,
and the two groups share nothing but locked builds and saved states (build/<sel>.lock, the
states' locks), as the mutation runner always did with the rest. Without --dist loadgroup (a
plain `pytest tests/...`) the marks do nothing; the order is the same.
tests/bench_tests.py prints each file's CPU time and the projected wall time."""
import pytest

# file -> its place on the first worker (the others: the "sequential" group, in file order)
FIRST_WORKER = {"test_slicing.py": 0, "test_seeds.py": 1, "test_bootpath.py": 2, "test_mutations.py": 3}


def _file(item) -> str:
    return item.nodeid.split("::", 1)[0].rsplit("/", 1)[-1]


@pytest.hookimpl(tryfirst=True)          # before xdist reads the marks (it renames the items)
def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: FIRST_WORKER.get(_file(item), len(FIRST_WORKER)))   # stable: file order kept
    for item in items:
        group = "first" if _file(item) in FIRST_WORKER else "sequential"
        item.add_marker(pytest.mark.xdist_group(group))
