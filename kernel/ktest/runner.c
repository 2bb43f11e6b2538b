/* runner.c - runs the ktests named on the command line ("ktest=a,b seed=N",
 * "ktest=all", "ktest=list") and ends the run through isa-debug-exit.
 *
 * Output authentication: when the grader passes a key and a nonce through fw_cfg
 * (opt/ntlab/auth = "<64 hex key>:<32 hex nonce>"), every KTEST END, KTEST DONE and
 * STOP record carries an HMAC-SHA256 tag, so that the grader can tell the framework's
 * records from text printed by student code:
 *   END  tag: HMAC(nonce || "KTEST BEGIN t\n" || each CHECK/VALUE line of t + "\n" || "KTEST END t V\n")
 *   STOP tag: HMAC(nonce || [the running test's BEGIN/CHECK/VALUE lines] || STOP line + "\n"
 *                  || each BT line + "\n" || "STOP AUTH\n")
 *   DONE tag: HMAC(nonce || "RUN\n" || each END tag in hex + "\n" || "KTEST DONE passed=N failed=M\n")
 * Without a key (make qemu) no tags are printed. */
#include "hal.h"
#include "ke.h"
#include "ktest.h"
#include "rtl.h"
#include "sha256.h"

extern const KTEST KiTestsStart[], KiTestsEnd[];
extern const UCHAR KiTestCodeStart[], KiTestCodeEnd[]; /* the test objects' code (linker.ld) */

/* Copies the value of "key=" from the command line into Out; FALSE if absent. */
static BOOLEAN KtpGetOption(PCSTR CommandLine, PCSTR Key, PCHAR Out, SIZE_T Size)
{
    SIZE_T keyLength = strlen(Key);
    for (PCSTR p = CommandLine; *p;) {
        while (*p == ' ')
            p++;
        if (strncmp(p, Key, keyLength) == 0 && p[keyLength] == '=') {
            p += keyLength + 1;
            SIZE_T n = 0;
            while (*p && *p != ' ' && n + 1 < Size)
                Out[n++] = *p++;
            Out[n] = 0;
            return TRUE;
        }
        while (*p && *p != ' ')
            p++;
    }
    return FALSE;
}

static ULONG64 KtpParseNumber(PCSTR Text)
{
    ULONG64 v = 0;
    ULONG base = 10;
    if (Text[0] == '0' && (Text[1] == 'x' || Text[1] == 'X'))
        base = 16, Text += 2;
    for (; *Text; Text++) {
        CHAR c = *Text;
        ULONG d = (c >= '0' && c <= '9') ? (ULONG)(c - '0')
                  : (c >= 'a' && c <= 'f') ? (ULONG)(c - 'a' + 10)
                  : (c >= 'A' && c <= 'F') ? (ULONG)(c - 'A' + 10) : 99;
        if (d >= base)
            break;
        v = v * base + d;
    }
    return v;
}

static const KTEST *KtpFind(PCSTR Name, SIZE_T Length)
{
    for (const KTEST *t = KiTestsStart; t < KiTestsEnd; t++)
        if (strlen(t->Name) == Length && strncmp(t->Name, Name, Length) == 0)
            return t;
    return NULL;
}

static ULONG KtpPassed, KtpFailed;

/* ---- authentication state (never touched by student code; see grader/staticcheck.py) */
static UCHAR KtpAuthKey[32], KtpAuthNonce[16];
static BOOLEAN KtpAuthEnabled;
static HMAC_SHA256_CONTEXT KtpAuthTest;     /* the running test's records */
static BOOLEAN KtpAuthTestActive;
static PKTEST_CONTEXT KtpAuthContext;       /* the running test's context: only its lines count */
static HMAC_SHA256_CONTEXT KtpAuthRun;      /* every END tag, for KTEST DONE */
static HMAC_SHA256_CONTEXT KtpAuthStop;     /* the STOP record being printed */
static BOOLEAN KtpAuthStopActive;

static VOID KtpAuthLoad(VOID)
{
    CHAR text[128];
    LONG n = HalReadFirmwareConfigFile("opt/ntlab/auth", text, sizeof(text));
    KtpAuthEnabled = n == 64 + 1 + 32 && text[64] == ':' && RtlHexDecode(text, KtpAuthKey, 32) == 0 &&
                     RtlHexDecode(text + 65, KtpAuthNonce, 16) == 0;
    RtlZeroMemory(text, sizeof(text));
    if (KtpAuthEnabled) {
        RtlHmacSha256Init(&KtpAuthRun, KtpAuthKey, sizeof(KtpAuthKey));
        RtlHmacSha256Update(&KtpAuthRun, KtpAuthNonce, sizeof(KtpAuthNonce));
        RtlHmacSha256Update(&KtpAuthRun, "RUN\n", 4);
    }
}

static VOID KtpAuthLine(HMAC_SHA256_CONTEXT *Mac, PCSTR Line, SIZE_T Length)
{
    RtlHmacSha256Update(Mac, Line, Length);
    RtlHmacSha256Update(Mac, "\n", 1);
}

SIZE_T KtWriteRecordV(PCHAR Line, SIZE_T Size, BOOLEAN EndLine, PCSTR Format, va_list Args)
{
    ULONG n = RtlFormatStringV(Line, Size, Format, Args);
    SIZE_T length = n < Size ? n : Size - 1;
    for (SIZE_T i = 0; i < length; i++)
        if ((UCHAR)Line[i] < 0x20 || (UCHAR)Line[i] >= 0x7f)
            Line[i] = '?';
    HalSerialNewLineIfNeeded();
    HalSerialWrite(Line, length);
    if (EndLine)
        HalSerialWrite("\n", 1);
    return length;
}

VOID KtAuthTestLine(PKTEST_CONTEXT Context, PCSTR Line, SIZE_T Length)
{
    if (KtpAuthEnabled && KtpAuthTestActive && Context == KtpAuthContext)
        KtpAuthLine(&KtpAuthTest, Line, Length);
}

VOID KtAuthStopBegin(VOID)
{
    if (!KtpAuthEnabled)
        return;
    if (KtpAuthTestActive) {
        KtpAuthStop = KtpAuthTest;
    } else {
        RtlHmacSha256Init(&KtpAuthStop, KtpAuthKey, sizeof(KtpAuthKey));
        RtlHmacSha256Update(&KtpAuthStop, KtpAuthNonce, sizeof(KtpAuthNonce));
    }
    KtpAuthStopActive = TRUE;
}

VOID KtAuthStopLine(PCSTR Line, SIZE_T Length)
{
    if (KtpAuthEnabled && KtpAuthStopActive)
        KtpAuthLine(&KtpAuthStop, Line, Length);
}

VOID KtAuthStopEnd(VOID)
{
    UCHAR mac[32];
    CHAR hex[65];
    if (!KtpAuthEnabled || !KtpAuthStopActive)
        return;
    KtpAuthLine(&KtpAuthStop, "STOP AUTH", 9);
    RtlHmacSha256Final(&KtpAuthStop, mac);
    KtpAuthStopActive = FALSE;
    RtlHexEncode(mac, sizeof(mac), hex);
    HalSerialNewLineIfNeeded();
    DbgPrint("STOP AUTH %s\n", hex);
}

static VOID KtpEmitRecord(HMAC_SHA256_CONTEXT *Mac, PCSTR Format, ...) __attribute__((format(printf, 2, 3)));

/* Prints one record line; with a key, feeds it to Mac and appends the tag. Returns the
 * tag in hex (empty without a key) in KtpLastTag. */
static CHAR KtpLastTag[65];
static VOID KtpEmitRecord(HMAC_SHA256_CONTEXT *Mac, PCSTR Format, ...)
{
    CHAR line[512];
    va_list args;
    va_start(args, Format);
    SIZE_T length = KtWriteRecordV(line, sizeof(line), FALSE, Format, args);
    va_end(args);
    KtpLastTag[0] = 0;
    if (KtpAuthEnabled && Mac) {
        UCHAR mac[32];
        KtpAuthLine(Mac, line, length);
        RtlHmacSha256Final(Mac, mac);
        RtlHexEncode(mac, sizeof(mac), KtpLastTag);
        HalSerialWrite(" ", 1);
        HalSerialWrite(KtpLastTag, 64);
    }
    HalSerialWrite("\n", 1);
}

static VOID KtpRun(const KTEST *Test, ULONG64 Seed)
{
    KTEST_CONTEXT context = {0};
    context.Name = Test->Name;
    context.Seed = Seed;
    context.Rng = Seed ^ RtlHashString64(Test->Name);
    DbgPrint("KTEST BEGIN %s\n", Test->Name);
    if (KtpAuthEnabled) {
        CHAR begin[200];
        ULONG n = RtlFormatString(begin, sizeof(begin), "KTEST BEGIN %s", Test->Name);
        RtlHmacSha256Init(&KtpAuthTest, KtpAuthKey, sizeof(KtpAuthKey));
        RtlHmacSha256Update(&KtpAuthTest, KtpAuthNonce, sizeof(KtpAuthNonce));
        KtpAuthLine(&KtpAuthTest, begin, n < sizeof(begin) ? n : sizeof(begin) - 1);
        KtpAuthTestActive = TRUE;
    }
    KtpAuthContext = &context;
    /* Only routines inside the test objects' code are called (a registry entry pointing
     * anywhere else was tampered with). */
    if ((ULONG_PTR)Test->Routine >= (ULONG_PTR)KiTestCodeStart && (ULONG_PTR)Test->Routine < (ULONG_PTR)KiTestCodeEnd)
        Test->Routine(&context);
    else
        KtFail(&context, "registry", "the routine of %s lies outside the test code; not called", Test->Name);
    HalSerialNewLineIfNeeded();
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        KtFail(&context, "irql", "test returned at IRQL %u, expected PASSIVE_LEVEL (0)", KeGetCurrentIrql());
        KeLowerIrql(PASSIVE_LEVEL);
    }
    PCSTR verdict = context.Failures ? "FAIL" : context.Skipped ? "SKIP" : "PASS";
    KtpEmitRecord(&KtpAuthTest, "KTEST END %s %s", Test->Name, verdict);
    KtpAuthTestActive = FALSE;
    KtpAuthContext = NULL;
    if (KtpAuthEnabled) {
        RtlHmacSha256Update(&KtpAuthRun, KtpLastTag, 64);
        RtlHmacSha256Update(&KtpAuthRun, "\n", 1);
    }
    if (context.Failures || context.Skipped)
        KtpFailed++;
    else
        KtpPassed++;
}

static VOID KtpList(VOID)
{
    DbgPrint("ktest: available tests:");
    for (const KTEST *t = KiTestsStart; t < KiTestsEnd; t++)
        DbgPrint(" %s%s", t->Name, (t->Flags & KTEST_BUGCHECKS) ? "(bugchecks)" : "");
    DbgPrint("\n");
}

VOID KtRunTests(PCSTR CommandLine)
{
    CHAR tests[400], seedText[32];
    ULONG64 seed = 1;
    KtpAuthLoad();
    if (KtpGetOption(CommandLine, "seed", seedText, sizeof(seedText)))
        seed = KtpParseNumber(seedText);
    if (!KtpGetOption(CommandLine, "ktest", tests, sizeof(tests)) || tests[0] == 0) {
        DbgPrint("ktest: no tests selected; pass ktest=name[,name...] (or ktest=all, ktest=list)\n");
        KtpList();
        KtpEmitRecord(&KtpAuthRun, "KTEST DONE passed=0 failed=0");
        HalExitQemu(HAL_EXIT_ALL_PASSED);
    }
    DbgPrint("ktest: seed %llu\n", seed);
    if (strcmp(tests, "list") == 0) {
        KtpList();
        KtpEmitRecord(&KtpAuthRun, "KTEST DONE passed=0 failed=0");
        HalExitQemu(HAL_EXIT_ALL_PASSED);
    }
    if (strcmp(tests, "all") == 0) {
        for (const KTEST *t = KiTestsStart; t < KiTestsEnd; t++)
            if (!(t->Flags & KTEST_BUGCHECKS))
                KtpRun(t, seed);
    } else {
        for (PCSTR p = tests; *p;) {
            PCSTR start = p;
            while (*p && *p != ',')
                p++;
            SIZE_T length = (SIZE_T)(p - start);
            if (*p == ',')
                p++;
            if (length == 0)
                continue;
            const KTEST *t = KtpFind(start, length);
            if (!t) {
                DbgPrint("KTEST unknown test '%.*s'\n", (int)length, start);
                KtpList();
                KtpFailed++;
                continue;
            }
            KtpRun(t, seed);
        }
    }
    KtpEmitRecord(&KtpAuthRun, "KTEST DONE passed=%u failed=%u", KtpPassed, KtpFailed);
    HalExitQemu(KtpFailed ? HAL_EXIT_SOME_FAILED : HAL_EXIT_ALL_PASSED);
}
