"""The ntlab pytest plugin (pytest -p grader.plugin ... labs): every checkpoint of every
labs/NN-name/lab.toml (plus its hidden checkpoints) is a pytest item that boots the kernel
in QEMU and judges the serial output. The controller builds the ISO once, draws the seed,
prints the score table and writes results.json; it works with and without pytest-xdist.
"""
from __future__ import annotations

import collections
import os
import random
import re
import shutil
import time

import pytest

from grader import bootstate
from grader import build as b
from grader import labconfig, runner, selection
from grader import qemu as q
from grader.results import PROPERTY, CheckpointResult, results_json, score_table, write_json_atomic

_STATE = pytest.StashKey()
_ID_RE = re.compile(r"::(\d\d\.[a-z0-9_]+)$")


class _State:
    def __init__(self, config):
        self.config = config
        self.root = os.path.abspath(config.getoption("ntlab_root") or selection.ROOT)
        self.sol = config.getoption("ntlab_sol")
        if self.sol is None:
            self.sol = os.environ.get("SOL", "") or "none"
        self.is_worker = hasattr(config, "workerinput")
        self.lab_filter = None
        self.checkpoint_filter = None
        self.results: dict[str, CheckpointResult] = {}
        self.universe: dict[str, str] = {}          # nodeid -> checkpoint id, in collection order
        self.meta: dict[str, tuple] = {}            # checkpoint id -> (checkpoint, lab title)
        self.collect_errors: list[str] = []
        self.build_status: b.BuildStatus | None = None
        self.memory_uses: dict[str, int] = {}
        self.start = time.monotonic()
        results = config.getoption("ntlab_results")
        self.results_path = os.path.abspath(results) if results else os.path.join(self.root, "build",
                                                                                  "results.json")

        try:
            selection.parse(self.sol, self.root)
        except selection.SelectionError as e:
            raise pytest.UsageError(f"ntlab: {e}") from None
        lab = config.getoption("ntlab_lab")
        if lab not in (None, ""):
            if not re.fullmatch(r"\d{1,2}(,\d{1,2})*", str(lab).strip()):
                raise pytest.UsageError(f"ntlab: --ntlab-lab={lab!r}: give a lab number like 1 or 01")
            self.lab_filter = int(lab) if "," not in str(lab) else {int(n) for n in str(lab).split(",")}
        cp = config.getoption("ntlab_checkpoint")
        if cp not in (None, ""):
            cp = cp.strip()
            m = re.fullmatch(r"(?:(\d\d?)\.)?([a-z0-9_]+)", cp)
            if not m:
                raise pytest.UsageError(f"ntlab: --ntlab-checkpoint={cp!r}: give a checkpoint name "
                                        f"like pfn_totals (or 01.pfn_totals)")
            if m.group(1) is not None:
                if self.lab_filter is not None and int(m.group(1)) not in _labs(self.lab_filter):
                    raise pytest.UsageError(f"ntlab: --ntlab-checkpoint={cp} is not in lab {self.lab_filter}")
                self.lab_filter = int(m.group(1))
            self.checkpoint_filter = m.group(2)
        try:
            runner.timeout_scale()
            bootstate.boot_mode()
        except (runner.ConfigError, ValueError) as e:
            raise pytest.UsageError(f"ntlab: {e}") from None

        if self.is_worker:
            self.seed = int(config.workerinput["ntlab_seed"])
        else:
            self.seed = _choose_seed(config.getoption("ntlab_seed"))

    def status(self) -> b.BuildStatus:
        if self.build_status is None:
            if self.is_worker:
                self.build_status = b.wait_for_build(self.sol, self.root)
            else:
                self.build_status = b.build(self.sol, self.root)
        return self.build_status


def _choose_seed(option) -> int:
    raw = option if option not in (None, "") else os.environ.get("SEED", "").strip()
    if raw in (None, ""):
        return random.SystemRandom().getrandbits(32)
    try:
        seed = int(str(raw), 0)
    except ValueError:
        seed = -1
    if seed < 0 or seed >= 1 << 64:
        raise pytest.UsageError(f"ntlab: seed {raw!r} must be a non-negative integer (e.g. SEED=1234)")
    return seed


def _labs(lab_filter) -> set[int]:
    """The lab filter (one number, or a set from --ntlab-lab=1,2) as a set."""
    return lab_filter if isinstance(lab_filter, set) else {lab_filter}


def _state(config) -> _State:
    return config.stash[_STATE]


# ---------------------------------------------------------------- options and setup

def pytest_addoption(parser):
    g = parser.getgroup("ntlab", "ntlab grader")
    g.addoption("--ntlab-sol", dest="ntlab_sol", default=None,
                help="labs taken from solutions/ (none, all, 1-3, ...); default $SOL or none")
    g.addoption("--ntlab-lab", dest="ntlab_lab", default=None, help="grade only this lab (1 or 01)")
    g.addoption("--ntlab-checkpoint", dest="ntlab_checkpoint", default=None,
                help="grade only this checkpoint (name, or NN.name)")
    g.addoption("--ntlab-seed", dest="ntlab_seed", default=None, help="seed for the ktests (default $SEED or random)")
    g.addoption("--ntlab-results", dest="ntlab_results", default=None,
                help="where to write results.json (default build/results.json)")
    g.addoption("--ntlab-root", dest="ntlab_root", default=None,
                help="the repository to build in (default: the one holding the grader)")


def pytest_configure(config):
    config.stash[_STATE] = _State(config)
    config.addinivalue_line("markers", "ntlab_hidden: a hidden (instructor-only) checkpoint")
    config.pluginmanager.register(_Scorer(config), "ntlab-scorer")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """xdist controller: hand the seed to each worker."""
    node.workerinput["ntlab_seed"] = _state(node.config).seed


def _say(config, text: str) -> None:
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None:
        tr.write_line(text)


@pytest.hookimpl(tryfirst=True)
def _check_filters(st) -> None:
    """A LAB= or CHECKPOINT= that matches nothing is a typo: say what there is (before
    anything is built or booted)."""
    cps = [cp for cp, _ in st.meta.values()]
    if not cps or (st.lab_filter is None and st.checkpoint_filter is None):
        return
    labs = sorted({cp.lab for cp in cps})
    if st.lab_filter is not None and not _labs(st.lab_filter) <= set(labs):
        raise pytest.UsageError(f"ntlab: there is no lab {st.lab_filter} "
                                f"(labs in this tree: {', '.join(str(n) for n in labs)})")
    names = [cp.name for cp in cps if st.lab_filter is None or cp.lab in _labs(st.lab_filter)]
    if st.checkpoint_filter is not None and st.checkpoint_filter not in names:
        where = "" if st.lab_filter is None else f" in lab {st.lab_filter}"
        raise pytest.UsageError(f"ntlab: no checkpoint named {st.checkpoint_filter!r}{where} "
                                f"(checkpoints: {', '.join(names)})")


def pytest_sessionstart(session):
    """Controller only, before xdist starts its workers: announce the seed and build once."""
    st = _state(session.config)
    if st.is_worker:
        return
    st.start = time.monotonic()
    _say(session.config, f"ntlab: seed {st.seed} (SEED={st.seed} to repeat)")
    try:
        st.meta = {cp.id: (cp, lab.title) for lab in labconfig.load_labs(st.root) for cp in lab.checkpoints}
    except labconfig.LabConfigError:
        st.meta = {}        # the collector reports the error
    _check_filters(st)
    if session.config.option.collectonly:
        return
    bdir = os.path.relpath(b.paths(st.sol, st.root)[0], st.root)
    if not b.no_build_requested():
        _say(session.config, f"ntlab: building: {' '.join(b.make_command(st.sol))}")
    status = st.status()
    if status.ok:
        _say(session.config, f"ntlab: build ok ({os.path.relpath(status.image(), st.root)})"
             + (" [NTLAB_NO_BUILD=1]" if b.no_build_requested() else ""))
    else:
        _say(session.config, f"ntlab: BUILD FAILED: {status.message}"
             + (f" (log: {bdir}/{b.LOG_FILE})" if status.log else ""))
        from grader import verdict as v       # the compiler's errors once; each checkpoint says "not built"
        for line in v.build_error_block(status.log, sol=st.sol, message=status.message):
            _say(session.config, f"  {line}")
    if shutil.which(q.qemu_binary()) is None:
        try:
            q.check_qemu(q.qemu_binary())
        except q.QemuNotFound as e:
            _say(session.config, f"ntlab: {e}")


# ---------------------------------------------------------------- collection

def pytest_collect_file(file_path, parent):
    if file_path.name == "lab.toml" and labconfig.LAB_DIR_RE.match(file_path.parent.name):
        return LabFile.from_parent(parent, path=file_path)
    return None


class LabFile(pytest.File):
    """labs/NN-name/lab.toml: one item per checkpoint, public then hidden."""

    def collect(self):
        try:
            lab = labconfig.load_lab(str(self.path))
        except labconfig.LabConfigError as e:
            raise self.CollectError(f"ntlab: {e}") from None
        for cp in lab.checkpoints:
            yield CheckpointItem.from_parent(self, name=cp.id, checkpoint=cp, lab_title=lab.title)


class CheckpointFailed(Exception):
    def __init__(self, verdict):
        super().__init__(verdict.summary)
        self.verdict = verdict


class CheckpointItem(pytest.Item):
    def __init__(self, *, checkpoint, lab_title, **kw):
        super().__init__(**kw)
        self.checkpoint = checkpoint
        self.lab_title = lab_title
        if checkpoint.hidden:
            self.add_marker("ntlab_hidden")

    def runtest(self):
        st = _state(self.config)
        verdict, _run = runner.run_checkpoint(self.checkpoint, sol=st.sol, seed=st.seed, root=st.root,
                                              status=st.status(), boots=st.memory_uses.get(self.checkpoint.memory))
        result = CheckpointResult.from_verdict(self.checkpoint, self.lab_title, verdict)
        self.user_properties.append((PROPERTY, result.to_property()))
        if not verdict.passed:
            raise CheckpointFailed(verdict)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CheckpointFailed):
            verdict = excinfo.value.verdict
            if verdict.kind == "build error" and ": not built (" in verdict.summary:
                return verdict.summary          # the compiler's errors were printed once, at the start
            return verdict.text
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"{self.checkpoint.id}: {self.checkpoint.title}"


def pytest_collection_modifyitems(session, config, items):
    st = _state(config)
    if st.lab_filter is None and st.checkpoint_filter is None:
        return
    keep, drop = [], []
    for item in items:
        if isinstance(item, CheckpointItem):
            cp = item.checkpoint
            ok = ((st.lab_filter is None or cp.lab in _labs(st.lab_filter))
                  and (st.checkpoint_filter is None or cp.name == st.checkpoint_filter))
            (keep if ok else drop).append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_collection_finish(session):
    st = _state(session.config)
    # how many boots share each memory size (each size has its own saved state), in every process
    st.memory_uses = collections.Counter(item.checkpoint.memory for item in session.items
                                         if isinstance(item, CheckpointItem))
    if st.is_worker:
        return
    for item in session.items:
        if isinstance(item, CheckpointItem):
            st.universe[item.nodeid] = item.checkpoint.id
            st.meta.setdefault(item.checkpoint.id, (item.checkpoint, item.lab_title))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    st = _state(node.config)
    for nodeid in ids:
        m = _ID_RE.search(nodeid)
        if m and "lab.toml" in nodeid:
            st.universe.setdefault(nodeid, m.group(1))


# ---------------------------------------------------------------- scoring

class _Scorer:
    """Registered per session (hooks that need the config): gathers results from (possibly
    remote) reports, prints the score table and writes results.json."""

    def __init__(self, config):
        self.config = config
        self.collect_errors: list[str] = []

    def pytest_collectreport(self, report):
        if report.failed and str(report.nodeid).endswith("lab.toml"):
            text = str(report.longrepr).strip() if report.longrepr else ""
            self.collect_errors.append(text.splitlines()[-1] if text else f"{report.nodeid}: collection failed")

    def pytest_runtest_logreport(self, report):
        st = _state(self.config)
        if st.is_worker:
            return
        for key, value in getattr(report, "user_properties", ()) or ():
            if key == PROPERTY and isinstance(value, dict):
                st.results[report.nodeid] = CheckpointResult.from_property(value)
                return
        m = _ID_RE.search(report.nodeid)
        if report.failed and m and "lab.toml" in report.nodeid and report.nodeid not in st.results:
            meta = st.meta.get(m.group(1))
            if meta:
                cp, title = meta
                text = getattr(report, "longreprtext", "") or str(report.longrepr)
                st.results[report.nodeid] = CheckpointResult(
                    lab=cp.lab, lab_title=title, id=cp.id, name=cp.name, title=cp.title, number=cp.number,
                    index=cp.index, max_score=cp.points, score=0, passed=False, kind="grader error",
                    summary=f"{cp.id}: grader error ({report.when})", details=text, hidden=cp.hidden)

    def pytest_terminal_summary(self, terminalreporter, exitstatus, config):
        st = _state(config)
        if st.is_worker:
            return
        results = self.final_results(st)
        errors = list(self.collect_errors)
        if not results and not errors and not st.universe:
            return
        table = score_table(results, st.sol, st.seed)
        tr = terminalreporter
        tr.write_sep("=", "ntlab score")
        for line in table.splitlines():
            tr.write_line(line)
        if errors:
            tr.write_line("ntlab: some lab files could not be read:")
            for e in errors:
                tr.write_line(f"  {e}")
        output = table + ("\n" + "\n".join(errors) if errors else "")
        if st.build_status is not None and not st.build_status.ok:
            from grader import verdict as v
            output = "\n".join(["build error:"] + v.build_error_block(
                st.build_status.log, sol=st.sol, message=st.build_status.message)) + "\n\n" + output
        try:
            data = results_json(results, execution_time=time.monotonic() - st.start, output=output)
            write_json_atomic(st.results_path, data)
            tr.write_line(f"ntlab: results written to {os.path.relpath(st.results_path)}")
            from grader import policy
            policy.record_grade(st.root, st.sol, results, st.seed)     # what make handin reports
        except OSError as e:
            tr.write_line(f"ntlab: cannot write {st.results_path}: {e.strerror or e}")

    @staticmethod
    def final_results(st) -> list[CheckpointResult]:
        out = dict(st.results)
        for nodeid, cid in st.universe.items():
            if nodeid in out:
                continue
            meta = st.meta.get(cid)
            if not meta:
                continue
            cp, title = meta
            out[nodeid] = CheckpointResult(
                lab=cp.lab, lab_title=title, id=cp.id, name=cp.name, title=cp.title, number=cp.number,
                index=cp.index, max_score=cp.points, score=0, passed=False, kind="not run",
                summary=f"{cp.id}: not run", details="not run (the grade stopped early: -x, an error or Ctrl-C)",
                hidden=cp.hidden)
        return sorted(out.values(), key=lambda r: r.sort_key)
