/* trap.c - KiDispatchTrap: what happens on an exception or interrupt. With no
 * user mode yet, every exception taken in kernel mode is a bugcheck with NT's code. */
#include "arch.h"
#include "bugcodes.h"
#include "ke.h"
#include "rtl.h"

#define PF_WRITE 0x2
#define PF_INSTRUCTION 0x10

VOID KiDispatchTrap(PKTRAP_FRAME TrapFrame)
{
    ULONG64 vector = TrapFrame->Vector;
    if (vector >= 0x20) {
        /* Legacy PIC interrupts are masked; acknowledge anything spurious. */
        if (vector < 0x30) {
            if (vector >= 0x28)
                __outbyte(0xA0, 0x20);
            __outbyte(0x20, 0x20);
        }
        return;
    }
    switch (vector) {
    case 14: {
        ULONG64 va = __readcr2();
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
