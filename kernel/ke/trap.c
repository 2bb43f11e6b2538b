/* trap.c - KiDispatchTrap: what happens on an exception or interrupt. Interrupts (and
 * the APC vector 0x1F) go to KiInterruptDispatch (intobj.c). An exception taken in user
 * mode goes to the process: a page fault first to the memory manager (MmAccessFault), and
 * what is not resolved goes to the process's exception dispatcher (ke/exceptn.c), which ends
 * the process with the exception's code when nothing handles it - never a bugcheck
 * (KiDispatchUserTrap). In kernel mode, a page fault on a user address goes to the memory
 * manager too; a fault in a user-access routine resumes at its fixup (the exception-fixup
 * table, arch/x86_64/usercopy.asm); anything else is a bugcheck with NT's code, and a
 * fault on a thread stack's guard page (a kernel stack overflow) names the thread first. */
#include "bugcodes.h"
#include "ki.h"
#include "kuser.h"
#include "mm.h"
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

/* Until the memory manager's page-fault handler exists (lab 08, pf), nothing resolves. */
__attribute__((weak)) NTSTATUS MmAccessFault(ULONG FaultStatus, PVOID VirtualAddress, KPROCESSOR_MODE PreviousMode,
                                             PVOID TrapInformation)
{
    UNREFERENCED_PARAMETER(FaultStatus);
    UNREFERENCED_PARAMETER(VirtualAddress);
    UNREFERENCED_PARAMETER(PreviousMode);
    UNREFERENCED_PARAMETER(TrapInformation);
    return STATUS_ACCESS_VIOLATION;
}

#define STATUS_SINGLE_STEP ((NTSTATUS)0x80000004L)
#define STATUS_INTEGER_OVERFLOW ((NTSTATUS)0xC0000095L)
#define STATUS_FLOAT_INVALID_OPERATION ((NTSTATUS)0xC0000090L)
#define STATUS_FLOAT_MULTIPLE_TRAPS ((NTSTATUS)0xC00002B5L)

/* Is the instruction at a user RIP one that only ring 0 may run (then a #GP is
 * STATUS_PRIVILEGED_INSTRUCTION, as on NT, rather than an access violation)? */
static BOOLEAN KiIsPrivilegedInstruction(ULONG64 Rip)
{
    UCHAR b[3] = {0};
    if (Rip > MM_HIGHEST_USER_ADDRESS - 3 || !NT_SUCCESS(KeCopyFromUser(b, (PVOID)Rip, 2)))
        return FALSE;
    switch (b[0]) {
    case 0xF4: case 0xFA: case 0xFB:                   /* hlt, cli, sti */
    case 0xE4: case 0xE5: case 0xE6: case 0xE7:        /* in/out imm8 */
    case 0xEC: case 0xED: case 0xEE: case 0xEF:        /* in/out dx */
    case 0x6C: case 0x6D: case 0x6E: case 0x6F:        /* ins/outs */
        return TRUE;
    case 0x0F:
        return b[1] == 0x20 || b[1] == 0x22 || b[1] == 0x21 || b[1] == 0x23 || b[1] == 0x30 || b[1] == 0x32 ||
               b[1] == 0x06 || b[1] == 0x08 || b[1] == 0x09 || b[1] == 0x01 || b[1] == 0x00;
    default:
        return FALSE;
    }
}

/* An exception or interrupt taken in user mode (CS RPL 3). */
static VOID KiDispatchUserTrap(PKTRAP_FRAME TrapFrame)
{
    PKTHREAD thread = KeGetCurrentThread();
    ULONG64 vector = TrapFrame->Vector;
    TrapFrame->PreviousMode = (ULONG64)thread->PreviousMode;
    thread->PreviousMode = UserMode;
    if (vector >= 0x20 || vector == APC_VECTOR) {
        KiInterruptDispatch(TrapFrame);
    } else {
        NTSTATUS code;
        ULONG64 info0 = 0, info1 = 0;
        _enable(); /* user mode ran with interrupts on: the handling may wait (a page-in) */
        switch (vector) {
        case 14: {
            ULONG64 va = __readcr2();
            NTSTATUS status = MmAccessFault((ULONG)TrapFrame->ErrorCode, (PVOID)va, UserMode, TrapFrame);
            if (NT_SUCCESS(status)) {
                code = STATUS_SUCCESS;
                break;
            }
            /* What MmAccessFault could not resolve: a guard page's status as it gave it, else
             * an access violation with the access (0 read, 1 write, 8 execute) and the address. */
            code = (status == (NTSTATUS)0x80000001L) ? status : STATUS_ACCESS_VIOLATION;
            info0 = (TrapFrame->ErrorCode & PF_INSTRUCTION) ? 8 : (TrapFrame->ErrorCode & PF_WRITE) ? 1 : 0;
            info1 = va;
            break;
        }
        case 0: code = STATUS_INTEGER_DIVIDE_BY_ZERO; break;
        case 1: code = STATUS_SINGLE_STEP; break;
        case 3: code = STATUS_BREAKPOINT; TrapFrame->Rip--; break; /* the int3's own address */
        case 4: code = STATUS_INTEGER_OVERFLOW; break;
        case 5: code = STATUS_ARRAY_BOUNDS_EXCEEDED; break;
        case 6: code = STATUS_ILLEGAL_INSTRUCTION; break;
        case 16: code = STATUS_FLOAT_INVALID_OPERATION; break;
        case 17: code = STATUS_DATATYPE_MISALIGNMENT; break;
        case 19: code = STATUS_FLOAT_MULTIPLE_TRAPS; break;
        case 13:
            code = KiIsPrivilegedInstruction(TrapFrame->Rip) ? STATUS_PRIVILEGED_INSTRUCTION : STATUS_ACCESS_VIOLATION;
            if (code == STATUS_ACCESS_VIOLATION)
                info1 = ~0ULL; /* NT's "address unknown" for a #GP */
            break;
        default: code = STATUS_ILLEGAL_INSTRUCTION; break;
        }
        /* w16x: to the process's exception dispatcher (ke/exceptn.c), which ends the process
         * when nothing handles it; an access violation carries the access and the address. */
        if (code != STATUS_SUCCESS)
            KiDispatchUserException(TrapFrame, code, TrapFrame->Rip,
                                    (code == STATUS_ACCESS_VIOLATION || code == (NTSTATUS)0x80000001L) ? 2 : 0,
                                    info0, info1);
        _disable();
    }
    KiExitToUserMode(TrapFrame);
    _disable();
    thread->PreviousMode = (KPROCESSOR_MODE)TrapFrame->PreviousMode;
}

/* A kernel-mode fault in a user-access routine resumes at its fixup. */
static BOOLEAN KiTryFixup(PKTRAP_FRAME TrapFrame)
{
    ULONG64 fixup = KiFindFixup(TrapFrame->Rip);
    if (!fixup)
        return FALSE;
    TrapFrame->Rip = fixup;
    KiFixupCount++;
    return TRUE;
}

VOID KiDispatchTrap(PKTRAP_FRAME TrapFrame)
{
    ULONG64 vector = TrapFrame->Vector;
    if (TrapFrame->SegCs & 3) {
        KiDispatchUserTrap(TrapFrame);
        return;
    }
    if (vector >= 0x20 || vector == APC_VECTOR) {
        KiInterruptDispatch(TrapFrame);
        return;
    }
    if (vector == 14) {
        ULONG64 va = __readcr2();
        /* A user address touched by the kernel on behalf of a process: the memory manager
         * may bring it in (below DISPATCH_LEVEL, where it may wait). */
        if (va <= MM_HIGHEST_USER_ADDRESS && KeGetCurrentThread() && __readcr8() < DISPATCH_LEVEL) {
            if (TrapFrame->EFlags & EFLAGS_IF)
                _enable();
            NTSTATUS status = MmAccessFault((ULONG)TrapFrame->ErrorCode, (PVOID)va, KernelMode, TrapFrame);
            _disable();
            if (NT_SUCCESS(status))
                return;
        }
        if (KiTryFixup(TrapFrame))
            return;
    }
    if (vector == 13 && KiTryFixup(TrapFrame))
        return;
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
