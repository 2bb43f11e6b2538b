"""Judge one checkpoint: from the serial transcript, QEMU's exit status and how the run
ended, decide the verdict (passed, failed check, unexpected STOP, timeout, ...) and write a
message saying what was expected, what was seen, and how to re-run that checkpoint alone.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
from dataclasses import dataclass

from grader import bugcodes, labconfig, symbolize
from grader import qemu as q
from grader.transcript import Transcript, parse

PASSED = "passed"
NOT_IMPLEMENTED = "not implemented"
FAILED_CHECK = "failed check"
UNEXPECTED_STOP = "unexpected STOP"
WRONG_STOP = "wrong STOP"
STOP_MISSING = "expected STOP missing"
TRIPLE_FAULT = "triple fault"
TIMEOUT = "timeout"
HANG = "hang"
SERIAL_FLOOD = "serial flood"
NO_BOOT = "no boot"
QEMU_ERROR = "QEMU error"
BUILD_ERROR = "build error"
TEST_MISSING = "test missing"
INCONSISTENT = "inconsistent output"
INTEGRITY = "integrity failure"
STATIC_CHECK = "static check"

KINDS = (PASSED, NOT_IMPLEMENTED, FAILED_CHECK, UNEXPECTED_STOP, WRONG_STOP, STOP_MISSING,
         TRIPLE_FAULT, TIMEOUT, SERIAL_FLOOD, NO_BOOT, QEMU_ERROR, BUILD_ERROR, TEST_MISSING,
         INCONSISTENT, HANG)
# Verdicts of the submission pipeline (output authentication, the static check).
PIPELINE_KINDS = (INTEGRITY, STATIC_CHECK)

TAIL = 15
CONTEXT = 5


@dataclass
class Verdict:
    kind: str
    passed: bool
    summary: str        # one line
    details: str        # multi-line: expected, seen, serial lines, re-run commands

    @property
    def text(self) -> str:
        return self.summary + "\n" + self.details


# ---------------------------------------------------------------- helpers

def _sol_arg(sol) -> str:
    s = (sol or "").strip()
    return "" if s.lower() in ("", "none") else f"SOL={s} "


def rerun_commands(checkpoint, sol, seed) -> list[str]:
    """The two commands that re-run a checkpoint alone and show its raw serial output."""
    s = _sol_arg(sol)
    return [f"re-run this checkpoint alone:  make grade {s}LAB={checkpoint.lab} "
            f"CHECKPOINT={checkpoint.name} SEED={seed}",
            f"watch its raw serial output:   make qemu {s}KTEST={','.join(checkpoint.ktests)} SEED={seed}"]


def _hex(v: int, width: int = 8) -> str:
    return f"0x{v:0{width}X}"


def _stop_str(code: int | None) -> str:
    return "STOP ?" if code is None else f"STOP {_hex(code)}"


def _numbered(t: Transcript, rows, marks=()) -> list[str]:
    marks = set(marks)
    return [f"  {'>' if i in marks else ' '}{i + 1:5d} | {line}" for i, line in rows]


def _around(t: Transcript, line_no: int, marks=(), before=CONTEXT, after=CONTEXT) -> list[str]:
    lo, hi = t.window(line_no, before, after)
    out = [f"serial lines {lo + 1}-{hi} (> marks the key lines):"]
    out += _numbered(t, [(i, t.lines[i]) for i in range(lo, hi)], marks or (line_no,))
    return out


def _tail(t: Transcript, n: int = TAIL) -> list[str]:
    if not t.lines:
        return ["serial output: (nothing at all)"]
    rows = t.tail(n)
    out = [f"last {len(rows)} serial lines:" if len(rows) < len(t.lines) else "serial output:"]
    out += _numbered(t, rows)
    if t.truncated:
        out.append("  (the last line ended without a newline)")
    return out


def _ended(exit_status, timed_out, flooded, timeout) -> str:
    if flooded:
        return f"run ended: killed after {q.MAX_SERIAL // (1024 * 1024)} MiB of serial output"
    if timed_out:
        return f"run ended: killed after the timeout ({timeout:g}s)" if timeout else "run ended: timed out"
    if exit_status is None:
        return "run ended: QEMU did not report an exit status"
    what = q.KNOWN_EXITS.get(exit_status)
    if exit_status < 0:
        what = f"killed by signal {-exit_status}"
    return f"run ended: QEMU exited with status {exit_status}" + (f" ({what})" if what else "")


def _progress(t: Transcript, test: str | None, last_ended: str | None = None) -> str:
    if test:
        return f"while ktest {test} was running"
    if last_ended:
        return f"after ktest {last_ended} ended, before the next began"
    if t.order:
        return f"after ktest {t.order[-1]}"
    return "before any ktest began (during boot)"


def _expected(cp) -> str:
    tests = ", ".join(cp.ktests)
    if cp.expect == "stop":
        params = getattr(cp, "stop_params", None)
        shown = (" with parameters " + " ".join(_param_shown(w) for w in params)) if params else ""
        return (f"expected: {_stop_str(cp.stop_code)}{shown} while one of its ktests ({tests}) is running "
                f"(matching any stop_params/backtrace the test announces)")
    return f"expected: every ktest ({tests}) ends PASS, KTEST DONE, and QEMU exits with status 33"


def _where(t: Transcript):
    """address -> 'Func+0x12 (file.c:34)' from the kernel ELF, or None (no ELF, or not code)."""
    sym = getattr(t, "symbolizer", None)
    if sym is None:
        return None

    def where(address: int) -> str | None:
        loc = sym.locate(address)
        return str(loc) if loc.function else None
    return where


def _decoded(t: Transcript) -> list[str]:
    st = t.stop
    lines = bugcodes.decode(st.code, st.params, where=_where(t))
    return [f"parameters of {st.name or _stop_str(st.code)}:"] + [f"  {l}" for l in lines] if lines else []


def _stop_block(t: Transcript) -> list[str]:
    st = t.stop
    out = [f"seen:     {st.line}", f"          {_progress(t, st.test, st.last_ended)}"]
    out += _decoded(t)
    out += _backtrace(t)
    for no in t.nested:
        out.append(f"nested fault: {t.lines[no]}")
    lo = max(0, st.line_no - 8)
    if lo < st.line_no:
        out.append("serial lines before the STOP:")
        out += _numbered(t, [(i, t.lines[i]) for i in range(lo, st.line_no)])
    return out


def _frame_line(t: Transcript, frame) -> str:
    """'BT 1 0x... MiFreePfn+0x1c (kernel/mm/pfn.c:123)': the kernel's frame with the source
    line from the ELF's DWARF (and the ELF's name where the kernel printed none or another)."""
    sym = getattr(t, "symbolizer", None)
    if sym is None or frame.address is None:
        return frame.line
    # Frame 0 of a trap is the faulting instruction itself (a STOP parameter); every other
    # frame is a return address, whose source line is that of the call.
    is_pc = frame.index == 0 and t.stop is not None and frame.address in t.stop.params
    loc = sym.locate(frame.address, return_address=not is_pc)
    if not loc.function:
        return frame.line
    mine = f"{loc.function}+0x{loc.offset:x}"
    src = f" ({loc.source})" if loc.source else " (no line information)"
    if frame.symbol == mine:
        return f"{frame.line}{src}"
    if frame.name == "?":
        return f"{frame.line} -> {mine}{src} [name from the ELF: RtlLookupSymbol found none]"
    return f"{frame.line}{src} [the ELF says {mine}]"


def _backtrace(t: Transcript) -> list[str]:
    if not t.bt_lines:
        return ["backtrace: none printed after the STOP line"]
    out = ["backtrace:"]
    frames = {f.line_no: f for f in t.frames}
    out += [f"  {_frame_line(t, frames[i]) if i in frames else t.lines[i]}" for i in t.bt_lines]
    if not t.bt_end and t.bt_unavailable is None:
        out.append("  (no BT END: the backtrace was cut short)")
    if t.bt_unavailable is not None and "not implemented" in t.bt_unavailable:
        out.append("  (the lab 00 stack walker is still the stub: `SOL=0` builds it from the released "
                   "reference, if your course released lab 00, to see the backtrace)")
    return out


def _make(kind, cp, sol, seed, short, lines, ended=None, passed=False) -> Verdict:
    summary = f"{cp.id}: {kind}: {short}" if not passed else f"{cp.id}: passed"
    summary = " ".join(summary.split())
    if len(summary) > 240:
        summary = summary[:237] + "..."
    body = list(lines)
    if ended:
        body.append(ended)
    if not passed:
        body += rerun_commands(cp, sol, seed)
    return Verdict(kind, passed, summary, f"verdict: {kind}\n" + "\n".join(body))


def _failing_checks_block(t: Transcript, tests) -> list[str]:
    out = []
    for name in tests:
        rec = t.test(name)
        fails = rec.failing_checks
        if rec.end == "FAIL" or fails:
            out.append(f"          ktest {name} ended {rec.end or '(no END)'} with "
                       f"{len(fails)} failing check{'s' if len(fails) != 1 else ''}:")
            out += [f"            {bugcodes.signed_note(c.line)}" for c in fails]
    return out


# ---------------------------------------------------------------- verdicts without a boot

def build_error_block(log: str, *, sol="none", message="", log_path="") -> list[str]:
    """The build failure in full (the compiler's first errors): shown once per grade."""
    from grader.build import error_excerpt
    excerpt = error_excerpt(log or "")
    lines = [f"expected: make {_sol_arg(sol)}iso builds the kernel ISO",
             f"seen:     {message or 'the build failed'}"]
    if excerpt:
        lines.append("first errors of the build log:" if any("error" in l.lower() for l in excerpt)
                     else "end of the build log:")
        lines += [f"  {l}" for l in excerpt]
    if log_path:
        lines.append(f"full log: {log_path}")
    return lines


def _first_error(log: str) -> str:
    from grader.build import error_excerpt
    return next((l.strip() for l in error_excerpt(log or "") if "error" in l.lower()), "")


def build_error_verdict(log: str, checkpoint, *, sol="none", seed=1, message="", log_path="",
                        brief: bool = False) -> Verdict:
    """Every checkpoint of a kernel that did not build. brief: the compiler's errors are shown
    once elsewhere (build_error_block), so this checkpoint only says it was not built."""
    short = _first_error(log) or message or "the kernel does not build"
    if brief:
        lines = ["not built: the kernel did not build, so this checkpoint was not run "
                 "(the compiler's errors are shown once, above the score table)",
                 f"first error: {short}"] + ([f"full log: {log_path}"] if log_path else [])
        return _make(BUILD_ERROR, checkpoint, sol, seed, "not built (the kernel did not build: the build "
                     "error is shown once, at the start)", lines)
    return _make(BUILD_ERROR, checkpoint, sol, seed, short,
                 build_error_block(log, sol=sol, message=message, log_path=log_path))


def qemu_error_verdict(message: str, checkpoint, *, sol="none", seed=1, command=None) -> Verdict:
    lines = ["expected: QEMU starts and boots the ISO", f"seen:     {message}"]
    if command:
        lines.append(f"command:  {q.format_command(command)}")
    return _make(QEMU_ERROR, checkpoint, sol, seed, message.splitlines()[0] if message else "QEMU failed", lines)


# ---------------------------------------------------------------- the judge

def judge(transcript, exit_status, timed_out, flooded, checkpoint, *, sol="none", seed=1,
          timeout: float | None = None, stderr: str = "", command=None, auth=None, elf: str | None = None) -> Verdict:
    """Decide the verdict of one checkpoint.

    transcript: serial output (bytes, str or a parsed Transcript); exit_status: QEMU's status;
    timed_out / flooded: how the runner stopped it; checkpoint: a labconfig.Checkpoint.
    auth: the boot's grader.auth.AuthKey, or None (no key given: tags are not judged); with a
    key, a verdict passes only if every record it relies on carries a valid tag. elf: the kernel
    built with -g, to print backtrace frames and code addresses with their source lines.
    """
    t = transcript if isinstance(transcript, Transcript) else parse(transcript)
    t.symbolizer = symbolize.for_elf(elf)
    verdict = _judge(t, exit_status, timed_out, flooded, checkpoint, sol=sol, seed=seed, timeout=timeout,
                     stderr=stderr, command=command)
    if auth is None or not verdict.passed:
        return verdict
    from grader import auth as a
    raw = transcript if isinstance(transcript, (bytes, bytearray, str)) else "\n".join(t.lines) + "\n"
    problems = a.verify(raw, t, checkpoint, auth)
    if not problems:
        return verdict
    cp = checkpoint
    lines = [_expected(cp) + ", each record carrying the kernel's authentication tag",
             "seen:     records the verdict relies on are not authentic:"]
    lines += [f"          {p}" for p in problems]
    lines.append("hint: only the framework's ktest runner and bugcheck code may print KTEST and STOP records")
    lines += _tail(t)
    return _make(INTEGRITY, cp, sol, seed, problems[0], lines,
                 _ended(exit_status, timed_out, flooded, timeout))


def static_check_verdict(problems: list[str], checkpoint, *, sol="none", seed=1) -> Verdict:
    """The submission was refused before building (grader/staticcheck.py)."""
    lines = ["expected: student files that use only the lab's interfaces",
             "seen:     the static check refused the submission:"] + [f"  {p}" for p in problems]
    return _make(STATIC_CHECK, checkpoint, sol, seed, problems[0] if problems else "refused", lines)


def _judge(t: Transcript, exit_status, timed_out, flooded, checkpoint, *, sol="none", seed=1,
           timeout: float | None = None, stderr: str = "", command=None) -> Verdict:
    cp = checkpoint
    ended = _ended(exit_status, timed_out, flooded, timeout)
    mk = lambda kind, short, lines, passed=False: _make(kind, cp, sol, seed, short, lines, ended, passed)  # noqa: E731

    if flooded:
        return mk(SERIAL_FLOOD, f"more than {q.MAX_SERIAL // (1024 * 1024)} MiB of serial output "
                  f"({_progress(t, t.in_progress)})",
                  ["expected: a bounded amount of serial output",
                   f"seen:     over {q.MAX_SERIAL} bytes, {_progress(t, t.in_progress)} "
                   f"(a print in a loop?)"] + _tail(t))

    if not timed_out and exit_status not in q.KNOWN_EXITS:
        err = (stderr or "").strip()
        lines = ["expected: QEMU runs the kernel until it exits through isa-debug-exit "
                 "(status 33, 35 or 37)",
                 f"seen:     QEMU itself failed with status {exit_status}"]
        if err:
            lines.append("QEMU's stderr:")
            lines += [f"  {l}" for l in err.splitlines()[-30:]]
        if command:
            lines.append(f"command:  {q.format_command(command)}")
        lines += _tail(t)
        first = err.splitlines()[0] if err else f"QEMU exited with status {exit_status}"
        return mk(QEMU_ERROR, first, lines)

    if t.boot is None:
        how = "timed out" if timed_out else f"QEMU exited with status {exit_status}"
        return mk(NO_BOOT, f"the kernel never printed NTLAB BOOT ({how}): GRUB or early boot failed",
                  ["expected: an 'NTLAB BOOT <version> <selection>' line from the kernel",
                   "seen:     no NTLAB BOOT line: GRUB did not load the kernel, or it crashed "
                   "before the serial port was set up"] + _tail(t))

    # A stubbed function reports itself: the friendliest message comes first.
    for name in list(cp.ktests) + [n for n in t.tests if n not in cp.ktests]:
        for c in t.test(name).failing_checks:
            if c.name == "implemented":
                lines = [f"expected: ktest {name} runs your implementation",
                         f"seen:     {c.line}"]
                lines += _around(t, c.line_no, (c.line_no,))
                if t.stop:
                    lines.append("afterwards:")
                    lines += _stop_block(t)
                return mk(NOT_IMPLEMENTED, c.detail or f"{name} is still the stub", lines)

    failing = [n for n in cp.ktests if t.test(n).end == "FAIL" or t.test(n).failing_checks]

    if t.hang is not None and t.stop is None:
        return _hang(t, cp, mk, failing)

    if cp.expect == "stop":
        return _judge_stop(t, cp, mk, exit_status, timed_out, timeout, failing, seed)

    if t.stop is not None:
        st = t.stop
        lines = [_expected(cp)] + _stop_block(t)
        if failing:
            lines.append("before the STOP, these checks failed:")
            lines += _failing_checks_block(t, failing)
        short = f"{_stop_str(st.code)} ({st.name or '?'}) {_progress(t, st.test, st.last_ended)}"
        return mk(UNEXPECTED_STOP, short, lines)

    if failing:
        return _failed_check(t, cp, mk, failing)

    if timed_out:
        return _timeout(t, cp, mk, timeout)

    if exit_status == q.EXIT_RESET and t.done is None:
        return _triple_fault(t, cp, mk)

    missing = [n for n in cp.ktests if not t.test(n).began]
    if missing:
        return _missing(t, cp, mk, missing)

    skipped = [n for n in cp.ktests if t.test(n).end == "SKIP"]
    if skipped:
        rec = t.test(skipped[0])
        lines = [_expected(cp), f"seen:     ktest {skipped[0]} was skipped (END SKIP)"]
        lines += _around(t, rec.end_line, (rec.end_line,), before=8, after=2)
        return mk(FAILED_CHECK, f"ktest {', '.join(skipped)} skipped", lines)

    problems = []
    for n in cp.ktests:
        if t.test(n).end != "PASS":
            problems.append(f"ktest {n} began but never printed KTEST END")
    if t.nested:
        problems.append(f"a nested bugcheck was reported: {t.lines[t.nested[0]]}")
    if t.done is None:
        problems.append("no KTEST DONE line")
    elif t.done[1] != 0:
        problems.append(f"KTEST DONE reports failed={t.done[1]} though every ktest ended PASS")
    if exit_status != q.EXIT_ALL_PASSED:
        problems.append(f"QEMU exit status {exit_status} "
                        f"({q.KNOWN_EXITS.get(exit_status, 'unknown')}) instead of 33 (all passed)")
    if not problems:
        passed = [f"  {t.lines[t.test(n).end_line]}" for n in cp.ktests]
        return _model_verdict(t, cp, mk, seed) or mk(PASSED, "", [_expected(cp), "seen:"] + passed, passed=True)
    return _inconsistent(t, cp, mk, problems)


def _judge_stop(t, cp, mk, exit_status, timed_out, timeout, failing, seed=1) -> Verdict:
    want = _stop_str(cp.stop_code)
    st = t.stop
    if st is not None:
        in_ours = st.test in cp.ktests
        mismatch = []
        if st.code != cp.stop_code:
            mismatch.append(f"bugcheck code: expected {want}, seen {_stop_str(st.code)} ({st.name or '?'})")
        if not in_ours:
            mismatch.append(f"when: expected while one of {', '.join(cp.ktests)} is running, seen "
                            f"{_progress(t, st.test, st.last_ended)}")
        rec = t.test(st.test) if st.test else None
        bt_missing: list[str] = []
        if in_ours and not mismatch:
            mismatch += _host_param_mismatch(cp, st, t, seed)
            mismatch += _param_mismatch(t, rec, st)
            bt_missing = _backtrace_mismatch(t, rec)
            mismatch += bt_missing
        earlier_fail = [n for n in failing if n != st.test]
        if not mismatch and earlier_fail:
            return _failed_check(t, cp, mk, earlier_fail)
        if not mismatch:
            lines = [_expected(cp), f"seen:     {st.line}", f"          {_progress(t, st.test)}"]
            return _model_verdict(t, cp, mk, seed) or mk(PASSED, "", lines, passed=True)
        lines = [_expected(cp)] + [f"mismatch: {m}" for m in mismatch] + _stop_block(t)
        # The right STOP (code and parameters) whose backtrace cannot be checked because the
        # stack walker is still the stub; a mismatch on the STOP itself is judged first.
        if (in_ours and mismatch == bt_missing and t.bt_unavailable is not None
                and "not implemented" in t.bt_unavailable):
            lines.append("the STOP code and parameters are right; only the backtrace is missing: finish lab 00's "
                         "RtlpWalkFrameChain, or grade with SOL=0 if your course released lab 00")
            return mk(NOT_IMPLEMENTED, t.bt_unavailable.replace("BT UNAVAILABLE ", "", 1), lines)
        return mk(WRONG_STOP, mismatch[0], lines)

    if timed_out:
        return _timeout(t, cp, mk, timeout)
    ended = [n for n in cp.ktests if t.test(n).end is not None]
    if ended:
        lines = [_expected(cp), "seen:     no STOP; instead:"]
        for n in ended:
            rec = t.test(n)
            lines.append(f"          ktest {n} ended {rec.end}")
            lines += [f"            {c.line}" for c in rec.failing_checks]
        first = t.test(ended[0])
        lines += _around(t, first.end_line, (first.end_line,), before=8, after=3)
        return mk(STOP_MISSING, f"no {want}: ktest {ended[0]} ended {t.test(ended[0]).end} instead", lines)
    if exit_status == q.EXIT_RESET and t.done is None:
        return _triple_fault(t, cp, mk)
    missing = [n for n in cp.ktests if not t.test(n).began]
    if missing:
        return _missing(t, cp, mk, missing)
    return _inconsistent(t, cp, mk, [f"no STOP line and no KTEST END for {', '.join(cp.ktests)}"])


def _signed(v: int) -> str:
    """0xFFFFFFFFFFFFFFF0 (-16): the hex of a 64-bit parameter, with its signed value when negative."""
    return _hex(v, 16) + (f" ({v - (1 << 64)})" if v >= 1 << 63 else "")


def _param_shown(w) -> str:
    """An expected parameter: its hex, "*", "=key" (announced by the test) or "seed" (the model's)."""
    if w is None:
        return "*"
    return str(w) if isinstance(w, labconfig.StopParamRef) else _hex(w, 16)


def _host_param_mismatch(cp, st, t=None, seed=1) -> list[str]:
    """The STOP parameters the lab.toml (or hidden checkpoints.toml) states, judged on the host: a
    number; "=key", the one KTEST VALUE <test> key record of the stopping test (a run-time address
    the test knows); "seed", what the checkpoint's model computes from the seed."""
    want = getattr(cp, "stop_params", None)
    if not want:
        return []
    if len(st.params) < len(want):
        shown = " ".join(_param_shown(w) for w in want)
        return [f"stop_params (checkpoint {cp.name} in lab.toml): expected {shown}, "
                f"the STOP line has only {len(st.params)} parameters"]
    out: list[str] = []
    from_model = None
    for i, (w, s) in enumerate(zip(want, st.params), 1):
        if w is None:
            continue
        where = f"stop_params of checkpoint {cp.name}"
        if isinstance(w, labconfig.StopParamRef) and w.kind == "value":
            texts = [v for test, key, v, _ in (t.value_records if t is not None else [])
                     if test == st.test and key == w.key]
            if len(texts) != 1:
                out.append(f"parameter {i}: expected the value test {st.test} announces as KTEST VALUE "
                           f"{st.test} {w.key} ({where}: \"={w.key}\"), but it printed {len(texts)} such "
                           f"records before the STOP; seen {_signed(s)}")
                continue
            try:
                w_value = int(texts[0].split()[0], 0) if texts[0].split() else None
            except ValueError:
                w_value = None
            if w_value is None or not 0 <= w_value < 1 << 64:
                out.append(f"parameter {i}: cannot read the announced KTEST VALUE {st.test} {w.key} {texts[0]!r} "
                           f"as a 64-bit number ({where})")
                continue
            where = f"announced as KTEST VALUE {st.test} {w.key}; {where}"
        elif isinstance(w, labconfig.StopParamRef):
            if from_model is None:
                try:
                    fn = getattr(_load_model(cp.model, getattr(cp, "model_path", None)), "stop_params")
                    from_model = list(fn(cp.name, seed))
                except Exception as e:   # a model that cannot say is a failure, never a pass
                    from_model = [f"{type(e).__name__}: {e}"] * 4
            w_value = from_model[i - 1] if i - 1 < len(from_model) else None
            if not isinstance(w_value, int):
                out.append(f"parameter {i}: the model {cp.model} gives no value for it from seed {seed} "
                           f"({w_value!r}; {where}: \"seed\"); seen {_signed(s)}")
                continue
            where = f"computed from seed {seed} by the model {cp.model}; {where}"
        else:
            w_value = w
        if w_value != s:
            out.append(f"parameter {i}: expected {_signed(w_value)} ({where}), seen {_signed(s)}")
    return out


_MODELS: dict[str, object] = {}
_MODELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")


def _load_model(name: str, path: str | None = None):
    """grader/models/<name>.py, or the file the checkpoint names (a hidden lab's own model)."""
    if not path or os.path.dirname(os.path.abspath(path)) == os.path.abspath(_MODELS_DIR):
        return importlib.import_module(f"grader.models.{name}")
    module = _MODELS.get(path)
    if module is None:
        spec = importlib.util.spec_from_file_location(f"grader.models._hidden_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _MODELS[path] = module
    return module


def _model_verdict(t, cp, mk, seed) -> Verdict | None:
    """A checkpoint with a model passes only when grader/models/<model>.py agrees with the run's
    KTEST VALUE records; None when it agrees (or there is no model), else a failed-check verdict."""
    name = getattr(cp, "model", None)
    if not name:
        return None
    values = [(test, key, value) for test, key, value, _ in t.value_records]
    try:
        problems = list(_load_model(name, getattr(cp, "model_path", None)).judge(cp.name, seed, values))
    except Exception as e:       # a model that cannot read the records is a failure, never a pass
        problems = [f"the model could not judge the KTEST VALUE records: {type(e).__name__}: {e}"]
    if not problems:
        return None
    path = getattr(cp, "model_path", None)
    shown = f"grader/models/{name}.py"
    if path and os.path.dirname(os.path.abspath(path)) != os.path.abspath(_MODELS_DIR):
        shown = f"the hidden model {name}.py"      # instructor-only: its path is not shown
    lines = [_expected(cp) + f", and the values it reports agree with {shown} "
             f"(computed from seed {seed})",
             f"seen:     {shown} disagrees with the kernel's KTEST VALUE records:"]
    lines += [f"          {p}" for p in problems[:20]]
    if len(problems) > 20:
        lines.append(f"          ... and {len(problems) - 20} more")
    if t.value_records:
        first = t.value_records[0][3]
        lines += _around(t, first, [r[3] for r in t.value_records], before=2, after=8)
    return mk(FAILED_CHECK, f"model {name}: {problems[0]}", lines)


def _param_mismatch(t, rec, st) -> list[str]:
    if rec is None or "stop_params" not in rec.values:
        return []
    text = rec.values["stop_params"]
    try:
        # "*" stands for a parameter the test cannot know in advance (e.g. a RIP).
        want = [None if x == "*" else int(x, 0) for x in text.split()]
    except ValueError:
        return [f"stop_params: cannot read the announced value {text!r}"]
    if len(st.params) < len(want):
        shown = " ".join("*" if w is None else _hex(w, 16) for w in want)
        return [f"stop_params: expected {shown}, the STOP line has only {len(st.params)} parameters"]
    out = []
    for i, (w, s) in enumerate(zip(want, st.params), 1):
        if w is not None and w != s:
            names = [bugcodes.subcode_name(st.code, x) if i == 1 else None for x in (w, s)]
            wn, sn = (f" ({n})" if n else "" for n in names)
            out.append(f"parameter {i}: expected {_hex(w, 16)}{wn} (announced by KTEST VALUE {rec.name} "
                       f"stop_params), seen {_hex(s, 16)}{sn}")
    return out


def _backtrace_mismatch(t, rec) -> list[str]:
    if rec is None or "backtrace" not in rec.values:
        return []
    want = [n.strip() for n in rec.values["backtrace"].split(",") if n.strip()]
    if not want:
        return []
    if t.bt_unavailable is not None:
        return [f"backtrace: expected consecutive frames {' -> '.join(want)}, seen BT UNAVAILABLE "
                f"{t.bt_unavailable}"]
    names = [f.name for f in t.frames]
    for i in range(len(names) - len(want) + 1):
        if names[i:i + len(want)] == want:
            return []
    seen = ", ".join(names) if names else "no BT frames"
    return [f"backtrace: expected consecutive frames {' -> '.join(want)}, seen {seen}"]


def _failed_check(t, cp, mk, failing) -> Verdict:
    lines = [_expected(cp), "seen:"] + _failing_checks_block(t, failing)
    first = None
    for n in failing:
        fails = t.test(n).failing_checks
        if fails:
            first = fails[0]
            break
    if first is not None:
        marks = [c.line_no for n in failing for c in t.test(n).failing_checks]
        lines += _around(t, first.line_no, marks)
        short = bugcodes.signed_note(f"{first.test} {first.name}: {first.detail}")
    else:
        rec = t.test(failing[0])
        lines.append(f"          (ktest {failing[0]} ended FAIL without a failing CHECK line)")
        if rec.end_line is not None:
            lines += _around(t, rec.end_line, (rec.end_line,), before=8, after=2)
        short = f"ktest {failing[0]} ended FAIL"
    return mk(FAILED_CHECK, short, lines)


def _timeout(t, cp, mk, timeout) -> Verdict:
    scale = os.environ.get("NTLAB_TIMEOUT_SCALE", "1")
    try:
        bigger = max(2, int(float(scale) * 2 + 0.5))
    except ValueError:
        bigger = 2
    where = _progress(t, t.in_progress)
    tt = f"{timeout:g}s" if timeout else "the timeout"
    lines = [_expected(cp),
             f"seen:     no result within {tt} (lab.toml timeout {cp.timeout:g}s x NTLAB_TIMEOUT_SCALE={scale}); "
             f"the output stopped {where}"] + _tail(t)
    lines.append(f"hint: a deadlock or an endless loop? If your machine is just slow, "
                 f"re-run with NTLAB_TIMEOUT_SCALE={bigger}")
    return mk(TIMEOUT, f"no result within {tt}, {where}", lines)


HANG_LINES = 120


def _hang(t, cp, mk, failing) -> Verdict:
    """The kernel's watchdog ended the run: a test ran past its budget (a deadlock, a lost
    wake-up, an endless loop with interrupts on)."""
    h = t.hang
    lines = [_expected(cp),
             f"seen:     {h.line}",
             f"          the kernel's watchdog found ktest {h.test} past its budget: every thread's state, "
             f"what it waits on and its backtrace follow"]
    shown = h.lines[:HANG_LINES]
    lines += [f"  {t.lines[i]}" for i in shown]
    if len(h.lines) > HANG_LINES:
        lines.append(f"  ... {len(h.lines) - HANG_LINES} more HANG lines in the raw output")
    if not h.complete:
        lines.append("  (no HANG END: the report was cut short)")
    waiting = sum(1 for l in h.threads if "state=Waiting" in l)
    if failing:
        lines.append("before the hang, these checks failed:")
        lines += _failing_checks_block(t, failing)
    lines.append("hint: threads that all wait (state=Waiting) on each other are a deadlock; a thread that "
                 "never waits may be spinning or lost a wake-up")
    return mk(HANG, f"ktest {h.test} hung: the watchdog ended the run ({len(h.threads)} threads, "
              f"{waiting} waiting)", lines)


def _triple_fault(t, cp, mk) -> Verdict:
    where = _progress(t, t.in_progress)
    lines = [_expected(cp),
             f"seen:     the guest reset (a triple fault: -no-reboot turns the reset into an exit) {where}, "
             f"with no STOP line and no KTEST DONE"] + _tail(t)
    return mk(TRIPLE_FAULT, f"the machine reset {where}", lines)


def _missing(t, cp, mk, missing) -> Verdict:
    lines = [_expected(cp), f"seen:     the kernel booted but never began ktest {', '.join(missing)}"]
    for no in t.unknown_test_lines:
        lines.append(f"kernel said: {t.lines[no]}")
        if no + 1 < len(t.lines) and "available" in t.lines[no + 1]:
            lines.append(f"             {t.lines[no + 1]}")
    if not t.unknown_test_lines:
        lines += _tail(t)
    return mk(TEST_MISSING, f"ktest {', '.join(missing)} never began "
              f"(is it built into this kernel?)", lines)


def _inconsistent(t, cp, mk, problems) -> Verdict:
    lines = [_expected(cp), "seen:"] + [f"          {p}" for p in problems] + _tail(t)
    return mk(INCONSISTENT, problems[0], lines)
