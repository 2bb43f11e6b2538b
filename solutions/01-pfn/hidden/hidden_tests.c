/* hidden_tests.c - lab 01 hidden tests: freeing a reserved frame. */
#include "bugcodes.h"
#include "pfn_audit.h"

extern UCHAR KiImageStartPhysical[];

KTEST_STOP("pfn.free_reserved", KtTestPfnFreeReserved)
{
    if (!KtPfnReady(Context))
        return;
    PFN_NUMBER pfn = ((ULONG64)KiImageStartPhysical >> PAGE_SHIFT) + KtRandomRange(Context, 0, 3);
    KtValue(Context, "stop_params", "0x99 0x%llx * *", pfn);
    NTSTATUS status = MmFreePhysicalPage(pfn);
    if (!KtRequireImplemented(Context, status, "MmFreePhysicalPage", "lab 01"))
        return;
    KtFail(Context, "free_reserved", "freeing kernel-image frame 0x%llx returned 0x%08X instead of bugchecking", pfn,
           (ULONG)status);
}
