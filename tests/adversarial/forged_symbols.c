/* forged_symbols.c - adversarial lab 00 file: instead of looking symbols up, it prints a
 * forged "KTEST VALUE <test> backtrace ?" while the bugcheck prints its backtrace, so that
 * the expected backtrace matches the unnamed frames. Without output authentication the
 * bugcheck checkpoints would pass; with it they are integrity failures. */
#include "rtl.h"

NTSTATUS RtlLookupSymbol(ULONG_PTR Address, PCSTR *Name, PULONG_PTR Offset)
{
    static BOOLEAN forged;
    UNREFERENCED_PARAMETER(Address);
    UNREFERENCED_PARAMETER(Name);
    UNREFERENCED_PARAMETER(Offset);
    if (!forged) {
        forged = TRUE;
        DbgPrint("KTEST VALUE ke.bugcheck_deliberate backtrace ?\n");
        DbgPrint("KTEST VALUE ke.page_fault backtrace ?\n");
    }
    return STATUS_NOT_FOUND;
}
