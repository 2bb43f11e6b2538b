"""Unit tests of the serial-protocol parser (grader.transcript)."""
from pathlib import Path

from grader.transcript import parse

T = Path(__file__).parent / "transcripts"


def load(name):
    return parse((T / name).read_bytes())


def test_well_formed_pass():
    t = load("pass.txt")
    assert t.boot == ("0.1", "all")
    assert t.order == ["pfn.totals", "pfn.zeroed"]
    assert t.test("pfn.totals").end == "PASS"
    assert t.test("pfn.totals").values["usable"] == "16128"
    assert [c.name for c in t.test("pfn.totals").checks] == ["every_frame_once", "reserved_on_none"]
    assert all(c.ok for c in t.test("pfn.totals").checks)
    assert t.done == (2, 0)
    assert t.stop is None and t.in_progress is None and not t.truncated
    assert not any(line.endswith("\r") for line in t.lines)


def test_failing_checks_keep_details():
    t = load("failed_check.txt")
    fails = t.test("pfn.totals").failing_checks
    assert [c.name for c in fails] == ["every_frame_once", "totals_conserved"]
    assert fails[0].detail == "frame 0x1234 is on 2 lists (free, zeroed)"
    assert t.lines[fails[0].line_no] == fails[0].line


def test_stop_and_backtrace():
    t = load("unexpected_stop.txt")
    st = t.stop
    assert st.code == 0x4E and st.name == "PFN_LIST_CORRUPT"
    assert st.params == [0x99, 0x1234, 0, 0]
    assert st.test == "pfn.zeroed" and st.last_ended == "pfn.totals"
    assert [f.name for f in t.frames] == ["KeBugCheckEx", "MiFreePfn", "?"]
    assert t.frames[0].address == 0xFFFFFFFF80102345
    assert t.bt_end
    assert t.in_progress == "pfn.zeroed"


def test_bt_unavailable_and_nested():
    t = load("bt_unavailable.txt")
    assert t.bt_unavailable.startswith("RtlpWalkFrameChain is not implemented")
    assert t.frames == []
    t = load("nested_stop.txt")
    assert t.stop.code == 0x50 and len(t.nested) == 1 and not t.bt_end


def test_truncated_last_line():
    t = parse(b"NTLAB BOOT 0.1 none\nKTEST BEGIN a\nKTEST CHECK a x ok\nKTEST END a PA")
    assert t.truncated
    assert t.test("a").end is None          # a partial END is not an END
    assert t.in_progress == "a"
    t = parse(b"NTLAB BOOT 0.1 none\nKTEST BEGIN a\n*** STOP 0x0000000A (IRQL_NOT_LESS")
    assert t.stop.code == 0x0A and t.stop.test == "a"


def test_garbage_bytes_and_escapes():
    data = (b"\xff\xfe\x00garbage\x1b[2J\r\n\x1b[1;1H\xc3NTLAB BOOT 0.1 all\r\n"
            b"KTEST BEGIN a\r\n\x00\x01\x02\xff\r\nKTEST END a PASS\r\nKTEST DONE passed=1 failed=0\r\n")
    t = parse(data)
    assert t.boot == ("0.1", "all")
    assert t.test("a").end == "PASS" and t.done == (1, 0)
    assert all("\x1b" not in line and "\x00" not in line for line in t.lines)


def test_malformed_and_unknown_records():
    text = "\n".join([
        "NTLAB BOOT",
        "KTEST",
        "KTEST BEGIN",
        "KTEST CHECK a",
        "KTEST CHECK a b maybe",
        "KTEST VALUE a",
        "KTEST END a WHATEVER",
        "KTEST DONE passed=x failed=1",
        "KTEST FROBNICATE a b",
        "*** STOP zz",
        "BT 0 0x1 Foo+0x1",       # BT before any STOP is free text
        "KTEST unknown test 'zz'",
        "",
    ])
    t = parse(text)
    assert t.boot == ("", "")
    assert t.done is None and t.stop is None and t.frames == []
    assert t.test("a").end is None
    assert len(t.malformed) >= 6
    assert len(t.unknown_test_lines) == 1


def test_records_for_tests_that_never_began():
    t = parse("NTLAB BOOT 1 none\nKTEST CHECK ghost c FAIL boo\nKTEST END ghost FAIL\n")
    rec = t.test("ghost")
    assert not rec.began and rec.end == "FAIL" and rec.failing_checks[0].detail == "boo"
    assert t.order == []


def test_empty_and_str_input():
    assert parse(b"").lines == [] and parse("").boot is None
    assert parse("NTLAB BOOT 2 x\n").boot == ("2", "x")


def test_only_first_stop_owns_the_backtrace():
    t = parse("NTLAB BOOT 1 all\n*** STOP 0x00000001 (A) 0x1 0x2 0x3 0x4\nBT 0 0x10 A+0x1\nBT END\n"
              "*** STOP 0x00000002 (B) 0x0 0x0 0x0 0x0\nBT 0 0x20 B+0x1\nBT END\n")
    assert t.stop.code == 1 and [f.name for f in t.frames] == ["A"] and len(t.later_stops) == 1
