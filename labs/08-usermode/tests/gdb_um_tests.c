/* gdb_um_tests.c - gdb.process: a framework ktest (in no lab.toml, never graded) for the
 * lab 08 debugger command nt process (tests/test_gdb_lab08um.py). One process ended by an
 * access violation, one alive: its thread made a system call (NtYieldExecution) and is
 * ready inside the kernel with its user registers in its trap frame when the test calls
 * KtGdbSnapshotPoint(1), where GDB runs the commands; then the live one is ended. */
#include "lab08_support.h"

VOID KtGdbSnapshotPoint(ULONG Phase);

static VOID KtTestGdbProcessBody(PKTEST_CONTEXT Context);

KTEST("gdb.process", KtTestGdbProcess)
{
    KtTestGdbProcessBody(Context);
    KtUserCleanup(); /* every process gone: the object manager starts afresh */
}

static VOID KtTestGdbProcessBody(PKTEST_CONTEXT Context)
{
    static KT_USER_PARAMS p1, p2;
    RtlZeroMemory(&p1, sizeof(p1));
    RtlZeroMemory(&p2, sizeof(p2));
    ULONG64 va = 0x10000 + (KtRandomRange(Context, 0, 0xFF) << 12);
    KtAddStep(&p1, KT_STEP_WRITE, va, 0);
    for (ULONG i = 0; i < 8; i++)
        KtAddCall(&p2, KSVC_NtYieldExecution, 0, 0, NULL);
    PEPROCESS dead = KtUserCreate(Context, "gdbdead", &p1);
    if (!dead)
        return;
    if (!KtUserStart(Context, dead)) {
        ObDereferenceObject(dead);
        return;
    }
    PsWaitForProcess(dead);
    PEPROCESS live = KtUserCreate(Context, "gdblive", &p2);
    if (!live) {
        ObDereferenceObject(dead);
        return;
    }
    if (KtUserStart(Context, live)) {
        KeYieldProcessor(); /* it runs to its first NtYieldExecution, which gives the processor back */
        PETHREAD t = CONTAINING_RECORD(live->ThreadListHead.Flink, ETHREAD, ProcessThreadLink);
        KtValue(Context, "dead", "%p %llu 0x%llx", dead, (ULONG64)dead->UniqueProcessId, va);
        KtValue(Context, "live", "%p %llu %p %p", live, (ULONG64)live->UniqueProcessId, t, t->Teb);
        KtValue(Context, "frame", "0x%llx 0x%llx", t->Tcb->TrapFrame->Rax, t->Tcb->TrapFrame->Rip);
        KtGdbSnapshotPoint(1);
        PsTerminateProcess(live, 0x1234);
        NTSTATUS exit = PsWaitForProcess(live);
        KtCheck(Context, exit == 0x1234, "terminated", "the live process ended with 0x%08X", (ULONG)exit);
    }
    ObDereferenceObject(live);
    ObDereferenceObject(dead);
}
