"""Parse the kernel's serial output (NTLAB BOOT / KTEST / *** STOP / BT records) into a Transcript.

The parser never raises on bad input: garbage bytes, a truncated last line,
unknown or malformed records and records for tests that never began are all
tolerated; what could not be read is kept in Transcript.malformed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_ANSI_RE = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|[@-Z\\-_])")
_CTRL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_BOOT_RE = re.compile(r"NTLAB BOOT(?: (\S+))?(?: (\S+))?")
_STOP_RE = re.compile(r"^\*\*\* STOP 0x([0-9A-Fa-f]+)\s*(?:\(([^)]*)\)?)?(.*)$")
_HEX_RE = re.compile(r"0x[0-9A-Fa-f]+")
_BT_RE = re.compile(r"^BT (\d+) (\S+)(?: (\S+))?")
_TAG_RE = re.compile(r"^(KTEST (?:END|DONE) .*) [0-9a-f]{64}$")

OK_WORDS = ("ok", "OK", "PASS", "pass")
FAIL_WORDS = ("FAIL", "fail")
END_WORDS = ("PASS", "FAIL", "SKIP")


@dataclass
class Check:
    test: str
    name: str
    ok: bool
    detail: str
    line_no: int
    line: str


@dataclass
class TestRecord:
    """Everything the serial said about one ktest."""
    name: str
    began: bool = False
    begin_line: int | None = None
    checks: list[Check] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)
    value_lines: dict[str, int] = field(default_factory=dict)
    end: str | None = None          # PASS / FAIL / SKIP
    end_line: int | None = None

    @property
    def failing_checks(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


@dataclass
class Frame:
    index: int
    address: int | None
    symbol: str                    # as printed, e.g. KeBugCheckEx+0x4a or ?
    name: str                      # the part before +0x, or "?"
    line_no: int
    line: str


@dataclass
class Stop:
    code: int
    name: str
    params: list[int]
    line_no: int
    line: str
    test: str | None               # the ktest in progress (BEGIN without END), if any
    last_ended: str | None         # the last ktest that had ended before the STOP


@dataclass
class Hang:
    """The watchdog's report: KTEST HANG <test> ..., then HANG THREAD / HANG BT lines, HANG END."""
    test: str
    line_no: int
    line: str
    lines: list[int] = field(default_factory=list)     # the HANG THREAD/BT/END lines
    threads: list[str] = field(default_factory=list)   # each HANG THREAD line
    complete: bool = False                             # HANG END seen


@dataclass
class Transcript:
    lines: list[str] = field(default_factory=list)
    boot: tuple[str, str] | None = None
    boot_line: int | None = None
    tests: dict[str, TestRecord] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)      # tests in order of BEGIN
    done: tuple[int, int] | None = None                 # (passed, failed)
    hang: Hang | None = None                            # the watchdog's report, if any
    done_line: int | None = None
    stop: Stop | None = None
    later_stops: list[int] = field(default_factory=list)  # line numbers of further STOP lines
    frames: list[Frame] = field(default_factory=list)
    bt_unavailable: str | None = None
    bt_lines: list[int] = field(default_factory=list)   # line numbers of BT records after the STOP
    bt_end: bool = False
    nested: list[int] = field(default_factory=list)     # "*** STOP during bugcheck" lines
    unknown_test_lines: list[int] = field(default_factory=list)
    value_records: list[tuple[str, str, str, int]] = field(default_factory=list)  # (test, key, value, line)
    malformed: list[int] = field(default_factory=list)
    truncated: bool = False
    in_progress: str | None = None                      # test begun and not ended when the output stopped

    def test(self, name: str) -> TestRecord:
        """The record of a test (an empty one if the serial never mentioned it)."""
        return self.tests.get(name) or TestRecord(name)

    def window(self, line_no: int, before: int = 5, after: int = 5) -> tuple[int, int]:
        return max(0, line_no - before), min(len(self.lines), line_no + after + 1)

    def tail(self, n: int = 15) -> list[tuple[int, str]]:
        start = max(0, len(self.lines) - n)
        return list(enumerate(self.lines))[start:]


def clean_line(line: str) -> str:
    """Drop terminal escape sequences, control characters and surrounding blanks."""
    return _CTRL_RE.sub("", _ANSI_RE.sub("", line)).strip()


def _record(t: Transcript, name: str) -> TestRecord:
    rec = t.tests.get(name)
    if rec is None:
        rec = t.tests[name] = TestRecord(name)
    return rec


def parse(data: bytes | str) -> Transcript:
    """Parse serial output (bytes are decoded as UTF-8 with replacement)."""
    if isinstance(data, (bytes, bytearray)):
        text = bytes(data).decode("utf-8", errors="replace")
    else:
        text = data or ""
    t = Transcript()
    raw_lines = text.split("\n")
    if raw_lines and raw_lines[-1] == "":
        raw_lines.pop()
    elif text:
        t.truncated = True
    # Authentication tags (grader/auth.py reads them from the raw output) are dropped here, so
    # that messages show the records as the student knows them.
    t.lines = [_TAG_RE.sub(r"\1", clean_line(r)) for r in raw_lines]
    current: str | None = None
    last_ended: str | None = None
    for no, line in enumerate(t.lines):
        try:
            current, last_ended = _parse_line(t, no, line, current, last_ended)
        except (ValueError, IndexError):
            t.malformed.append(no)
    t.in_progress = current
    return t


def _parse_line(t: Transcript, no: int, line: str, current, last_ended):
    if line.startswith("KTEST "):
        parts = line.split(None, 2)
        kind = parts[1] if len(parts) > 1 else ""
        rest = parts[2] if len(parts) > 2 else ""
        if kind == "BEGIN":
            name = rest.split()[0]
            rec = _record(t, name)
            if not rec.began:
                rec.began, rec.begin_line = True, no
                t.order.append(name)
            current = name
        elif kind == "CHECK":
            f = rest.split(None, 3)
            if len(f) < 3 or f[2] not in OK_WORDS + FAIL_WORDS:
                t.malformed.append(no)
            else:
                ok = f[2] in OK_WORDS
                _record(t, f[0]).checks.append(
                    Check(f[0], f[1], ok, f[3] if len(f) > 3 else "", no, line))
        elif kind == "VALUE":
            f = rest.split(None, 2)
            if len(f) < 2:
                t.malformed.append(no)
            else:
                rec = _record(t, f[0])
                rec.values[f[1]] = f[2] if len(f) > 2 else ""
                t.value_records.append((f[0], f[1], rec.values[f[1]], no))
                rec.value_lines[f[1]] = no
        elif kind == "END":
            f = rest.split()
            if len(f) < 2 or f[1] not in END_WORDS:
                t.malformed.append(no)
            else:
                rec = _record(t, f[0])
                if rec.end is None:
                    rec.end, rec.end_line = f[1], no
                if current == f[0]:
                    current = None
                last_ended = f[0]
        elif kind == "HANG":
            f = rest.split()
            if not f:
                t.malformed.append(no)
            elif t.hang is None:
                t.hang = Hang(f[0], no, line)
        elif kind == "DONE":
            nums = dict(p.split("=", 1) for p in rest.split() if "=" in p)
            done = (int(nums["passed"]), int(nums["failed"]))
            if t.done is None:
                t.done, t.done_line = done, no
        elif "unknown test" in line:
            t.unknown_test_lines.append(no)
        return current, last_ended
    if line.startswith("HANG "):
        if t.hang is not None and not t.hang.complete:
            t.hang.lines.append(no)
            if line.startswith("HANG THREAD "):
                t.hang.threads.append(line)
            elif line == "HANG END":
                t.hang.complete = True
        return current, last_ended
    if line.startswith("*** STOP during bugcheck"):
        t.nested.append(no)
        return current, last_ended
    if line.startswith("*** STOP"):
        m = _STOP_RE.match(line)
        if not m:
            t.malformed.append(no)
        elif t.stop is None:
            params = [int(x, 16) for x in _HEX_RE.findall(m.group(3) or "")][:4]
            t.stop = Stop(int(m.group(1), 16), (m.group(2) or "").strip(), params, no, line,
                          current, last_ended)
        else:
            t.later_stops.append(no)
        return current, last_ended
    if line.startswith("BT "):
        if t.stop is None or t.bt_end or t.later_stops:
            return current, last_ended      # not part of the first STOP's backtrace
        if line == "BT END":
            t.bt_end = True
            t.bt_lines.append(no)
        elif line.startswith("BT UNAVAILABLE"):
            t.bt_unavailable = line[len("BT UNAVAILABLE"):].strip() or "(no reason given)"
            t.bt_lines.append(no)
        else:
            m = _BT_RE.match(line)
            if not m:
                t.malformed.append(no)
                return current, last_ended
            try:
                addr = int(m.group(2), 16) if m.group(2).lower().startswith("0x") else None
            except ValueError:
                addr = None
            symbol = m.group(3) or "?"
            name = symbol.split("+0x")[0]
            if not name or name.lower().startswith("0x"):
                name = "?"
            t.frames.append(Frame(int(m.group(1)), addr, symbol, name, no, line))
            t.bt_lines.append(no)
        return current, last_ended
    if "NTLAB BOOT" in line and t.boot is None:
        m = _BOOT_RE.search(line)
        t.boot = (m.group(1) or "", m.group(2) or "")
        t.boot_line = no
    return current, last_ended
