/* bugcodes.c - names of the bugcheck codes, for the STOP line. */
#include "bugcodes.h"
#include "ke.h"

static const struct {
    ULONG Code;
    PCSTR Name;
} KiBugCheckNames[] = {
    {IRQL_NOT_GREATER_OR_EQUAL, "IRQL_NOT_GREATER_OR_EQUAL"},
    {IRQL_NOT_LESS_OR_EQUAL, "IRQL_NOT_LESS_OR_EQUAL"},
    {KMODE_EXCEPTION_NOT_HANDLED, "KMODE_EXCEPTION_NOT_HANDLED"},
    {PHASE1_INITIALIZATION_FAILED, "PHASE1_INITIALIZATION_FAILED"},
    {PFN_LIST_CORRUPT, "PFN_LIST_CORRUPT"},
    {PAGE_FAULT_IN_NONPAGED_AREA, "PAGE_FAULT_IN_NONPAGED_AREA"},
    {UNEXPECTED_KERNEL_MODE_TRAP, "UNEXPECTED_KERNEL_MODE_TRAP"},
    {MANUALLY_INITIATED_CRASH, "MANUALLY_INITIATED_CRASH"},
    {BAD_POOL_HEADER, "BAD_POOL_HEADER"},
    {BAD_POOL_CALLER, "BAD_POOL_CALLER"},
};

PCSTR KeBugCheckCodeName(ULONG BugCheckCode)
{
    for (ULONG i = 0; i < ARRAYSIZE(KiBugCheckNames); i++)
        if (KiBugCheckNames[i].Code == BugCheckCode)
            return KiBugCheckNames[i].Name;
    return "UNKNOWN_BUGCHECK_CODE";
}
