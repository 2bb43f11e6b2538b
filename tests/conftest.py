"""How `make test` spreads the project's tests over two pytest-xdist workers (-n 2 --dist
loadgroup): the mutation runner (tests/test_mutations.py, which already boots two cases at a
time in threads and spends most of the run) is one group on one worker, every other test file
is the other group and runs on the other worker one test at a time, in file order, as without
xdist. So the tests that wait (GDB sessions, the pipeline's sandboxes, builds, Python and QEMU
starting) run while the mutants keep the cores busy, and no two of the other tests ever run at
once (they share build/ folders, GDB ports, saved states: none of them has to know about the
others). Without --dist loadgroup (a plain `pytest tests/...`) the marks do nothing."""
import pytest

GROUPS = {"test_mutations.py": "mutations"}


@pytest.hookimpl(tryfirst=True)          # before xdist reads the marks (it renames the items)
def pytest_collection_modifyitems(config, items):
    for item in items:
        name = item.nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
        item.add_marker(pytest.mark.xdist_group(GROUPS.get(name, "sequential")))
