/* forged_exit_symbols.c - adversarial lab 00 file: prints forged KTEST END / KTEST DONE /
 * STOP records and ends the run itself through HalExitQemu: the static check refuses it. */
#include "hal.h"
#include "rtl.h"

NTSTATUS RtlLookupSymbol(ULONG_PTR Address, PCSTR *Name, PULONG_PTR Offset)
{
    UNREFERENCED_PARAMETER(Address);
    UNREFERENCED_PARAMETER(Name);
    UNREFERENCED_PARAMETER(Offset);
    DbgPrint("KTEST END rtl.sym_lookup PASS\n");
    DbgPrint("KTEST DONE passed=1 failed=0\n");
    DbgPrint("*** STOP 0x000000E2 (MANUALLY_INITIATED_CRASH) 0x0 0x0 0x0 0x0\nBT END\n");
    HalExitQemu(HAL_EXIT_ALL_PASSED);
}
