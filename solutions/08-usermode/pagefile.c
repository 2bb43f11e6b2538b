/* pagefile.c - lab 08 (faults and paging): the pagefile. Slots of the pagefile are
 * handed out from its bitmap; a page goes to its slot and comes back through IRPs sent
 * to the RAM disk that holds the pagefile (lab 07's I/O manager), and its PTE says where
 * it is while it is out (mmpf.h: PageFileHigh = slot + 1, the protection kept). */
#include "kewait.h"
#include "mmpf.h"

static BOOLEAN MiSlotInUse(PMMPAGING_FILE File, ULONG Slot)
{
    return (File->Bitmap[Slot / 64] >> (Slot % 64)) & 1;
}

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
    if (File->FreeSpace == 0)
        return STATUS_PAGEFILE_QUOTA;
    ULONG s = File->Hint < File->Size ? File->Hint : 0;
    for (ULONG n = 0; n < File->Size; n++) {
        if (!MiSlotInUse(File, s)) {
            File->Bitmap[s / 64] |= 1ULL << (s % 64);
            File->FreeSpace--;
            File->Hint = s + 1 == File->Size ? 0 : s + 1;
            *Slot = s;
            return STATUS_SUCCESS;
        }
        s = s + 1 == File->Size ? 0 : s + 1;
    }
    return STATUS_PAGEFILE_QUOTA;
}

/*
 * MiFreePagefileSlot - give a slot back.
 * Contract: any IRQL <= DISPATCH_LEVEL.
 *  - Slot >= File->Size, or a slot not in use: STATUS_INVALID_PARAMETER, nothing changes.
 *  - Otherwise its bit is cleared and FreeSpace grows by one (Hint unchanged); STATUS_SUCCESS.
 */
NTSTATUS MiFreePagefileSlot(PMMPAGING_FILE File, ULONG Slot)
{
    if (Slot >= File->Size || !MiSlotInUse(File, Slot))
        return STATUS_INVALID_PARAMETER;
    File->Bitmap[Slot / 64] &= ~(1ULL << (Slot % 64));
    File->FreeSpace++;
    return STATUS_SUCCESS;
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
    if (Slot >= File->Size)
        return STATUS_INVALID_PARAMETER;
    KEVENT event;
    IO_STATUS_BLOCK iosb;
    KeInitializeEvent(&event, NotificationEvent, FALSE);
    iosb.Status = STATUS_UNSUCCESSFUL;
    iosb.Information = 0;
    PIRP irp = IoBuildSynchronousFsdRequest(Write ? IRP_MJ_WRITE : IRP_MJ_READ, File->Device, MiPfnToVirtual(Pfn),
                                            (ULONG)PAGE_SIZE, (LONGLONG)Slot * (LONGLONG)PAGE_SIZE, &event, &iosb);
    if (irp == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    NTSTATUS status = IoCallDriver(File->Device, irp);
    if (status == STATUS_PENDING) {
        KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, NULL);
        status = iosb.Status;
    }
    if (!NT_SUCCESS(status))
        return status;
    if (iosb.Information != PAGE_SIZE)
        return STATUS_IN_PAGE_ERROR;
    if (Write)
        File->Writes++;
    else
        File->Reads++;
    return STATUS_SUCCESS;
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
    PMMPTE pte = MiGetUserPte(Space, Va, FALSE);
    if (pte == NULL || !pte->Hard.Valid || (Va & (PAGE_SIZE - 1)) != 0)
        return STATUS_INVALID_PARAMETER;
    MMPTE old = *pte;
    PFN_NUMBER pfn = old.Hard.PageFrameNumber;
    ULONG64 owner = MI_PFN_ELEMENT(pfn)->PteAddress;
    if (owner != (ULONG64)pte) {
        /* A section's frame: it stays; the PTE leads back to the prototype. */
        MMPTE proto = {0};
        proto.Proto.Prototype = 1;
        proto.Proto.ProtoAddress = (LONG64)owner;
        pte->Long = proto.Long;
        MiFlushUserTb(Space, Va);
        return STATUS_SUCCESS;
    }
    PMMPAGING_FILE file = MmPagingFile;
    if (file == NULL)
        return STATUS_PAGEFILE_QUOTA;
    ULONG slot;
    NTSTATUS status = MiAllocatePagefileSlot(file, &slot);
    if (!NT_SUCCESS(status))
        return status;
    status = MiPagefileIo(file, pfn, slot, TRUE);
    if (!NT_SUCCESS(status)) {
        MiFreePagefileSlot(file, slot);
        return status;
    }
    pte->Long = MiMakePagefilePte(slot, MI_VALID_PTE_PROTECTION(old));
    MiFlushUserTb(Space, Va);
    MiFreeFrame(pfn);
    return STATUS_SUCCESS;
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
    PMMPTE pte = MiGetUserPte(Space, Va, FALSE);
    if (pte == NULL || (Va & (PAGE_SIZE - 1)) != 0)
        return STATUS_INVALID_PARAMETER;
    MMPTE old = *pte;
    if (old.Hard.Valid || old.Soft.Prototype || old.Soft.Transition || old.Soft.PageFileHigh == 0)
        return STATUS_INVALID_PARAMETER;
    PMMPAGING_FILE file = MmPagingFile;
    if (file == NULL)
        return STATUS_PAGEFILE_QUOTA;
    ULONG slot = old.Soft.PageFileHigh - 1;
    PFN_NUMBER pfn;
    NTSTATUS status = MiAllocateFrame(0, &pfn);
    if (!NT_SUCCESS(status))
        return status;
    status = MiPagefileIo(file, pfn, slot, FALSE);
    if (!NT_SUCCESS(status)) {
        MiFreeFrame(pfn);
        return status;
    }
    MiFreePagefileSlot(file, slot);
    MI_PFN_ELEMENT(pfn)->PteAddress = (ULONG64)pte;
    pte->Long = MiMakeValidUserPte(pfn, old.Soft.Protection).Long;
    return STATUS_SUCCESS;
}
