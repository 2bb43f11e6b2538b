/* bugcheck_tests.c - lab 00 public tests that end in a STOP: a deliberate
 * KeBugCheckEx, and a kernel-mode page fault. The grader checks the STOP line and
 * that the backtrace names the announced functions in order. */
#include "bugcodes.h"
#include "ke.h"
#include "ktest.h"
#include "rtl.h"

#define KT_NOIPA __attribute__((noipa))

static ULONG_PTR KtCrashParams[4];
static UCHAR KtCrashSteps[4];
static ULONG KtCrashDepth;
static VOID KtCrashA(ULONG Level);
static VOID KtCrashB(ULONG Level);
static VOID KtCrashC(ULONG Level);
static VOID (*const KtCrashFunctions[3])(ULONG) = {KtCrashA, KtCrashB, KtCrashC};
static PCSTR const KtCrashNames[3] = {"KtCrashA", "KtCrashB", "KtCrashC"};
static volatile ULONG KtCrashSink;

static KT_NOIPA VOID KtCrashNext(ULONG Level)
{
    if (Level + 1 == KtCrashDepth)
        KeBugCheckEx(MANUALLY_INITIATED_CRASH, KtCrashParams[0], KtCrashParams[1], KtCrashParams[2],
                     KtCrashParams[3]);
    KtCrashFunctions[KtCrashSteps[Level + 1]](Level + 1);
}
static KT_NOIPA VOID KtCrashA(ULONG Level) { KtCrashSink += 1; KtCrashNext(Level); KtCrashSink += 11; }
static KT_NOIPA VOID KtCrashB(ULONG Level) { KtCrashSink += 2; KtCrashNext(Level); KtCrashSink += 22; }
static KT_NOIPA VOID KtCrashC(ULONG Level) { KtCrashSink += 3; KtCrashNext(Level); KtCrashSink += 33; }

KTEST_STOP("ke.bugcheck_deliberate", KtTestBugCheckDeliberate)
{
    CHAR backtrace[256];
    ULONG length = 0;

    for (ULONG i = 0; i < 4; i++)
        KtCrashParams[i] = KtRandom(Context);
    KtCrashDepth = (ULONG)KtRandomRange(Context, 2, 4);
    for (ULONG i = 0; i < KtCrashDepth; i++)
        KtCrashSteps[i] = (UCHAR)KtRandomRange(Context, 0, 2);

    length += RtlFormatString(backtrace + length, sizeof(backtrace) - length, "KeBugCheckEx");
    for (LONG level = (LONG)KtCrashDepth - 1; level >= 0; level--)
        length += RtlFormatString(backtrace + length, sizeof(backtrace) - length, ",KtCrashNext,%s",
                                  KtCrashNames[KtCrashSteps[level]]);
    RtlFormatString(backtrace + length, sizeof(backtrace) - length, ",KtTestBugCheckDeliberate");

    KtValue(Context, "stop_params", "0x%016llx 0x%016llx 0x%016llx 0x%016llx", (ULONG64)KtCrashParams[0],
            (ULONG64)KtCrashParams[1], (ULONG64)KtCrashParams[2], (ULONG64)KtCrashParams[3]);
    KtValue(Context, "backtrace", "%s", backtrace);
    KtCrashFunctions[KtCrashSteps[0]](0);
}

static KT_NOIPA VOID KtFaultPrepare(VOID) { KtCrashSink += 5; }

/* Not a leaf: GCC gives a leaf function that needs no stack no frame at all, and a
 * fault there would show its caller's caller next (see the handout). The access is one
 * instruction at a label: called with Rip non-NULL, it only stores the address of the
 * instruction that would access (the STOP's P3, the faulting RIP) and touches nothing. */
static KT_NOIPA ULONG64 KtFaultTouch(volatile ULONG64 *Address, BOOLEAN Write, ULONG_PTR *Rip)
{
    ULONG64 value = 0x4E544C4142ULL;
    ULONG_PTR at;
    KtFaultPrepare();
    if (Write)
        __asm__ volatile("leaq 1f(%%rip), %1\n\t"
                         "testq %3, %3\n\t"
                         "jnz 2f\n"
                         "1:\tmovq %0, (%2)\n"
                         "2:"
                         : "+r"(value), "=&r"(at) : "r"(Address), "r"(Rip) : "memory", "cc");
    else
        __asm__ volatile("leaq 1f(%%rip), %1\n\t"
                         "testq %3, %3\n\t"
                         "jnz 2f\n"
                         "1:\tmovq (%2), %0\n"
                         "2:"
                         : "+r"(value), "=&r"(at) : "r"(Address), "r"(Rip) : "memory", "cc");
    if (Rip)
        *Rip = at;
    return Write ? 0 : value;
}

static KT_NOIPA VOID KtFaultLevel1(volatile ULONG64 *Address, BOOLEAN Write)
{
    KtCrashSink += (ULONG)KtFaultTouch(Address, Write, NULL);
}

/* An access to an unmapped kernel address (the low half has no mappings) must
 * bugcheck with PAGE_FAULT_IN_NONPAGED_AREA naming the address, the access, and a
 * backtrace that starts in the faulting function. */
KTEST_STOP("ke.page_fault", KtTestPageFault)
{
    ULONG64 va = 0x10000000ULL + (KtRandomRange(Context, 0, 0x3FFFFFF) << 3);
    BOOLEAN write = (BOOLEAN)KtRandomRange(Context, 0, 1);
    /* P3 is the faulting RIP (the access's instruction); P4 the CPU's error code: not present,
     * kernel mode, W = the access */
    ULONG_PTR rip = 0;
    KtFaultTouch((volatile ULONG64 *)va, write, &rip);
    KtValue(Context, "stop_params", "0x%016llx 0x%llx 0x%llx 0x%llx", va, (ULONG64)write, (ULONG64)rip,
            write ? 2ULL : 0ULL);
    KtValue(Context, "rip", "0x%llx", (ULONG64)rip);
    KtValue(Context, "backtrace", "KtFaultTouch,KtFaultLevel1,KtTestPageFault");
    KtFaultLevel1((volatile ULONG64 *)va, write);
    KtFail(Context, "fault", "the access to 0x%016llx did not fault", va);
}
