/* gdb_wow64_tests.c - gdb.wow64: a framework ktest (in no lab.toml, never graded) for the
 * lab 09 debugger command nt wow64 (tests/test_gdb_wow64.py, w16f). A helper thread runs
 * user/programs/wowgdb.c built 32-bit; when the program spins in 32-bit code with seeded EBX,
 * ESI, EDI (the clock interrupted it: its trap frame holds CS 0x23 and the 32-bit context),
 * the test reports the truth - from the program's shared page and the process's own TEB32 -
 * and calls KtGdbSnapshotPoint(1), where GDB runs nt wow64; then it stops the program. */
#include "ktest.h"
#include "ps.h"
#include "usertest.h"
#include "wow64_support.h"

VOID KtGdbSnapshotPoint(ULONG Phase);

#define WOWGDB_SHARED 0x20000000

typedef struct {
    ULONG Stop, Ready, Teb32, LoopStart, LoopEnd, Esp;
} KT_WOWGDB_SHARED;

static CHAR KtgLine[96];
static PKTEST_CONTEXT KtgContext;

static VOID KtgRunProgram(PVOID Argument)
{
    UNREFERENCED_PARAMETER(Argument);
    KT_USER_RUN run;
    KtRunWow64Program(KtgContext, "wowgdb.exe", KtgLine, &run);
}

KTEST("gdb.wow64", KtTestGdbWow64)
{
    KtSetBudget(Context, 20000);
    ULONG regs[3];
    for (ULONG i = 0; i < 3; i++)
        regs[i] = (ULONG)KtRandom(Context) | 0x80000001u;   /* bit 31 set: a truncation shows */
    RtlFormatString(KtgLine, sizeof(KtgLine), "wowgdb.exe 0x%x 0x%x 0x%x", regs[0], regs[1], regs[2]);
    KtgContext = Context;
    PKTHREAD helper;
    if (!KtCreateThread(Context, "wowgdb", KtgRunProgram, NULL, &helper))
        return;
    PEPROCESS p = NULL;
    KT_WOWGDB_SHARED shared;
    RtlZeroMemory(&shared, sizeof(shared));
    for (ULONG i = 0; i < 200 && !shared.Ready; i++) {
        LARGE_INTEGER ms = {.QuadPart = -10000};
        KeDelayExecutionThread(KernelMode, FALSE, &ms);
        if (!p)
            p = KtReferenceRunningUserProcess();
        if (p && !NT_SUCCESS(PsReadUserMemory(p, WOWGDB_SHARED, &shared, sizeof(shared))))
            shared.Ready = 0;
    }
    if (KtCheck(Context, p && shared.Ready, "spinning", "wowgdb.exe did not reach its loop")) {
        PETHREAD t = CONTAINING_RECORD(p->ThreadListHead.Flink, ETHREAD, ProcessThreadLink);
        TEB32 teb;
        NTSTATUS status = PsReadUserMemory(p, t->Tcb->Teb32, &teb, sizeof(teb));
        KtCheck(Context, NT_SUCCESS(status) && teb.Self == shared.Teb32 && t->Tcb->Teb32 == shared.Teb32, "teb32",
                "FS:[0x18] 0x%x, KTHREAD.Teb32 0x%x, its Self 0x%x", shared.Teb32, t->Tcb->Teb32, teb.Self);
        KtValue(Context, "process", "%p %p", p, t);
        KtValue(Context, "regs", "0x%08x 0x%08x 0x%08x", regs[0], regs[1], regs[2]);
        KtValue(Context, "program", "0x%08x 0x%08x 0x%08x 0x%08x", shared.Teb32, shared.LoopStart, shared.LoopEnd,
                shared.Esp);
        KtValue(Context, "teb32", "0x%08x 0x%08x 0x%08x 0x%08x %u %u 0x%08x 0x%llx", teb.Self, teb.ExceptionList,
                teb.StackBase, teb.StackLimit, teb.ClientId[0], teb.ClientId[1], teb.ProcessEnvironmentBlock,
                (ULONG64)teb.GdiBatchCount);
        KtValue(Context, "state", "%u 0x%llx", t->Tcb->State, t->Tcb->TrapFrame ? t->Tcb->TrapFrame->SegCs : 0);
        KtGdbSnapshotPoint(1);
        ULONG stop = 1;
        PsWriteUserMemory(p, WOWGDB_SHARED, &stop, sizeof(stop));
    }
    KtJoinThread(Context, helper);
    if (p)
        ObDereferenceObject(p);
}
