/* watchdog.c - hangs are verdicts. Every clock interrupt checks the running test's
 * budget (and how long every thread has waited); past it, the watchdog prints
 *   KTEST HANG <test> <elapsed> ms, budget <budget> ms [with every thread waiting]
 *   HANG THREAD <id> <name> state=<state> wait=<reason> object=<address> [running]
 *   HANG BT <n> 0x<address> <function>+0x<offset>        (each thread's backtrace)
 *   HANG END
 * and ends the run with its own exit code (HAL_EXIT_HANG). Backtraces are walked here
 * with the framework's own walker and symbol scan: a hang must be reported even when
 * lab 00 is a stub. A hang with interrupts disabled (or IRQL >= CLOCK_LEVEL) stops the
 * clock itself: that case still ends in the grader's timeout. */
#include "arch.h"
#include "hal.h"
#include "ke.h"
#include "ktest.h"
#include "ktestp.h"
#include "rtl.h"

#define KTP_HANG_FRAMES 16

static VOID KtpHangLine(PCSTR Format, ...) __attribute__((format(printf, 1, 2)));
static VOID KtpHangLine(PCSTR Format, ...)
{
    CHAR line[400];
    va_list args;
    va_start(args, Format);
    KtWriteRecordV(line, sizeof(line), TRUE, Format, args);
    va_end(args);
}

/* Walks saved frame pointers within [Low, High), starting with Pc; framework code. */
static VOID KtpHangBacktrace(ULONG_PTR Pc, ULONG_PTR Rbp, ULONG_PTR Low, ULONG_PTR High)
{
    ULONG n = 0;
    ULONG_PTR frame = Rbp;
    for (; n < KTP_HANG_FRAMES && Pc; n++) {
        const KSYMBOL *s = KtFindSymbol(n == 0 ? Pc : Pc - 1);
        if (s)
            KtpHangLine("HANG BT %u 0x%016llx %s+0x%llx", n, (ULONG64)Pc, KiSymbolNames + s->NameOffset,
                        (ULONG64)(Pc - s->Address));
        else
            KtpHangLine("HANG BT %u 0x%016llx ?", n, (ULONG64)Pc);
        if (frame == 0 || (frame & 7) || frame < Low || frame + 16 > High)
            break;
        Pc = ((PULONG_PTR)frame)[1];
        ULONG_PTR next = ((PULONG_PTR)frame)[0];
        if (next <= frame && next != 0)
            break;
        frame = next;
    }
}

DECLSPEC_NORETURN VOID KtpHang(PCSTR Test, ULONG64 ElapsedMs, ULONG64 BudgetMs, PKTRAP_FRAME TrapFrame)
{
    _disable();
    __writecr8(HIGH_LEVEL);
    HalSerialNewLineIfNeeded();
    KtpHangLine("KTEST HANG %s %llu ms, budget %llu ms%s", Test, ElapsedMs, BudgetMs,
                BudgetMs == KT_IDLE_BUDGET_MS ? " with every thread waiting" : "");
    PKTHREAD current = KeGetCurrentThread();
    extern LIST_ENTRY KiThreadListHead;
    for (PLIST_ENTRY e = KiThreadListHead.Flink; e != &KiThreadListHead; e = e->Flink) {
        PKTHREAD t = CONTAINING_RECORD(e, KTHREAD, ThreadListEntry);
        PVOID object = t->State == Waiting && t->WaitBlockList ? t->WaitBlockList->Object : NULL;
        KtpHangLine("HANG THREAD %u %s state=%s wait=%s object=%p%s", t->ThreadId, t->Name,
                    KeThreadStateName(t->State), t->State == Waiting ? KeWaitReasonName(t->WaitReason) : "-",
                    object, t == current ? " (running: interrupted by the clock)" : "");
        if (t == current && TrapFrame)
            KtpHangBacktrace(TrapFrame->Rip, TrapFrame->Rbp, t->StackLimit, t->StackBase);
        else if (t != current && t->KernelStack)
            KtpHangBacktrace(((PULONG_PTR)t->KernelStack)[6], ((PULONG_PTR)t->KernelStack)[5], t->StackLimit,
                             t->StackBase);
    }
    KtpHangLine("HANG END");
    HalExitQemu(HAL_EXIT_HANG);
}
