/* bugcheck.c - KeBugCheckEx: prints the STOP line and a symbolised backtrace on the
 * serial port, then ends the run. The backtrace uses the lab 00 student code
 * (RtlpWalkFrameChain, RtlLookupSymbol); a fault while printing is caught. With a
 * grader key, the STOP and BT lines are tagged: "STOP AUTH <hex>" follows the backtrace. */
#include "arch.h"
#include "hal.h"
#include "ki.h"
#include "ktest.h"
#include "rtl.h"
#include "stopdata.h"

/* Prints one line of the STOP record (STOP, BT) and adds it to the STOP tag. */
static VOID KiStopRecord(PCSTR Format, ...) __attribute__((format(printf, 1, 2)));
static VOID KiStopRecord(PCSTR Format, ...)
{
    CHAR line[512];
    va_list args;
    va_start(args, Format);
    SIZE_T length = KtWriteRecordV(line, sizeof(line), TRUE, Format, args);
    va_end(args);
    KtAuthStopLine(line, length);
}

#define KI_MAX_BACKTRACE 32
static volatile ULONG KiBugCheckActive;

static VOID KiPrintBacktrace(PKTRAP_FRAME TrapFrame)
{
    PVOID frames[KI_MAX_BACKTRACE];
    ULONG count = 0, captured = 0;
    ULONG_PTR low, high, rbp;
    BOOLEAN firstIsPc = FALSE;

    if (TrapFrame) {
        /* Frame 0 is where the trap happened; the chain continues from its RBP. */
        frames[count++] = (PVOID)TrapFrame->Rip;
        firstIsPc = TRUE;
        rbp = TrapFrame->Rbp;
        KeGetStackBoundsFor(TrapFrame->Rsp, &low, &high);
    } else {
        rbp = (ULONG_PTR)__builtin_frame_address(0);
        KeGetCurrentStackBounds(&low, &high);
    }

    NTSTATUS status = RtlpWalkFrameChain(rbp, low, high, frames + count, KI_MAX_BACKTRACE - count, &captured);
    if (status == STATUS_NOT_IMPLEMENTED) {
        KiStopRecord("BT UNAVAILABLE RtlpWalkFrameChain is not implemented (lab 00 stub)");
        return;
    }
    if (!NT_SUCCESS(status)) {
        KiStopRecord("BT UNAVAILABLE RtlpWalkFrameChain failed with status 0x%08X", (ULONG)status);
        return;
    }
    if (captured > KI_MAX_BACKTRACE - count) {
        KiStopRecord("BT UNAVAILABLE RtlpWalkFrameChain reported %u frames for a buffer of %u", captured,
                 KI_MAX_BACKTRACE - count);
        return;
    }
    count += captured;

    BOOLEAN lookupMissing = FALSE;
    for (ULONG i = 0; i < count; i++) {
        ULONG_PTR pc = (ULONG_PTR)frames[i];
        /* A return address may point just past a call at the end of a function:
         * look up the call instruction itself (pc - 1). */
        ULONG_PTR probe = (i == 0 && firstIsPc) ? pc : pc - 1;
        PCSTR name = NULL;
        ULONG_PTR offset = 0;
        status = RtlLookupSymbol(probe, &name, &offset);
        if (NT_SUCCESS(status) && name)
            KiStopRecord("BT %u 0x%016llx %s+0x%llx", i, (ULONG64)pc, name, (ULONG64)(offset + (pc - probe)));
        else {
            KiStopRecord("BT %u 0x%016llx ?", i, (ULONG64)pc);
            lookupMissing |= (status == STATUS_NOT_IMPLEMENTED);
        }
    }
    KiStopRecord("BT END");
    if (lookupMissing)
        DbgPrint("(no names: RtlLookupSymbol is not implemented, lab 00 stub)\n");
}

DECLSPEC_NORETURN VOID KiBugCheckWithTrapFrame(ULONG BugCheckCode, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3,
                                               ULONG_PTR P4, PKTRAP_FRAME TrapFrame)
{
    _disable();
    HalSerialNewLineIfNeeded();
    if (KiBugCheckActive++) {
        DbgPrint("*** STOP during bugcheck: 0x%08X (%s) 0x%016llX 0x%016llX 0x%016llX 0x%016llX\n", BugCheckCode,
                 KeBugCheckCodeName(BugCheckCode), (ULONG64)P1, (ULONG64)P2, (ULONG64)P3, (ULONG64)P4);
        if (TrapFrame)
            DbgPrint("*** STOP during bugcheck: trap at RIP 0x%016llx while printing the backtrace\n",
                     (ULONG64)TrapFrame->Rip);
        HalExitQemu(HAL_EXIT_BUGCHECK);
    }
    KiRecordBugCheck(BugCheckCode, P1, P2, P3, P4, TrapFrame);
    KtAuthStopBegin();
    KiStopRecord("*** STOP 0x%08X (%s) 0x%016llX 0x%016llX 0x%016llX 0x%016llX", BugCheckCode,
                 KeBugCheckCodeName(BugCheckCode), (ULONG64)P1, (ULONG64)P2, (ULONG64)P3, (ULONG64)P4);
    KiPrintBacktrace(TrapFrame);
    KtAuthStopEnd();
    KiEndRunAfterBugCheck();
}

DECLSPEC_NORETURN DECLSPEC_NOINLINE VOID KeBugCheckEx(ULONG BugCheckCode, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3,
                                                      ULONG_PTR P4)
{
    KiBugCheckWithTrapFrame(BugCheckCode, P1, P2, P3, P4, NULL);
}

DECLSPEC_NORETURN VOID KeBugCheck(ULONG BugCheckCode)
{
    KeBugCheckEx(BugCheckCode, 0, 0, 0, 0);
}
