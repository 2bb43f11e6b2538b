/* runner.c - runs the ktests named on the command line ("ktest=a,b seed=N",
 * "ktest=all", "ktest=list") and ends the run through isa-debug-exit. */
#include "hal.h"
#include "ke.h"
#include "ktest.h"
#include "rtl.h"

extern const KTEST KiTestsStart[], KiTestsEnd[];

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

static VOID KtpRun(const KTEST *Test, ULONG64 Seed)
{
    KTEST_CONTEXT context = {0};
    context.Name = Test->Name;
    context.Seed = Seed;
    context.Rng = Seed ^ RtlHashString64(Test->Name);
    DbgPrint("KTEST BEGIN %s\n", Test->Name);
    Test->Routine(&context);
    HalSerialNewLineIfNeeded();
    if (KeGetCurrentIrql() != PASSIVE_LEVEL) {
        KtFail(&context, "irql", "test returned at IRQL %u, expected PASSIVE_LEVEL (0)", KeGetCurrentIrql());
        KeLowerIrql(PASSIVE_LEVEL);
    }
    PCSTR verdict = context.Failures ? "FAIL" : context.Skipped ? "SKIP" : "PASS";
    DbgPrint("KTEST END %s %s\n", Test->Name, verdict);
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
    if (KtpGetOption(CommandLine, "seed", seedText, sizeof(seedText)))
        seed = KtpParseNumber(seedText);
    if (!KtpGetOption(CommandLine, "ktest", tests, sizeof(tests)) || tests[0] == 0) {
        DbgPrint("ktest: no tests selected; pass ktest=name[,name...] (or ktest=all, ktest=list)\n");
        KtpList();
        DbgPrint("KTEST DONE passed=0 failed=0\n");
        HalExitQemu(HAL_EXIT_ALL_PASSED);
    }
    DbgPrint("ktest: seed %llu\n", seed);
    if (strcmp(tests, "list") == 0) {
        KtpList();
        DbgPrint("KTEST DONE passed=0 failed=0\n");
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
    DbgPrint("KTEST DONE passed=%u failed=%u\n", KtpPassed, KtpFailed);
    HalExitQemu(KtpFailed ? HAL_EXIT_SOME_FAILED : HAL_EXIT_ALL_PASSED);
}
