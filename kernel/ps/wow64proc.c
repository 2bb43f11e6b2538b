/* wow64proc.c - which processes are WOW64 (lab 09's framework): a process created from a
 * 32-bit image gets its 32-bit PEB and its address limit here. Kept in a small table of its
 * own, beside EPROCESS, so lab 08's process object stays as lab 08 made it; the process's
 * deletion clears its entry (PsSetProcessWow64(Process, 0, 0)). */
#include "kespin.h"
#include "mm.h"
#include "ps.h"
#include "wow64t.h"

#define PSP_WOW64_MAX 32

typedef struct _PSP_WOW64_ENTRY {
    PEPROCESS Process;
    ULONG Peb32;
    ULONG HighestUserAddress;
} PSP_WOW64_ENTRY;

static PSP_WOW64_ENTRY PspWow64Table[PSP_WOW64_MAX];
static KSPIN_LOCK PspWow64Lock;

static PSP_WOW64_ENTRY *PspFindWow64(PEPROCESS Process)
{
    for (ULONG i = 0; i < PSP_WOW64_MAX; i++)
        if (PspWow64Table[i].Process == Process)
            return &PspWow64Table[i];
    return NULL;
}

NTSTATUS PsSetProcessWow64(PEPROCESS Process, ULONG Peb32, ULONG HighestUserAddress)
{
    if (Process == NULL)
        return STATUS_INVALID_PARAMETER;
    if (Peb32 != 0 && HighestUserAddress != MM_HIGHEST_USER_ADDRESS_WOW64 &&
        HighestUserAddress != MM_HIGHEST_USER_ADDRESS_WOW64_LAA)
        return STATUS_INVALID_PARAMETER;
    KIRQL irql;
    NTSTATUS status = STATUS_SUCCESS;
    KeAcquireSpinLock(&PspWow64Lock, &irql);
    PSP_WOW64_ENTRY *entry = PspFindWow64(Process);
    if (Peb32 == 0) {
        if (entry)
            entry->Process = NULL;
    } else {
        if (entry == NULL)
            entry = PspFindWow64(NULL);
        if (entry == NULL) {
            status = STATUS_INSUFFICIENT_RESOURCES;
        } else {
            entry->Process = Process;
            entry->Peb32 = Peb32;
            entry->HighestUserAddress = HighestUserAddress;
        }
    }
    KeReleaseSpinLock(&PspWow64Lock, irql);
    return status;
}

PVOID PsGetProcessWow64Process(PEPROCESS Process)
{
    if (Process == NULL)
        return NULL;
    KIRQL irql;
    KeAcquireSpinLock(&PspWow64Lock, &irql);
    PSP_WOW64_ENTRY *entry = PspFindWow64(Process);
    PVOID peb32 = entry ? (PVOID)(ULONG_PTR)entry->Peb32 : NULL;
    KeReleaseSpinLock(&PspWow64Lock, irql);
    return peb32;
}

ULONG_PTR PsProcessHighestUserAddress(PEPROCESS Process)
{
    ULONG_PTR limit = MM_HIGHEST_USER_ADDRESS;
    if (Process == NULL)
        return limit;
    KIRQL irql;
    KeAcquireSpinLock(&PspWow64Lock, &irql);
    PSP_WOW64_ENTRY *entry = PspFindWow64(Process);
    if (entry)
        limit = entry->HighestUserAddress;
    KeReleaseSpinLock(&PspWow64Lock, irql);
    return limit;
}

NTSTATUS PsWow64CheckAllocation(PEPROCESS Process, ULONG_PTR Base, SIZE_T Size, PULONG_PTR ZeroBits,
                                PULONG AllocationType)
{
    if (*ZeroBits > 32) {
        /* The mask form: the largest count whose bound fits in the mask. */
        ULONG_PTR mask = *ZeroBits;
        ULONG n = 0;
        while (n < 21 && ((1ULL << (32 - n)) - 1) > mask)
            n++;
        if (n == 0 && mask < MM_HIGHEST_USER_ADDRESS)
            *AllocationType &= ~MEM_TOP_DOWN;
        *ZeroBits = n;
    }
    ULONG_PTR limit = PsProcessHighestUserAddress(Process);
    if (limit >= MM_HIGHEST_USER_ADDRESS)
        return STATUS_SUCCESS;
    if (Base != 0) {
        if (Base > limit)
            return STATUS_INVALID_PARAMETER_2;
        if (Size != 0 && (Base + Size - 1 > limit || Base + Size < Base))
            return STATUS_INVALID_PARAMETER_4;
    }
    if (*ZeroBits == 0) {
        if (limit <= 0x7FFFFFFF)
            *ZeroBits = 1;
        else
            *AllocationType &= ~MEM_TOP_DOWN;
    }
    return STATUS_SUCCESS;
}

BOOLEAN PsWow64AboveLimit(PEPROCESS Process, ULONG_PTR Base, SIZE_T Size)
{
    ULONG_PTR limit = PsProcessHighestUserAddress(Process);
    return limit < MM_HIGHEST_USER_ADDRESS && Size != 0 && (Base + Size - 1 > limit || Base + Size < Base);
}
