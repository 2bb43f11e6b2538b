/* virtual.c - lab 08: private virtual memory, NT's way. A process first *reserves* a range
 * of its address space (a VAD: no memory yet, only the promise that nothing else goes
 * there), then *commits* pages of it (they count in the process's private bytes and read
 * as zeros; a frame is only taken when a page is first touched - the fault handler's
 * job), may change their protection, *decommit* them (back to reserved, the frames go)
 * and finally *release* the whole reservation. The framework (kernel/mm/vmsvc.c) captures
 * the caller's arguments, attaches to the process and holds its AddressCreationLock around
 * every routine here. The PTE states and protection codes: kernel/mm/mi.h. */
#include "mivm.h"
#include "ex.h"
#include "rtl.h"

/* The state of the page at Va of Vad: TRUE if committed (its MM protection code in
 * *Protection), FALSE if only reserved (mi.h, "The states of a user PTE"). */
static BOOLEAN MiIsPageCommitted(PMMADDRESS_SPACE Space, PMMVAD Vad, ULONG_PTR Va, PULONG Protection)
{
    MMPTE pte = MiReadUserPte(Space, Va);
    if (pte.Long == 0) {
        *Protection = Vad->u.VadFlags.Protection;
        return Vad->u.VadFlags.MemCommit;
    }
    if (MI_IS_DECOMMITTED_PTE(pte))
        return FALSE;
    ULONG p = MiGetPteProtection(pte);
    *Protection = p ? p : Vad->u.VadFlags.Protection;
    return TRUE;
}

/* [*Start, *End] (inclusive) = the pages that [Base, Base + Size) touches; FALSE when the
 * sum wraps or passes the top of user space. */
static BOOLEAN MiPageRange(ULONG_PTR Base, SIZE_T Size, PULONG_PTR Start, PULONG_PTR End)
{
    if (Size > MM_HIGHEST_VAD_ADDRESS + 1 || Base + Size - 1 > MM_HIGHEST_VAD_ADDRESS)
        return FALSE;
    *Start = ALIGN_DOWN(Base, PAGE_SIZE);
    *End = ALIGN_UP(Base + Size, PAGE_SIZE) - 1;
    return TRUE;
}

static VOID MiChargeCommit(PMMADDRESS_SPACE Space, PMMVAD Vad, SIZE_T Pages)
{
    Vad->CommitCharge += Pages;
    Space->CommitCharge += Pages;
    if (Space->CommitCharge > Space->PeakCommitCharge)
        Space->PeakCommitCharge = Space->CommitCharge;
}

/*
 * MiAllocateVirtualMemory - NtAllocateVirtualMemory's semantics on Space. IRQL
 * PASSIVE_LEVEL (APC_LEVEL at most), Space attached and its AddressCreationLock held.
 * Arguments are kernel copies; write *BaseAddress and *RegionSize only on success.
 *  1. AllocationType: MEM_COMMIT and/or MEM_RESERVE, optionally MEM_TOP_DOWN; anything
 *     else (no COMMIT nor RESERVE, another bit) -> STATUS_INVALID_PARAMETER_5.
 *  2. Protect: MiMakeProtectionMask; MM_INVALID_PROTECTION or a copy-on-write protection
 *     (private memory cannot be copy-on-write) -> STATUS_INVALID_PAGE_PROTECTION.
 *  3. ZeroBits > 21 -> STATUS_INVALID_PARAMETER_3. ZeroBits n (1..21) keeps a chosen base
 *     below 2^(32-n) (the whole range ends below it); 0: up to MM_HIGHEST_VAD_ADDRESS.
 *  4. *RegionSize 0 -> STATUS_INVALID_PARAMETER_4; *BaseAddress above
 *     MM_HIGHEST_VAD_ADDRESS -> STATUS_INVALID_PARAMETER_2; a range past
 *     MM_HIGHEST_VAD_ADDRESS (or wrapping) -> STATUS_INVALID_PARAMETER_4.
 *  5. Reserve (MEM_RESERVE, or MEM_COMMIT with a NULL *BaseAddress: both at once):
 *     - NULL base: the lowest free range (the highest with MEM_TOP_DOWN) of
 *       ALIGN_UP(*RegionSize, PAGE_SIZE) bytes on a 64 KiB boundary at or above
 *       MM_LOWEST_USER_ADDRESS (MiFindEmptyAddressRange); none -> STATUS_NO_MEMORY.
 *     - a base: rounded *down* to 64 KiB (MM_ALLOCATION_GRANULARITY); the range ends at
 *       the end of the page holding base + size - 1; below MM_LOWEST_USER_ADDRESS ->
 *       STATUS_INVALID_PARAMETER_2; a page already in a VAD -> STATUS_CONFLICTING_ADDRESSES.
 *     - one new VAD (nonpaged pool, tag MI_VAD_TAG; none -> STATUS_INSUFFICIENT_RESOURCES):
 *       PrivateMemory 1, VadType VadNone, Protection the MM code, MemCommit 1 when
 *       MEM_COMMIT was given (then every page is committed: CommitCharge = its pages),
 *       inserted with MiInsertVad. VirtualSize grows by its bytes, CommitCharge by its
 *       committed pages (and their peaks follow).
 *     - *BaseAddress = its base, *RegionSize = its bytes.
 *  6. Commit only (MEM_COMMIT, a base): the pages of [base, base + size) rounded out to
 *     pages must all lie in one private VAD, else STATUS_CONFLICTING_ADDRESSES. Every
 *     page of the range ends committed with the new protection (pages that were committed
 *     already keep their frames and contents, only their protection changes);
 *     CommitCharge (the VAD's and the space's) grows by the pages that were not committed
 *     before - committing twice costs nothing. A page is committed by giving it a
 *     demand-zero PTE (MiReplaceUserPte) - no frame is taken here; out of frames for a
 *     page table -> STATUS_NO_MEMORY. *BaseAddress, *RegionSize = the page range.
 */
NTSTATUS MiAllocateVirtualMemory(PMMADDRESS_SPACE Space, PVOID *BaseAddress, ULONG_PTR ZeroBits,
                                 PSIZE_T RegionSize, ULONG AllocationType, ULONG Protect)
{
    if ((AllocationType & ~(ULONG)(MEM_COMMIT | MEM_RESERVE | MEM_TOP_DOWN)) ||
        !(AllocationType & (MEM_COMMIT | MEM_RESERVE)))
        return STATUS_INVALID_PARAMETER_5;
    ULONG prot = MiMakeProtectionMask(Protect);
    if (prot == MM_INVALID_PROTECTION || MI_IS_COPY_ON_WRITE(prot))
        return STATUS_INVALID_PAGE_PROTECTION;
    if (ZeroBits > 21)
        return STATUS_INVALID_PARAMETER_3;
    ULONG_PTR highest = ZeroBits ? (1ULL << (32 - ZeroBits)) - 1 : MM_HIGHEST_VAD_ADDRESS;
    ULONG_PTR base = (ULONG_PTR)*BaseAddress;
    SIZE_T size = *RegionSize;
    if (size == 0)
        return STATUS_INVALID_PARAMETER_4;
    if (base > MM_HIGHEST_VAD_ADDRESS)
        return STATUS_INVALID_PARAMETER_2;
    if (size > MM_HIGHEST_VAD_ADDRESS + 1 || base + size - 1 > MM_HIGHEST_VAD_ADDRESS)
        return STATUS_INVALID_PARAMETER_4;

    if ((AllocationType & MEM_RESERVE) || base == 0) {
        ULONG_PTR start, end;
        if (base == 0) {
            SIZE_T bytes = ALIGN_UP(size, PAGE_SIZE);
            if (!NT_SUCCESS(MiFindEmptyAddressRange(&Space->VadRoot, bytes, MM_ALLOCATION_GRANULARITY,
                                                    MM_LOWEST_USER_ADDRESS, highest,
                                                    (AllocationType & MEM_TOP_DOWN) != 0, &start)))
                return STATUS_NO_MEMORY;
            end = start + bytes - 1;
        } else {
            start = ALIGN_DOWN(base, MM_ALLOCATION_GRANULARITY);
            end = ALIGN_UP(base + size, PAGE_SIZE) - 1;
            if (start < MM_LOWEST_USER_ADDRESS)
                return STATUS_INVALID_PARAMETER_2;
            if (MiCheckForConflictingVad(&Space->VadRoot, MI_VA_TO_VPN(start), MI_VA_TO_VPN(end)))
                return STATUS_CONFLICTING_ADDRESSES;
        }
        PMMVAD vad = ExAllocatePoolWithTag(NonPagedPool, sizeof(MMVAD), MI_VAD_TAG);
        if (!vad)
            return STATUS_INSUFFICIENT_RESOURCES;
        RtlZeroMemory(vad, sizeof(*vad));
        vad->Tag = MI_VAD_TAG;
        vad->StartingVpn = MI_VA_TO_VPN(start);
        vad->EndingVpn = MI_VA_TO_VPN(end);
        vad->u.VadFlags.Protection = prot;
        vad->u.VadFlags.PrivateMemory = 1;
        vad->u.VadFlags.VadType = VadNone;
        vad->u.VadFlags.MemCommit = (AllocationType & MEM_COMMIT) != 0;
        NTSTATUS status = MiInsertVad(&Space->VadRoot, vad);
        if (!NT_SUCCESS(status)) {
            ExFreePoolWithTag(vad, MI_VAD_TAG);
            return status;
        }
        SIZE_T bytes = end - start + 1;
        Space->VirtualSize += bytes;
        if (Space->VirtualSize > Space->PeakVirtualSize)
            Space->PeakVirtualSize = Space->VirtualSize;
        if (vad->u.VadFlags.MemCommit)
            MiChargeCommit(Space, vad, bytes >> PAGE_SHIFT);
        *BaseAddress = (PVOID)start;
        *RegionSize = bytes;
        return STATUS_SUCCESS;
    }

    ULONG_PTR start, end;
    if (!MiPageRange(base, size, &start, &end))
        return STATUS_INVALID_PARAMETER_4;
    PMMVAD vad = MiLocateAddress(&Space->VadRoot, MI_VA_TO_VPN(start));
    if (!vad || MI_VA_TO_VPN(end) > vad->EndingVpn || !vad->u.VadFlags.PrivateMemory)
        return STATUS_CONFLICTING_ADDRESSES;
    SIZE_T added = 0;
    for (ULONG_PTR va = start; va < end; va += PAGE_SIZE) {
        ULONG old;
        if (MiIsPageCommitted(Space, vad, va, &old)) {
            if (old != prot && MiSetUserPteProtection(Space, va, prot) == MM_INVALID_PROTECTION)
                return STATUS_NO_MEMORY;
        } else {
            if (!NT_SUCCESS(MiReplaceUserPte(Space, va, MiMakeDemandZeroPte(prot))))
                return STATUS_NO_MEMORY;
            added++;
            MiChargeCommit(Space, vad, 1);
        }
    }
    UNREFERENCED_PARAMETER(added);
    *BaseAddress = (PVOID)start;
    *RegionSize = end - start + 1;
    return STATUS_SUCCESS;
}

/*
 * MiFreeVirtualMemory - NtFreeVirtualMemory's semantics on Space. IRQL PASSIVE_LEVEL,
 * Space attached and locked. Write *BaseAddress and *RegionSize only on success.
 *  1. FreeType exactly MEM_RELEASE or MEM_DECOMMIT, else STATUS_INVALID_PARAMETER_4.
 *  2. *BaseAddress above MM_HIGHEST_VAD_ADDRESS -> STATUS_INVALID_PARAMETER_2; no VAD holds
 *     its page -> STATUS_MEMORY_NOT_ALLOCATED; the VAD is a mapped view (not
 *     PrivateMemory) -> STATUS_UNABLE_TO_DELETE_SECTION.
 *  3. MEM_RELEASE: the page of *BaseAddress must be the VAD's first page, else
 *     STATUS_FREE_VM_NOT_AT_BASE; *RegionSize 0 means the whole VAD, any other size must
 *     end exactly at the VAD's last page (else STATUS_UNABLE_TO_FREE_VM: no partial
 *     release). Every page goes (MiReplaceUserPte with a zero PTE frees its frame or
 *     pagefile slot), the VAD leaves the tree (MiRemoveVad) and the pool; VirtualSize
 *     drops by its bytes, CommitCharge by its committed pages. *BaseAddress = its base,
 *     *RegionSize = its bytes.
 *  4. MEM_DECOMMIT: the pages of [base, base + size) rounded out to pages, *RegionSize 0
 *     meaning from base to the VAD's end; a range past the VAD's end ->
 *     STATUS_UNABLE_TO_FREE_VM. Each committed page becomes reserved: in a MemCommit VAD
 *     its PTE becomes MiMakeDecommittedPte() (a zero PTE would read as committed), else
 *     zero; its frame or slot is freed either way. CommitCharge (the VAD's and the
 *     space's) drops by the pages that were committed; decommitting reserved pages is no
 *     error and costs nothing. The VAD stays. *BaseAddress, *RegionSize = the page range.
 */
NTSTATUS MiFreeVirtualMemory(PMMADDRESS_SPACE Space, PVOID *BaseAddress, PSIZE_T RegionSize, ULONG FreeType)
{
    if (FreeType != MEM_RELEASE && FreeType != MEM_DECOMMIT)
        return STATUS_INVALID_PARAMETER_4;
    ULONG_PTR base = (ULONG_PTR)*BaseAddress;
    SIZE_T size = *RegionSize;
    if (base > MM_HIGHEST_VAD_ADDRESS)
        return STATUS_INVALID_PARAMETER_2;
    PMMVAD vad = MiLocateAddress(&Space->VadRoot, MI_VA_TO_VPN(base));
    if (!vad)
        return STATUS_MEMORY_NOT_ALLOCATED;
    if (!vad->u.VadFlags.PrivateMemory)
        return STATUS_UNABLE_TO_DELETE_SECTION;
    ULONG_PTR vstart = MI_VPN_TO_VA(vad->StartingVpn), vend = MI_VPN_TO_VA(vad->EndingVpn) + PAGE_SIZE - 1;
    MMPTE zero = {0};

    if (FreeType == MEM_RELEASE) {
        if (ALIGN_DOWN(base, PAGE_SIZE) != vstart)
            return STATUS_FREE_VM_NOT_AT_BASE;
        if (size != 0) {
            ULONG_PTR s, e;
            if (!MiPageRange(base, size, &s, &e) || e != vend)
                return STATUS_UNABLE_TO_FREE_VM;
        }
        for (ULONG_PTR va = vstart; va < vend; va += PAGE_SIZE)
            MiReplaceUserPte(Space, va, zero);
        Space->CommitCharge -= vad->CommitCharge;
        Space->VirtualSize -= vend - vstart + 1;
        MiRemoveVad(&Space->VadRoot, vad);
        vad->Tag = 0;
        ExFreePoolWithTag(vad, MI_VAD_TAG);
        *BaseAddress = (PVOID)vstart;
        *RegionSize = vend - vstart + 1;
        return STATUS_SUCCESS;
    }

    ULONG_PTR start, end;
    if (size == 0) {
        start = ALIGN_DOWN(base, PAGE_SIZE);
        end = vend;
    } else if (!MiPageRange(base, size, &start, &end) || end > vend) {
        return STATUS_UNABLE_TO_FREE_VM;
    }
    MMPTE decommitted = vad->u.VadFlags.MemCommit ? MiMakeDecommittedPte() : zero;
    for (ULONG_PTR va = start; va < end; va += PAGE_SIZE) {
        ULONG prot;
        if (!MiIsPageCommitted(Space, vad, va, &prot))
            continue;
        if (!NT_SUCCESS(MiReplaceUserPte(Space, va, decommitted)))
            return STATUS_NO_MEMORY;
        vad->CommitCharge--;
        Space->CommitCharge--;
    }
    *BaseAddress = (PVOID)start;
    *RegionSize = end - start + 1;
    return STATUS_SUCCESS;
}

/*
 * MiProtectVirtualMemory - NtProtectVirtualMemory's semantics on Space. IRQL
 * PASSIVE_LEVEL, Space attached and locked. Outputs written only on success.
 *  1. NewProtect: MiMakeProtectionMask; invalid -> STATUS_INVALID_PAGE_PROTECTION (also a
 *     copy-on-write protection on private memory).
 *  2. *RegionSize 0 -> STATUS_INVALID_PARAMETER_3; *BaseAddress above
 *     MM_HIGHEST_VAD_ADDRESS -> STATUS_INVALID_PARAMETER_2.
 *  3. The pages of [base, base + size) rounded out to pages must lie in one VAD, else
 *     STATUS_CONFLICTING_ADDRESSES (free memory too); every one of them must be
 *     committed, else STATUS_NOT_COMMITTED and nothing changes.
 *  4. *OldProtect = the PAGE_* protection the first page had (PAGE_GUARD included while
 *     it is set); every page gets the new one (MiSetUserPteProtection: a resident page
 *     keeps its frame and contents; PAGE_GUARD makes each page a guard page again).
 *     *BaseAddress, *RegionSize = the page range.
 */
NTSTATUS MiProtectVirtualMemory(PMMADDRESS_SPACE Space, PVOID *BaseAddress, PSIZE_T RegionSize,
                                ULONG NewProtect, PULONG OldProtect)
{
    ULONG prot = MiMakeProtectionMask(NewProtect);
    if (prot == MM_INVALID_PROTECTION)
        return STATUS_INVALID_PAGE_PROTECTION;
    ULONG_PTR base = (ULONG_PTR)*BaseAddress;
    SIZE_T size = *RegionSize;
    if (size == 0)
        return STATUS_INVALID_PARAMETER_3;
    if (base > MM_HIGHEST_VAD_ADDRESS)
        return STATUS_INVALID_PARAMETER_2;
    ULONG_PTR start, end;
    if (!MiPageRange(base, size, &start, &end))
        return STATUS_CONFLICTING_ADDRESSES;
    PMMVAD vad = MiLocateAddress(&Space->VadRoot, MI_VA_TO_VPN(start));
    if (!vad || MI_VA_TO_VPN(end) > vad->EndingVpn)
        return STATUS_CONFLICTING_ADDRESSES;
    if (vad->u.VadFlags.PrivateMemory && MI_IS_COPY_ON_WRITE(prot))
        return STATUS_INVALID_PAGE_PROTECTION;
    ULONG first = 0;
    for (ULONG_PTR va = start; va < end; va += PAGE_SIZE) {
        ULONG p;
        if (!MiIsPageCommitted(Space, vad, va, &p))
            return STATUS_NOT_COMMITTED;
        if (va == start)
            first = p;
    }
    for (ULONG_PTR va = start; va < end; va += PAGE_SIZE)
        if (MiSetUserPteProtection(Space, va, prot) == MM_INVALID_PROTECTION)
            return STATUS_NO_MEMORY;
    *OldProtect = MiProtectionToWin32(first);
    *BaseAddress = (PVOID)start;
    *RegionSize = end - start + 1;
    return STATUS_SUCCESS;
}

/*
 * MiQueryVirtualMemory - NtQueryVirtualMemory(MemoryBasicInformation) on Space: what the
 * page holding Address is, and how far pages like it go. IRQL PASSIVE_LEVEL, Space
 * attached and locked. Address above MM_HIGHEST_VAD_ADDRESS -> STATUS_INVALID_PARAMETER_2.
 * Every field of *Info is written:
 *  - BaseAddress = Address rounded down to its page.
 *  - In a VAD: AllocationBase = the VAD's base, AllocationProtect = the PAGE_* it was
 *    reserved with, Type = MEM_PRIVATE (MEM_MAPPED for VadMappedView, MEM_IMAGE for
 *    VadImageMap); State = MEM_COMMIT with Protect = the page's PAGE_* (PAGE_GUARD
 *    included) when committed, MEM_RESERVE with Protect 0 when not; RegionSize = the bytes
 *    from BaseAddress over the following pages of the *same VAD* with the same State and
 *    Protect.
 *  - Free (no VAD): AllocationBase NULL, AllocationProtect 0, State MEM_FREE, Protect
 *    PAGE_NOACCESS, Type 0, RegionSize = the bytes up to the next VAD's base, or up to
 *    MM_HIGHEST_VAD_ADDRESS + 1 when none follows (find the next VAD in O(log n)).
 */
NTSTATUS MiQueryVirtualMemory(PMMADDRESS_SPACE Space, ULONG_PTR Address, PMEMORY_BASIC_INFORMATION Info)
{
    if (Address > MM_HIGHEST_VAD_ADDRESS)
        return STATUS_INVALID_PARAMETER_2;
    ULONG_PTR va = ALIGN_DOWN(Address, PAGE_SIZE), vpn = MI_VA_TO_VPN(va);
    PMMVAD vad = NULL, next = NULL;
    for (PMMVAD n = Space->VadRoot.Root; n;) {
        if (vpn < n->StartingVpn) {
            next = n;
            n = n->LeftChild;
        } else if (vpn > n->EndingVpn) {
            n = n->RightChild;
        } else {
            vad = n;
            break;
        }
    }
    Info->BaseAddress = (PVOID)va;
    if (!vad) {
        Info->AllocationBase = NULL;
        Info->AllocationProtect = 0;
        Info->State = MEM_FREE;
        Info->Protect = PAGE_NOACCESS;
        Info->Type = 0;
        Info->RegionSize = (next ? MI_VPN_TO_VA(next->StartingVpn) : MM_HIGHEST_VAD_ADDRESS + 1) - va;
        return STATUS_SUCCESS;
    }
    Info->AllocationBase = (PVOID)MI_VPN_TO_VA(vad->StartingVpn);
    Info->AllocationProtect = MiProtectionToWin32(vad->u.VadFlags.Protection);
    Info->Type = vad->u.VadFlags.VadType == VadImageMap    ? MEM_IMAGE
                 : vad->u.VadFlags.VadType == VadMappedView ? MEM_MAPPED
                                                            : MEM_PRIVATE;
    ULONG prot = 0;
    BOOLEAN committed = MiIsPageCommitted(Space, vad, va, &prot);
    ULONG_PTR end = va + PAGE_SIZE, vend = MI_VPN_TO_VA(vad->EndingVpn) + PAGE_SIZE;
    while (end < vend) {
        ULONG p = 0;
        BOOLEAN c = MiIsPageCommitted(Space, vad, end, &p);
        if (c != committed || (c && p != prot))
            break;
        end += PAGE_SIZE;
    }
    Info->State = committed ? MEM_COMMIT : MEM_RESERVE;
    Info->Protect = committed ? MiProtectionToWin32(prot) : 0;
    Info->RegionSize = end - va;
    return STATUS_SUCCESS;
}
