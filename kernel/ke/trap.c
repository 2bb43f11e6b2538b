/* trap.c - KiDispatchTrap: what happens on an exception or interrupt. Interrupts (and
 * the APC vector 0x1F) go to KiInterruptDispatch (intobj.c). With no user mode yet, every
 * exception taken in kernel mode is a bugcheck with NT's code; a fault on a thread
 * stack's guard page (a kernel stack overflow) names the thread first. */
#include "bugcodes.h"
#include "ki.h"
#include "rtl.h"

/* A line before the STOP record: which thread's stack guard page was hit. */
static VOID KiReportGuardPage(ULONG_PTR Va)
{
    extern UCHAR KiDoubleFaultStackGuard[];
    if (Va >= (ULONG_PTR)KiDoubleFaultStackGuard && Va < (ULONG_PTR)KiDoubleFaultStackGuard + 4096) {
        DbgPrint("\n*** double-fault stack overflow: 0x%016llx is its guard page\n", (ULONG64)Va);
        return;
    }
    PKTHREAD t = KiFindGuardPageOwner(Va);
    if (t)
        DbgPrint("\n*** kernel stack overflow: 0x%016llx is the guard page of thread %u (%s), stack "
                 "0x%016llx-0x%016llx\n", (ULONG64)Va, t->ThreadId, t->Name, (ULONG64)t->StackLimit,
                 (ULONG64)t->StackBase);
}

#define PF_WRITE 0x2
#define PF_INSTRUCTION 0x10

VOID KiDispatchTrap(PKTRAP_FRAME TrapFrame)
{
    ULONG64 vector = TrapFrame->Vector;
    if (vector >= 0x20 || vector == APC_VECTOR) {
        KiInterruptDispatch(TrapFrame);
        return;
    }
    switch (vector) {
    case 8:
        /* A fault that could not push its frame: on a guard page, a kernel stack overflow. */
        KiReportGuardPage(TrapFrame->Rsp - 8);
        KiBugCheckWithTrapFrame(UNEXPECTED_KERNEL_MODE_TRAP, EXCEPTION_DOUBLE_FAULT, TrapFrame->ErrorCode,
                                TrapFrame->Rip, TrapFrame->Rsp, TrapFrame);
    case 14: {
        ULONG64 va = __readcr2();
        KiReportGuardPage(va);
        ULONG_PTR access = (TrapFrame->ErrorCode & PF_INSTRUCTION) ? 10 : (TrapFrame->ErrorCode & PF_WRITE) ? 1 : 0;
        KiBugCheckWithTrapFrame(PAGE_FAULT_IN_NONPAGED_AREA, va, access, TrapFrame->Rip, TrapFrame->ErrorCode,
                                TrapFrame);
    }
    case 0:
        KiBugCheckWithTrapFrame(KMODE_EXCEPTION_NOT_HANDLED, (ULONG)STATUS_INTEGER_DIVIDE_BY_ZERO, TrapFrame->Rip, 0,
                                0, TrapFrame);
    case 3:
        KiBugCheckWithTrapFrame(KMODE_EXCEPTION_NOT_HANDLED, (ULONG)STATUS_BREAKPOINT, TrapFrame->Rip, 0, 0,
                                TrapFrame);
    case 6:
        KiBugCheckWithTrapFrame(KMODE_EXCEPTION_NOT_HANDLED, (ULONG)STATUS_ILLEGAL_INSTRUCTION, TrapFrame->Rip, 0, 0,
                                TrapFrame);
    case 13:
        KiBugCheckWithTrapFrame(KMODE_EXCEPTION_NOT_HANDLED, (ULONG)STATUS_ACCESS_VIOLATION, TrapFrame->Rip,
                                TrapFrame->ErrorCode, 0, TrapFrame);
    default:
        KiBugCheckWithTrapFrame(UNEXPECTED_KERNEL_MODE_TRAP, vector, TrapFrame->ErrorCode, TrapFrame->Rip, 0,
                                TrapFrame);
    }
}
