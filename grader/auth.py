"""Output authentication: the grader draws a fresh key and nonce for every boot, hands them to
the kernel through fw_cfg (opt/ntlab/auth), and checks the HMAC-SHA256 tags that the kernel's
ktest runner and bugcheck code append to the records a verdict relies on. A record that
student code printed (a forged "KTEST END t PASS", "KTEST DONE", "*** STOP ...") carries no
valid tag, so it cannot earn points.

The messages (see kernel/ktest/runner.c; every line is the exact serial line, without its
newline and without the tag, followed by "\\n"):
  END  tag: nonce || "KTEST BEGIN t" || each KTEST CHECK/VALUE line of t || "KTEST END t V"
  STOP tag: nonce || [the running test's BEGIN and CHECK/VALUE lines] || the *** STOP line
            || each BT line || "STOP AUTH"
  DONE tag: nonce || "RUN" || the tag (hex) of every KTEST END line before it || "KTEST DONE ..."
sign_transcript() produces the same tags in Python (for the grader's own tests).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

FW_CFG_NAME = "opt/ntlab/auth"
_TAG_RE = re.compile(rb"^(.*) ([0-9a-f]{64})$")
_STOP_AUTH_RE = re.compile(rb"^STOP AUTH ([0-9a-f]{64})$")


@dataclass(frozen=True)
class AuthKey:
    """The secret of one boot: a 32-byte HMAC key and a 16-byte nonce."""
    key: bytes
    nonce: bytes

    @classmethod
    def new(cls) -> "AuthKey":
        return cls(secrets.token_bytes(32), secrets.token_bytes(16))

    def fw_cfg_value(self) -> str:
        """'<64 hex>:<32 hex>', the string QEMU passes as opt/ntlab/auth."""
        return f"{self.key.hex()}:{self.nonce.hex()}"

    def mac(self, lines) -> str:
        """HMAC(key, nonce || line1 "\\n" || line2 "\\n" ...) in hex; lines are bytes or str."""
        h = hmac.new(self.key, self.nonce, hashlib.sha256)
        for line in lines:
            h.update(line.encode() if isinstance(line, str) else line)
            h.update(b"\n")
        return h.hexdigest()


def raw_lines(data) -> list[bytes]:
    """The serial output split into lines exactly as the kernel wrote them (a trailing CR dropped)."""
    if isinstance(data, str):
        data = data.encode("utf-8", errors="replace")
    lines = bytes(data or b"").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [ln[:-1] if ln.endswith(b"\r") else ln for ln in lines]


def _split_tag(line: bytes) -> tuple[bytes, str | None]:
    m = _TAG_RE.match(line)
    return (m.group(1), m.group(2).decode()) if m else (line, None)


def _test_lines(lines: list[bytes], test: str, upto: int) -> list[bytes]:
    """The BEGIN line of test and every CHECK/VALUE line naming it in lines[0:upto]."""
    name = test.encode()
    prefixes = (b"KTEST CHECK " + name + b" ", b"KTEST VALUE " + name + b" ")
    return [b"KTEST BEGIN " + name] + [ln for ln in lines[:upto] if ln.startswith(prefixes)]


def _suspects(lines: list[bytes], test: str | None, lo: int, hi: int, upto: int) -> str:
    """Lines naming test (CHECK/VALUE) in lines[0:upto] outside [lo, hi): printed where the
    framework never prints them, so the likely forgery; as a message suffix."""
    if not test:
        return ""
    name = test.encode()
    prefixes = (b"KTEST CHECK " + name + b" ", b"KTEST VALUE " + name + b" ")
    bad = [(no, ln) for no, ln in enumerate(lines[:upto]) if ln.startswith(prefixes) and not lo <= no < hi]
    if not bad:
        return ""
    no, ln = bad[0]
    more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
    return f"; line {no + 1} '{ln.decode('utf-8', 'replace')}'{more} was not printed by the test"


def _begin_line(lines: list[bytes], test: str, upto: int) -> int:
    want = b"KTEST BEGIN " + test.encode()
    for no, ln in enumerate(lines[:upto]):
        if ln == want:
            return no
    return upto


def check_end(auth: AuthKey, lines: list[bytes], test: str, end_line: int) -> str | None:
    """None if the KTEST END record of test on line end_line (0-based) is authentic, else why not."""
    if end_line is None or end_line >= len(lines):
        return f"KTEST END {test}: no such record"
    body, tag = _split_tag(lines[end_line])
    shown = body.decode("utf-8", "replace")
    if tag is None:
        return f"line {end_line + 1} '{shown}': no authentication tag"
    want = auth.mac(_test_lines(lines, test, end_line) + [body])
    if not hmac.compare_digest(want, tag):
        return (f"line {end_line + 1} '{shown}': bad authentication tag (forged, or the test's "
                f"CHECK/VALUE lines were not all printed by the framework)"
                + _suspects(lines, test, _begin_line(lines, test, end_line), end_line, end_line))
    return None


def check_done(auth: AuthKey, lines: list[bytes], done_line: int) -> str | None:
    """None if the KTEST DONE record on line done_line is authentic, else why not."""
    if done_line is None or done_line >= len(lines):
        return "KTEST DONE: no such record"
    body, tag = _split_tag(lines[done_line])
    shown = body.decode("utf-8", "replace")
    if tag is None:
        return f"line {done_line + 1} '{shown}': no authentication tag"
    parts: list[bytes] = [b"RUN"]
    for no, ln in enumerate(lines[:done_line]):
        if ln.startswith(b"KTEST END "):
            _b, t = _split_tag(ln)
            if t is None:
                return (f"line {done_line + 1} '{shown}': line {no + 1} '{ln.decode('utf-8', 'replace')}' "
                        f"is a KTEST END record without a tag")
            parts.append(t.encode())
    parts.append(body)
    if not hmac.compare_digest(auth.mac(parts), tag):
        return f"line {done_line + 1} '{shown}': bad authentication tag"
    return None


def check_stop(auth: AuthKey, lines: list[bytes], stop_line: int, test: str | None) -> str | None:
    """None if the STOP record on line stop_line (with test in progress, or None) and its
    backtrace are authentic, else why not."""
    if stop_line is None or stop_line >= len(lines):
        return "*** STOP: no such record"
    shown = lines[stop_line].decode("utf-8", "replace")
    auth_line = None
    for no in range(stop_line + 1, len(lines)):
        m = _STOP_AUTH_RE.match(lines[no])
        if m:
            auth_line = no
            break
    if auth_line is None:
        return f"line {stop_line + 1} '{shown}': no STOP AUTH line after it"
    parts = _test_lines(lines, test, auth_line) if test else []
    parts.append(lines[stop_line])
    parts += [ln for ln in lines[stop_line + 1:auth_line] if ln.startswith(b"BT ")]
    parts.append(b"STOP AUTH")
    tag = _STOP_AUTH_RE.match(lines[auth_line]).group(1).decode()
    if not hmac.compare_digest(auth.mac(parts), tag):
        lo = _begin_line(lines, test, stop_line) if test else stop_line
        return (f"line {stop_line + 1} '{shown}': bad STOP AUTH tag on line {auth_line + 1} (forged STOP, "
                f"backtrace or test lines)" + _suspects(lines, test, lo, stop_line, auth_line))
    return None


def verify(data, transcript, checkpoint, auth: AuthKey) -> list[str]:
    """Check every record a passing verdict of checkpoint relies on; return the problems
    (empty: all authentic). data is the raw serial output, transcript its parsed Transcript."""
    lines = raw_lines(data)
    t = transcript
    problems: list[str] = []
    if checkpoint.expect == "stop":
        st = t.stop
        if st is None:
            return ["no STOP record"]
        p = check_stop(auth, lines, st.line_no, st.test)
        if p:
            problems.append(p)
        return problems
    for name in checkpoint.ktests:
        rec = t.test(name)
        p = check_end(auth, lines, name, rec.end_line)
        if p:
            problems.append(p)
    p = check_done(auth, lines, t.done_line)
    if p:
        problems.append(p)
    return problems


# ---------------------------------------------------------------- signing (for tests)

def sign_transcript(text: str, auth: AuthKey) -> str:
    """Add the tags the kernel would print to an untagged transcript (KTEST END, KTEST DONE,
    and a STOP AUTH line after each STOP record's backtrace). For the grader's tests."""
    lines = raw_lines(text)
    out: list[bytes] = []
    current: str | None = None
    test_lines: list[bytes] = []
    end_tags: list[bytes] = []
    stop_parts: list[bytes] | None = None

    def finish_stop():
        nonlocal stop_parts
        if stop_parts is not None:
            out.append(b"STOP AUTH " + auth.mac(stop_parts + [b"STOP AUTH"]).encode())
            stop_parts = None

    for ln in lines:
        if stop_parts is not None and not ln.startswith(b"BT "):
            finish_stop()
        if ln.startswith(b"KTEST BEGIN "):
            current = ln.split()[2].decode()
            test_lines = [ln]
        elif current and ln.startswith((b"KTEST CHECK " + current.encode() + b" ",
                                        b"KTEST VALUE " + current.encode() + b" ")):
            test_lines.append(ln)
        elif ln.startswith(b"KTEST END ") and len(ln.split()) == 4:
            name = ln.split()[2].decode()
            tag = auth.mac((test_lines if name == current else [b"KTEST BEGIN " + name.encode()]) + [ln])
            end_tags.append(tag.encode())
            ln = ln + b" " + tag.encode()
            current, test_lines = None, []
        elif ln.startswith(b"KTEST DONE "):
            ln = ln + b" " + auth.mac([b"RUN"] + end_tags + [ln]).encode()
        elif ln.startswith(b"*** STOP 0x"):
            stop_parts = (list(test_lines) if current else []) + [ln]
            out.append(ln)
            continue
        elif ln.startswith(b"BT ") and stop_parts is not None:
            stop_parts.append(ln)
        out.append(ln)
    finish_stop()
    return b"\n".join(out).decode("utf-8", "replace") + "\n"
