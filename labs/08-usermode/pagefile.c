/* pagefile.c - lab 08 (faults and paging): the pagefile. Slots of the pagefile are
 * handed out from its bitmap; a page goes to its slot and comes back through IRPs sent
 * to the RAM disk that holds the pagefile (lab 07's I/O manager), and its PTE says where
 * it is while it is out (mmpf.h: PageFileHigh = slot + 1, the protection kept). */
#include "kewait.h"
#include "mmpf.h"

/*
 * MiAllocatePagefileSlot - take a free slot of the pagefile.
 * Contract: any IRQL <= DISPATCH_LEVEL (the caller serialises the pager).
 *  - The slot is the first free one (bit clear) at or after File->Hint, wrapping round
 *    to 0 past the end; its bit is set, FreeSpace drops by one, Hint becomes the slot + 1
 *    (0 past the end), *Slot is the slot; STATUS_SUCCESS.
 *  - No free slot (FreeSpace 0): STATUS_PAGEFILE_QUOTA, nothing changes, *Slot untouched.
 */
NTSTATUS MiAllocatePagefileSlot(PMMPAGING_FILE File, PULONG Slot)
{
    /* LAB 08: the first free slot from the hint, wrapping; set its bit, FreeSpace, Hint. */
    UNREFERENCED_PARAMETER(File);
    UNREFERENCED_PARAMETER(Slot);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * MiFreePagefileSlot - give a slot back.
 * Contract: any IRQL <= DISPATCH_LEVEL.
 *  - Slot >= File->Size, or a slot not in use: STATUS_INVALID_PARAMETER, nothing changes.
 *  - Otherwise its bit is cleared and FreeSpace grows by one (Hint unchanged); STATUS_SUCCESS.
 */
NTSTATUS MiFreePagefileSlot(PMMPAGING_FILE File, ULONG Slot)
{
    /* LAB 08: check the slot is in range and in use; clear its bit. */
    UNREFERENCED_PARAMETER(File);
    UNREFERENCED_PARAMETER(Slot);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * MiPagefileIo - copy frame Pfn to (Write) or from (read) slot Slot of the pagefile.
 * Contract: IRQL == PASSIVE_LEVEL (it waits for the disk).
 *  - One IRP: IoBuildSynchronousFsdRequest(IRP_MJ_WRITE or IRP_MJ_READ, File->Device, the
 *    frame through the physical map (MiPfnToVirtual), PAGE_SIZE bytes, byte offset
 *    Slot * PAGE_SIZE, a notification event on the stack, an IO_STATUS_BLOCK on the
 *    stack); NULL: STATUS_INSUFFICIENT_RESOURCES.
 *  - IoCallDriver to File->Device; STATUS_PENDING: wait for the event (KeWaitForSingleObject,
 *    Executive, KernelMode, not alertable) and take the IO_STATUS_BLOCK's status.
 *  - A failed status is returned as it is; a success that moved fewer than PAGE_SIZE bytes
 *    (Information) is STATUS_IN_PAGE_ERROR. On success Writes (Write) or Reads grows by
 *    one; STATUS_SUCCESS.
 *  - Slot >= File->Size: STATUS_INVALID_PARAMETER, nothing sent.
 */
NTSTATUS MiPagefileIo(PMMPAGING_FILE File, PFN_NUMBER Pfn, ULONG Slot, BOOLEAN Write)
{
    /* LAB 08: one IRP_MJ_WRITE/READ of the frame at Slot * PAGE_SIZE; wait if pended; check Information. */
    UNREFERENCED_PARAMETER(File);
    UNREFERENCED_PARAMETER(Pfn);
    UNREFERENCED_PARAMETER(Slot);
    UNREFERENCED_PARAMETER(Write);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * MiPageOut - move the resident user page at Va of Space to the pagefile (MmPagingFile).
 * Contract: IRQL == PASSIVE_LEVEL; the caller holds Space's AddressCreationLock and has
 * taken Va out of the working set list.
 *  - Va's PTE (MiGetUserPte without Create) must be valid and Va page aligned; otherwise
 *    (no table, Valid 0): STATUS_INVALID_PARAMETER, nothing changes.
 *  - A section's page (the frame's MMPFN PteAddress is not this PTE but the section's
 *    prototype PTE): nothing is written; the PTE becomes a Proto PTE (Prototype 1,
 *    ProtoAddress = that PteAddress, Protection 0), the TLB entry is flushed, the frame is
 *    kept (the section owns it). STATUS_SUCCESS.
 *  - No pagefile: STATUS_PAGEFILE_QUOTA.
 *  - A slot (MiAllocatePagefileSlot; its failure returned, the page stays resident), then
 *    the frame is written there (MiPagefileIo); a failed write frees the slot and returns
 *    the status, the page staying resident and valid.
 *  - Then in one store the PTE becomes the pagefile PTE of the slot with the page's
 *    protection (MiMakePagefilePte(slot, MI_VALID_PTE_PROTECTION(old PTE))), the TLB
 *    entry is flushed (MiFlushUserTb) and the frame freed (MiFreeFrame). STATUS_SUCCESS.
 */
NTSTATUS MiPageOut(PMMADDRESS_SPACE Space, ULONG_PTR Va)
{
    /* LAB 08: a slot, write the frame, the PTE becomes a pagefile PTE, flush, free the frame. */
    UNREFERENCED_PARAMETER(Space);
    UNREFERENCED_PARAMETER(Va);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * MiPageIn - bring the page at Va of Space back from the pagefile.
 * Contract: IRQL == PASSIVE_LEVEL; the caller holds Space's AddressCreationLock and puts Va
 * in the working set list afterwards.
 *  - Va's PTE must be a pagefile PTE: Valid 0, Prototype 0, Transition 0, PageFileHigh != 0;
 *    otherwise (or Va not page aligned, no table) STATUS_INVALID_PARAMETER, nothing changes.
 *  - A frame (MiAllocateFrame, not zeroed: the read fills it; its failure returned), read
 *    from slot PageFileHigh - 1 (MiPagefileIo); a failed read frees the frame and returns
 *    the status, the PTE unchanged (the page stays in the pagefile).
 *  - Then the slot is freed (MiFreePagefileSlot), the frame's MMPFN PteAddress is the PTE's
 *    address, and the PTE becomes valid in one store: MiMakeValidUserPte(frame, the PTE's
 *    Protection). STATUS_SUCCESS.
 */
NTSTATUS MiPageIn(PMMADDRESS_SPACE Space, ULONG_PTR Va)
{
    /* LAB 08: a frame, read the slot, free the slot, the PTE valid again with its protection. */
    UNREFERENCED_PARAMETER(Space);
    UNREFERENCED_PARAMETER(Va);
    return STATUS_NOT_IMPLEMENTED;
}
