/* mdl.c - memory descriptor lists over nonpaged memory (framework, lab 07): the physical
 * frames behind a buffer, for direct I/O. NT locks pageable pages first
 * (MmProbeAndLockPages); every buffer here is resident, so building the frame list is all. */
#include "io.h"
#include "mm.h"

#define MDL_POOL_TAG POOL_TAG('M', 'd', 'l', ' ')

PMDL IoAllocateMdl(PVOID VirtualAddress, ULONG Length, BOOLEAN SecondaryBuffer, BOOLEAN ChargeQuota, PIRP Irp)
{
    UNREFERENCED_PARAMETER(ChargeQuota);
    if (Length == 0)
        return NULL;
    ULONG pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(VirtualAddress, Length);
    SIZE_T size = sizeof(MDL) + pages * sizeof(ULONG64);
    PMDL mdl = ExAllocatePoolWithTag(NonPagedPool, size, MDL_POOL_TAG);
    if (mdl == NULL)
        return NULL;
    mdl->Next = NULL;
    mdl->Size = (SHORT)size;
    mdl->MdlFlags = 0;
    mdl->MappedSystemVa = NULL;
    mdl->StartVa = (PVOID)((ULONG_PTR)VirtualAddress & ~(ULONG_PTR)(PAGE_SIZE - 1));
    mdl->ByteOffset = (ULONG)((ULONG_PTR)VirtualAddress & (PAGE_SIZE - 1));
    mdl->ByteCount = Length;
    PULONG64 pfns = MmGetMdlPfnArray(mdl);
    for (ULONG i = 0; i < pages; i++)
        pfns[i] = 0;
    if (Irp != NULL) {
        if (!SecondaryBuffer || Irp->MdlAddress == NULL) {
            Irp->MdlAddress = mdl;
        } else {
            PMDL last = Irp->MdlAddress;
            while (last->Next != NULL)
                last = last->Next;
            last->Next = mdl;
        }
    }
    return mdl;
}

VOID IoFreeMdl(PMDL Mdl)
{
    ExFreePoolWithTag(Mdl, MDL_POOL_TAG);
}

static ULONG64 IopPhysicalAddress(ULONG_PTR Va)
{
    if (Va >= MM_PHYSICAL_MAP_BASE && Va < MM_PHYSICAL_MAP_BASE + MM_PHYSICAL_MAP_SIZE)
        return Va - MM_PHYSICAL_MAP_BASE;
    ULONG64 physical = 0;
    if (!NT_SUCCESS(MmTranslateAddress(MiCurrentPml4(), Va, &physical)))
        return 0;
    return physical;
}

VOID MmBuildMdlForNonPagedPool(PMDL Mdl)
{
    ULONG pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(Mdl), Mdl->ByteCount);
    PULONG64 pfns = MmGetMdlPfnArray(Mdl);
    for (ULONG i = 0; i < pages; i++)
        pfns[i] = IopPhysicalAddress((ULONG_PTR)Mdl->StartVa + i * PAGE_SIZE) >> PAGE_SHIFT;
    Mdl->MappedSystemVa = MmGetMdlVirtualAddress(Mdl);
    Mdl->MdlFlags |= MDL_SOURCE_IS_NONPAGED_POOL;
}

PVOID MmGetSystemAddressForMdlSafe(PMDL Mdl, ULONG Priority)
{
    UNREFERENCED_PARAMETER(Priority);
    if (Mdl->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL))
        return Mdl->MappedSystemVa;
    return NULL;
}
