"""Load and check the checkpoints of each lab (labs/NN-name/lab.toml and the
instructor-only solutions/NN-name/hidden/checkpoints.toml).

A malformed file raises LabConfigError whose message names the file and the key,
so that a typo in a lab.toml reads as one clear line rather than a traceback.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field

from grader.selection import ROOT

LAB_DIR_RE = re.compile(r"^(\d\d)-[a-z0-9][a-z0-9-]*$")
NAME_RE = re.compile(r"^[a-z0-9_]+$")
KTEST_RE = re.compile(r"^[A-Za-z0-9_.:/-]+$")
MEMORY_RE = re.compile(r"^[1-9][0-9]*[KMG]?$")
PARAM_RE = re.compile(r"^0[xX][0-9A-Fa-f]{1,16}$")
MODEL_RE = re.compile(r"^[a-z][a-z0-9_]*$")
VALUE_KEY_RE = re.compile(r"^=[a-z][a-z0-9_]{0,31}$")
MODELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")

DEFAULT_TIMEOUT = 10
DEFAULT_MEMORY = "64M"
HIDDEN_FILE = os.path.join("hidden", "checkpoints.toml")

_LAB_KEYS = {"number", "title", "files"}
_CHECKPOINT_KEYS = {"name", "title", "points", "ktests", "expect", "stop_code", "timeout", "memory",
                    "stop_params", "model"}


@dataclass(frozen=True)
class StopParamRef:
    """A STOP parameter known only when the test runs, judged exactly on the host anyway:
    kind "value": the number the stopping test announces in its one `KTEST VALUE <test> <key>`
    record (a run-time address such as the IRP); kind "seed": the number the checkpoint's model
    computes from the seed (`stop_params(checkpoint, seed)` in grader/models/<model>.py)."""
    kind: str
    key: str = ""

    def __str__(self) -> str:
        return f"={self.key}" if self.kind == "value" else "seed"


def param_text(p) -> str:
    """One stop_params entry as lab.toml writes it: "0x99", "*", "=irp" or "seed"."""
    if p is None:
        return "*"
    return str(p) if isinstance(p, StopParamRef) else f"0x{p:X}"


class LabConfigError(ValueError):
    """A lab.toml or hidden checkpoints.toml that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Checkpoint:
    """One graded checkpoint: a set of ktests run in one boot, and what they must do."""
    lab: int
    name: str
    title: str
    points: int
    ktests: tuple[str, ...]
    expect: str = "pass"
    stop_code: int | None = None
    timeout: float = DEFAULT_TIMEOUT
    memory: str = DEFAULT_MEMORY
    # Host-side expected STOP parameters P1..P4: a number; a StopParamRef ("=key": the value the
    # test announces as KTEST VALUE <test> key; "seed": the model computes it from the seed); None
    # ("*") only where the value truly cannot be known.
    stop_params: tuple[int | StopParamRef | None, ...] | None = None
    model: str | None = None    # grader/models/<model>.py judges the run's KTEST VALUE records
    # The model's file: grader/models/<model>.py, or for a hidden checkpoint the instructor-only
    # solutions/NN-name/hidden/models/<model>.py when there is one (it describes a hidden test,
    # so it must not ship with the student tree).
    model_path: str | None = None
    hidden: bool = False
    index: int = 1              # 1-based within the lab, public ones first, then hidden ones
    source: str = ""            # the file it came from (for messages)

    @property
    def id(self) -> str:
        """'01.pfn_totals': the pytest item name."""
        return f"{self.lab:02d}.{self.name}"

    @property
    def number(self) -> str:
        """'01.1': the Gradescope test number."""
        return f"{self.lab:02d}.{self.index}"

    @property
    def visibility(self) -> str:
        return "after_published" if self.hidden else "visible"


@dataclass
class Lab:
    """One lab folder and its checkpoints (public, then hidden)."""
    number: int
    folder: str
    title: str
    files: tuple[str, ...]
    path: str                   # the lab.toml
    checkpoints: list[Checkpoint] = field(default_factory=list)
    hidden_path: str | None = None


def _rel(path: str, root: str | None) -> str:
    if root:
        try:
            rel = os.path.relpath(path, root)
            if not rel.startswith(".."):
                return rel
        except ValueError:
            pass
    return path


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _read_toml(path: str, shown: str) -> dict:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise LabConfigError(f"{shown}: TOML syntax error: {e}") from None
    except OSError as e:
        raise LabConfigError(f"{shown}: cannot read: {e.strerror or e}") from None


def _check_checkpoint(raw, where: str, lab: int, hidden: bool, source: str,
                      hidden_models: str | None = None) -> dict:
    """Validate one [[checkpoint]] table; return keyword arguments for Checkpoint."""
    if not isinstance(raw, dict):
        raise LabConfigError(f"{where}: must be a table ([[checkpoint]])")
    unknown = sorted(set(raw) - _CHECKPOINT_KEYS)
    if unknown:
        raise LabConfigError(f"{where}: unknown key {unknown[0]!r} "
                             f"(allowed: {', '.join(sorted(_CHECKPOINT_KEYS))})")
    for key in ("name", "title", "points", "ktests"):
        if key not in raw:
            raise LabConfigError(f"{where}: missing key {key!r}")
    name = raw["name"]
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise LabConfigError(f"{where}: key 'name' must be a string of [a-z0-9_], got {name!r}")
    where = f"{where} ({name!r})"
    title = raw["title"]
    if not isinstance(title, str) or not title.strip():
        raise LabConfigError(f"{where}: key 'title' must be a non-empty string, got {title!r}")
    points = raw["points"]
    if not _is_int(points) or points <= 0:
        raise LabConfigError(f"{where}: key 'points' must be an integer > 0, got {points!r}")
    ktests = raw["ktests"]
    if not isinstance(ktests, list) or not ktests:
        raise LabConfigError(f"{where}: key 'ktests' must be a non-empty list of test names, got {ktests!r}")
    for t in ktests:
        if not isinstance(t, str) or not KTEST_RE.match(t):
            raise LabConfigError(f"{where}: key 'ktests' has a bad test name {t!r} "
                                 f"(letters, digits and _ . - : / only)")
    expect = raw.get("expect", "pass")
    if expect not in ("pass", "stop"):
        raise LabConfigError(f"{where}: key 'expect' must be \"pass\" or \"stop\", got {expect!r}")
    stop_code = raw.get("stop_code")
    if expect == "stop":
        if stop_code is None:
            raise LabConfigError(f"{where}: key 'stop_code' is required when expect = \"stop\"")
        if not _is_int(stop_code) or stop_code < 0 or stop_code > 0xFFFFFFFF:
            raise LabConfigError(f"{where}: key 'stop_code' must be an integer bugcheck code "
                                 f"(e.g. 0x4E), got {stop_code!r}")
    elif stop_code is not None:
        raise LabConfigError(f"{where}: key 'stop_code' is only allowed with expect = \"stop\"")
    timeout = raw.get("timeout", DEFAULT_TIMEOUT)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not timeout > 0:
        raise LabConfigError(f"{where}: key 'timeout' must be a number of seconds > 0, got {timeout!r}")
    memory = raw.get("memory", DEFAULT_MEMORY)
    if not isinstance(memory, str) or not MEMORY_RE.match(memory):
        raise LabConfigError(f"{where}: key 'memory' must be a QEMU size like \"64M\", got {memory!r}")
    stop_params = raw.get("stop_params")
    if stop_params is not None:
        if expect != "stop":
            raise LabConfigError(f"{where}: key 'stop_params' is only allowed with expect = \"stop\"")
        stop_params = _check_stop_params(stop_params, where)
    model = raw.get("model")
    if stop_params is not None and all(p is None for p in stop_params) and model is None:
        raise LabConfigError(f"{where}: key 'stop_params' is all \"*\": state every parameter the test can "
                             f"know, or name a model (key 'model') that computes them from the seed")
    if stop_params is not None and model is None and any(isinstance(p, StopParamRef) and p.kind == "seed"
                                                         for p in stop_params):
        raise LabConfigError(f"{where}: key 'stop_params' has a \"seed\" parameter but no model (key 'model') "
                             f"to compute it from the seed")
    if model is not None:
        if not isinstance(model, str) or not MODEL_RE.match(model):
            raise LabConfigError(f"{where}: key 'model' must be the name of a module in grader/models/ "
                                 f"(like \"lab01\"), got {model!r}")
        candidates = [os.path.join(MODELS_DIR, model + ".py")]
        if hidden and hidden_models:
            candidates.insert(0, os.path.join(hidden_models, model + ".py"))
        model_path = next((c for c in candidates if os.path.isfile(c)), None)
        if model_path is None:
            also = " or in the lab's hidden/models/" if hidden else ""
            raise LabConfigError(f"{where}: key 'model': there is no grader/models/{model}.py{also}")
    else:
        model_path = None
    return dict(lab=lab, name=name, title=title.strip(), points=points, ktests=tuple(ktests),
                expect=expect, stop_code=stop_code, timeout=float(timeout), memory=memory,
                stop_params=stop_params, model=model, model_path=model_path, hidden=hidden, source=source)


def _check_stop_params(raw, where: str) -> tuple[int | StopParamRef | None, ...]:
    """stop_params = ["0x7", "=block", "seed", "*"]: exactly four of a hex string, "=key" (the
    value the test announces as KTEST VALUE <test> key), "seed" (the model computes it) or "*"."""
    if not isinstance(raw, list) or len(raw) != 4:
        raise LabConfigError(f"{where}: key 'stop_params' must be a list of 4 parameters P1..P4 "
                             f"(hex strings like \"0x99\", \"=key\" for the value the test announces as "
                             f"KTEST VALUE <test> key, \"seed\" for a value the model computes, or \"*\" for a "
                             f"value the test cannot know), got {raw!r}")
    out: list[int | StopParamRef | None] = []
    for i, p in enumerate(raw, 1):
        if p == "*":
            out.append(None)
        elif p == "seed":
            out.append(StopParamRef("seed"))
        elif isinstance(p, str) and VALUE_KEY_RE.match(p):
            out.append(StopParamRef("value", p[1:]))
        elif isinstance(p, str) and PARAM_RE.match(p.strip()):
            out.append(int(p.strip(), 16))
        else:
            raise LabConfigError(f"{where}: key 'stop_params' parameter P{i} must be a hex string of at most "
                                 f"64 bits like \"0x99\", \"=key\" (a KTEST VALUE key: lower case, digits, _), "
                                 f"\"seed\", or \"*\", got {p!r}")
    return tuple(out)


def _checkpoint_list(data: dict, shown: str, lab: int, hidden: bool, required: bool,
                     hidden_models: str | None = None) -> list[dict]:
    raw = data.get("checkpoint")
    if raw is None:
        if required:
            raise LabConfigError(f"{shown}: missing key 'checkpoint' (add at least one [[checkpoint]] table)")
        return []
    if not isinstance(raw, list):
        raise LabConfigError(f"{shown}: key 'checkpoint' must be an array of tables ([[checkpoint]])")
    return [_check_checkpoint(item, f"{shown}: checkpoint #{i}", lab, hidden, shown, hidden_models)
            for i, item in enumerate(raw, 1)]


def load_lab(lab_toml: str, root: str | None = None) -> Lab:
    """Load labs/NN-name/lab.toml and, if present, solutions/NN-name/hidden/checkpoints.toml.

    root is the repository (default: derived from the path, three levels up).
    Raises LabConfigError for any problem.
    """
    lab_toml = os.path.abspath(str(lab_toml))
    lab_dir = os.path.dirname(lab_toml)
    folder = os.path.basename(lab_dir)
    if root is None:
        root = os.path.dirname(os.path.dirname(lab_dir))
    root = os.path.abspath(str(root))
    shown = _rel(lab_toml, root)
    m = LAB_DIR_RE.match(folder)
    if not m:
        raise LabConfigError(f"{shown}: the lab folder {folder!r} must be named NN-name (e.g. 01-pfn)")
    data = _read_toml(lab_toml, shown)
    unknown = sorted(set(data) - {"lab", "checkpoint"})
    if unknown:
        raise LabConfigError(f"{shown}: unknown key {unknown[0]!r} (allowed: [lab], [[checkpoint]])")
    lab = data.get("lab")
    if lab is None:
        raise LabConfigError(f"{shown}: missing table [lab]")
    if not isinstance(lab, dict):
        raise LabConfigError(f"{shown}: key 'lab' must be a table ([lab])")
    unknown = sorted(set(lab) - _LAB_KEYS)
    if unknown:
        raise LabConfigError(f"{shown}: [lab]: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_LAB_KEYS))})")
    for key in ("number", "title", "files"):
        if key not in lab:
            raise LabConfigError(f"{shown}: [lab]: missing key {key!r}")
    number = lab["number"]
    if not _is_int(number):
        raise LabConfigError(f"{shown}: [lab]: key 'number' must be an integer, got {number!r}")
    if number != int(m.group(1)):
        raise LabConfigError(f"{shown}: [lab]: key 'number' is {number} but the folder {folder!r} "
                             f"says lab {int(m.group(1))}")
    title = lab["title"]
    if not isinstance(title, str) or not title.strip():
        raise LabConfigError(f"{shown}: [lab]: key 'title' must be a non-empty string, got {title!r}")
    files = lab["files"]
    if not isinstance(files, list) or not all(isinstance(f, str) and f for f in files):
        raise LabConfigError(f"{shown}: [lab]: key 'files' must be a list of file names, got {files!r}")
    for f in files:
        parts = f.replace("\\", "/").split("/")
        if f.startswith("/") or ".." in parts:
            raise LabConfigError(f"{shown}: [lab]: key 'files' entry {f!r} must be relative to the lab folder")

    specs = _checkpoint_list(data, shown, number, False, required=True)
    hidden_path = os.path.join(root, "solutions", folder, HIDDEN_FILE)
    if os.path.isfile(hidden_path):
        hshown = _rel(hidden_path, root)
        hdata = _read_toml(hidden_path, hshown)
        unknown = sorted(set(hdata) - {"checkpoint"})
        if unknown:
            raise LabConfigError(f"{hshown}: unknown key {unknown[0]!r} (only [[checkpoint]] tables belong here)")
        specs += _checkpoint_list(hdata, hshown, number, True, required=False,
                                  hidden_models=os.path.join(os.path.dirname(hidden_path), "models"))
    else:
        hidden_path = None

    seen: dict[str, str] = {}
    checkpoints = []
    for i, spec in enumerate(specs, 1):
        if spec["name"] in seen:
            raise LabConfigError(f"{spec['source']}: key 'name': checkpoint name {spec['name']!r} is used twice "
                                 f"in lab {number:02d} (first in {seen[spec['name']]})")
        seen[spec["name"]] = spec["source"]
        checkpoints.append(Checkpoint(index=i, **spec))
    return Lab(number=number, folder=folder, title=title.strip(), files=tuple(files), path=lab_toml,
               checkpoints=checkpoints, hidden_path=hidden_path)


def load_labs(root: str = ROOT) -> list[Lab]:
    """Load every labs/NN-name/lab.toml under root, sorted by lab number.

    Raises LabConfigError for the first malformed file, or two folders with one number.
    """
    base = os.path.join(root, "labs")
    labs: dict[int, Lab] = {}
    if not os.path.isdir(base):
        return []
    for folder in sorted(os.listdir(base)):
        path = os.path.join(base, folder, "lab.toml")
        if LAB_DIR_RE.match(folder) and os.path.isfile(path):
            lab = load_lab(path, root)
            if lab.number in labs:
                raise LabConfigError(f"{_rel(path, root)}: lab {lab.number:02d} is also "
                                     f"{_rel(labs[lab.number].path, root)}")
            labs[lab.number] = lab
    return [labs[n] for n in sorted(labs)]
