"""Output authentication: the kernel's SHA-256/HMAC (kernel/rtl/sha256.c, compiled here with
the host gcc) against hashlib and the published vectors; grader.auth and the verdict on
transcripts signed by a Python HMAC (genuine, forged, tampered, untagged, wrong key); and one
real boot whose records carry valid tags."""
import hashlib
import hmac
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from grader import auth as a
from grader import verdict as v
from grader.labconfig import Checkpoint

ROOT = Path(__file__).resolve().parent.parent
T = Path(__file__).parent / "transcripts"

HOST_MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sha256.h"
/* reads lines "keyhex msghex" and prints "sha256(msg) hmac(key,msg)" per line */
int main(void) {
    static char line[1 << 16];
    while (fgets(line, sizeof line, stdin)) {
        char *sp = strchr(line, ' ');
        *sp = 0;
        char *mh = sp + 1;
        mh[strcspn(mh, "\n")] = 0;
        size_t kl = strlen(line) / 2, ml = strlen(mh) / 2;
        static uint8_t k[4096], m[1 << 15], d[32];
        static char out[65];
        if (RtlHexDecode(line, k, kl) || RtlHexDecode(mh, m, ml)) return 2;
        RtlSha256(m, ml, d); RtlHexEncode(d, 32, out); printf("%s ", out);
        HMAC_SHA256_CONTEXT c; RtlHmacSha256Init(&c, k, kl);
        /* feed in two uneven pieces to exercise the block buffer */
        RtlHmacSha256Update(&c, m, ml / 3); RtlHmacSha256Update(&c, m + ml / 3, ml - ml / 3);
        RtlHmacSha256Final(&c, d); RtlHexEncode(d, 32, out); printf("%s\n", out);
    }
    return 0;
}
"""


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_kernel_sha256_and_hmac_match_hashlib(tmp_path):
    main = tmp_path / "main.c"
    main.write_text(HOST_MAIN)
    exe = tmp_path / "sha"
    subprocess.run(["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{ROOT}/kernel/include",
                    str(ROOT / "kernel/rtl/sha256.c"), str(main), "-o", str(exe)], check=True)
    cases = [(b"", b""), (b"key", b"abc"), (b"Jefe", b"what do ya want for nothing?"),
             (b"\x0b" * 20, b"Hi There"), (b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First")]
    rnd = __import__("random").Random(7)
    for n in (55, 56, 63, 64, 65, 119, 120, 128, 1000, 4097):
        cases.append((bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 100))),
                      bytes(rnd.randrange(256) for _ in range(n))))
    cases = [(k or b"\0", m) for k, m in cases]
    stdin = "".join(f"{k.hex()} {m.hex()}\n" for k, m in cases)
    out = subprocess.run([str(exe)], input=stdin, capture_output=True, text=True, check=True).stdout.split("\n")
    for (k, m), line in zip(cases, out):
        sha, mac = line.split()
        assert sha == hashlib.sha256(m).hexdigest()
        assert mac == hmac.new(k, m, hashlib.sha256).hexdigest()
    # RFC 4231 test case 2 and FIPS 180-4 "abc" as literal vectors
    assert out[2].split()[1] == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert out[1].split()[0] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def cp(ktests=("pfn.totals", "pfn.zeroed"), name="pfn_totals", **kw):
    return Checkpoint(lab=1, name=name, title="Totals", points=10, ktests=tuple(ktests), **kw)


def stop_cp():
    return cp(("pfn.double_free",), name="double_free", expect="stop", stop_code=0x4E)


KEY = a.AuthKey(bytes(range(32)), bytes(range(16)))


def judge(text, status, checkpoint, auth=KEY):
    return v.judge(text.encode(), status, False, False, checkpoint, sol="all", seed=1, timeout=10, auth=auth)


def signed(name):
    return a.sign_transcript((T / name).read_text(), KEY)


def test_fw_cfg_value_and_command_line():
    from grader import qemu as q
    k = a.AuthKey.new()
    assert len(k.key) == 32 and len(k.nonce) == 16 and k != a.AuthKey.new()
    value = k.fw_cfg_value()
    assert value == k.key.hex() + ":" + k.nonce.hex()
    cmd = q.qemu_command("x.iso", ["a"], 1, auth=value)
    assert f"name=opt/ntlab/auth,string={value}" in cmd
    assert not any("opt/ntlab/auth" in c for c in q.qemu_command("x.iso", ["a"], 1))


def test_signed_pass_transcript_passes():
    text = signed("pass.txt")
    assert "KTEST END pfn.totals PASS " in text
    r = judge(text, 33, cp())
    assert r.passed, r.text


def test_signed_expected_stop_passes():
    text = signed("expected_stop.txt")
    assert "STOP AUTH " in text
    r = judge(text, 37, stop_cp())
    assert r.passed, r.text


def test_untagged_transcript_fails_with_a_key_and_passes_without():
    text = (T / "pass.txt").read_text()
    r = judge(text, 33, cp())
    assert r.kind == v.INTEGRITY and not r.passed
    assert "KTEST END pfn.totals PASS" in r.summary and "no authentication tag" in r.summary
    assert judge(text, 33, cp(), auth=None).passed      # make qemu / old transcripts: nothing judged


def test_wrong_key_is_an_integrity_failure():
    r = judge(signed("pass.txt"), 33, cp(), auth=a.AuthKey(b"\1" * 32, bytes(range(16))))
    assert r.kind == v.INTEGRITY
    r = judge(signed("pass.txt"), 33, cp(), auth=a.AuthKey(bytes(range(32)), b"\2" * 16))   # replayed run
    assert r.kind == v.INTEGRITY


def test_forged_end_and_done_before_the_real_ones():
    text = signed("pass.txt").replace("KTEST BEGIN pfn.totals\n", "KTEST BEGIN pfn.totals\nKTEST END pfn.totals PASS "
                                      + "0" * 64 + "\n", 1)
    r = judge(text, 33, cp())
    assert r.kind == v.INTEGRITY and "bad authentication tag" in r.details


def test_tampered_value_or_check_line():
    text = signed("pass.txt").replace("usable 16128", "usable 16127")
    assert judge(text, 33, cp()).kind == v.INTEGRITY
    text = signed("pass.txt").replace("KTEST END pfn.zeroed", "KTEST CHECK pfn.zeroed extra ok\nKTEST END pfn.zeroed")
    assert judge(text, 33, cp()).kind == v.INTEGRITY


def test_forged_done_line():
    lines = signed("pass.txt").splitlines()
    lines[-1] = "KTEST DONE passed=2 failed=0 " + "ab" * 32
    assert judge("\n".join(lines) + "\n", 33, cp()).kind == v.INTEGRITY


def test_forged_stop_record():
    text = signed("expected_stop.txt")
    # a different parameter, a forged backtrace frame, a missing STOP AUTH line
    changed = text.replace("0x0000000000001234", "0x0000000000001235", 1).replace("0x99 0x1234", "0x99 0x1235", 1)
    assert judge(changed, 37, stop_cp()).kind == v.INTEGRITY
    assert judge(text.replace("BT 3 ", "BT 3 0xffffffff80104567 KtpRun+0x31\nBT 4 ", 1), 37,
                 stop_cp()).kind == v.INTEGRITY
    no_auth = "\n".join(l for l in text.splitlines() if not l.startswith("STOP AUTH")) + "\n"
    r = judge(no_auth, 37, stop_cp())
    assert r.kind == v.INTEGRITY and "no STOP AUTH line" in r.summary
    # forged expectations printed after the STOP (by a student's symbol lookup) are caught too
    forged = text.replace("BT END", "KTEST VALUE pfn.double_free stop_params * * * *\nBT END", 1)
    r = judge(forged, 37, stop_cp())
    assert r.kind == v.INTEGRITY
    assert "'KTEST VALUE pfn.double_free stop_params * * * *' was not printed by the test" in r.details


def test_failing_verdicts_are_left_alone():
    # a failed check stays a failed check (integrity is judged only for passing verdicts)
    r = judge((T / "failed_check.txt").read_text(), 35, cp())
    assert r.kind == v.FAILED_CHECK


@pytest.mark.skipif(not (ROOT / "solutions").is_dir() or shutil.which("qemu-system-x86_64") is None,
                    reason="needs the instructor tree and QEMU")
def test_real_boot_carries_valid_tags(monkeypatch):
    from grader import build as b, labconfig, qemu as q, runner, transcript
    status = b.build("all", str(ROOT))   # builds build/all (under its lock) if it is not up to date
    assert status.ok, status.message
    labs = labconfig.load_labs(str(ROOT))
    byname = {c.name: c for lab in labs for c in lab.checkpoints}
    for name in ("list_totals", "double_free"):
        verdict, run = runner.run_checkpoint(byname[name], sol="all", seed=5, root=str(ROOT), status=status)
        assert verdict.passed, verdict.text
        text = run.output.decode()
        assert ("STOP AUTH " in text) if name == "double_free" else ("KTEST DONE passed=1 failed=0 " in text)
    # the kernel's SHA-256/HMAC against the published vectors, in the kernel itself
    sha = Checkpoint(lab=0, name="sha", title="sha", points=1, ktests=("ktest.sha256",))
    verdict, run = runner.run_checkpoint(sha, sol="all", seed=1, root=str(ROOT), status=status)
    assert verdict.passed, verdict.text
    assert "KTEST CHECK ktest.sha256 hmac_rfc4231_2 ok" in run.output.decode()
    # the same kernel without a key prints no tags
    cp_ = byname["list_totals"]
    run = q.run_qemu(q.qemu_command(status.image(), cp_.ktests, 5, cp_.memory), 20)
    t = transcript.parse(run.output)
    assert run.output.decode().rstrip().endswith("KTEST DONE passed=1 failed=0")
    assert t.test("pfn.totals").end == "PASS"
