/* vm_tests.c - lab 08 public tests of virtual memory (labs/08-usermode/virtual.c), run in
 * the kernel on a test process with an address space of its own, through the framework's
 * Mm*VirtualMemory (arguments captured, the process attached, its lock held):
 * vm.reserve: where reservations go (the lowest 64 KiB boundary, MEM_TOP_DOWN, ZeroBits,
 *   a given base rounded down to 64 KiB and the size out to pages), conflicts, and every
 *   parameter error with the outputs and the address space untouched.
 * vm.commit: committing inside a reservation (page rounding, demand-zero PTEs with the
 *   protection and no frame, committing twice charges once and changes the protection),
 *   reserve+commit at once, guard pages, commits that leave one reservation.
 * vm.free: release only at the base (STATUS_FREE_VM_NOT_AT_BASE), no partial release,
 *   decommit (frames back, pages reserved again, also in a reserve+commit region), the
 *   counters, errors.
 * vm.protect: OldProtect, resident pages keep their frames and get the new hardware bits,
 *   guard pages, STATUS_NOT_COMMITTED, ranges that leave a VAD, errors.
 * Each reads the truth from the PTEs and the VADs itself (lab08vm_support.c). */
#include "lab08vm_support.h"

#define POISON_PTR ((PVOID)0x5A5A5A5A5A5A5A5AULL)
#define POISON_SIZE ((SIZE_T)0xA5A5A5A5A5A5A5A5ULL)

static NTSTATUS KtAlloc(KT_VM_PROCESS *P, PVOID *Base, ULONG_PTR ZeroBits, PSIZE_T Size, ULONG Type, ULONG Prot)
{
    return MmAllocateVirtualMemory(P->Process, Base, ZeroBits, Size, Type, Prot);
}

static BOOLEAN KtStatus(PKTEST_CONTEXT Context, PCSTR Check, NTSTATUS Got, NTSTATUS Want, PCSTR What)
{
    return KtCheck(Context, Got == Want, Check, "%s returned 0x%08X (%s), expected 0x%08X (%s)", What, (ULONG)Got,
                   KtVmStatusName(Got), (ULONG)Want, KtVmStatusName(Want));
}

/* Query at Va and compare every field. */
static BOOLEAN KtQuery(PKTEST_CONTEXT Context, KT_VM_PROCESS *P, PCSTR Check, ULONG_PTR Va, ULONG_PTR AllocBase,
                       ULONG AllocProt, SIZE_T Size, ULONG State, ULONG Prot, PCSTR What)
{
    MEMORY_BASIC_INFORMATION m;
    KtVmPoison(Context, &m, sizeof(m), 77);
    NTSTATUS st = MmQueryVirtualMemory(P->Process, (PVOID)Va, &m);
    if (KtVmStubbed(Context))
        return FALSE;
    if (!KtCheck(Context, st == STATUS_SUCCESS, Check, "NtQueryVirtualMemory(0x%llx) %s: 0x%08X (%s)", Va, What,
                 (ULONG)st, KtVmStatusName(st)))
        return FALSE;
    ULONG type = State == MEM_FREE ? 0 : MEM_PRIVATE;
    return KtCheck(Context, m.BaseAddress == (PVOID)ALIGN_DOWN(Va, PAGE_SIZE) && m.AllocationBase == (PVOID)AllocBase &&
                   m.AllocationProtect == AllocProt && m.RegionSize == Size && m.State == State && m.Protect == Prot &&
                   m.Type == type, Check,
                   "NtQueryVirtualMemory(0x%llx) %s: Base %p AllocationBase %p AllocationProtect 0x%x RegionSize 0x%llx "
                   "State 0x%x Protect 0x%x (%s) Type 0x%x; expected %p %p 0x%x 0x%llx 0x%x 0x%x (%s) 0x%x", Va, What,
                   m.BaseAddress, m.AllocationBase, m.AllocationProtect, (ULONG64)m.RegionSize, m.State, m.Protect,
                   KtVmProtName(m.Protect), m.Type, (PVOID)ALIGN_DOWN(Va, PAGE_SIZE), (PVOID)AllocBase, AllocProt,
                   (ULONG64)Size, State, Prot, KtVmProtName(Prot), type);
}

static BOOLEAN KtCounters(PKTEST_CONTEXT Context, KT_VM_PROCESS *P, SIZE_T Virtual, SIZE_T CommitPages, PCSTR What)
{
    if (Virtual > P->PeakVirtual)
        P->PeakVirtual = Virtual;
    if (CommitPages > P->PeakCommit)
        P->PeakCommit = CommitPages;
    return KtCheck(Context, P->Space->VirtualSize == Virtual, "virtual_bytes", "%s: virtual bytes (VirtualSize) 0x%llx, "
                   "expected 0x%llx (the bytes of every reservation)", What, (ULONG64)P->Space->VirtualSize,
                   (ULONG64)Virtual) &&
           KtCheck(Context, P->Space->CommitCharge == CommitPages, "private_bytes", "%s: private bytes %llu pages "
                   "(CommitCharge), expected %llu (committed pages only; committing twice charges once, decommit and "
                   "release give them back)", What, (ULONG64)P->Space->CommitCharge, (ULONG64)CommitPages) &&
           KtCheck(Context, P->Space->PeakVirtualSize >= P->PeakVirtual, "virtual_bytes", "%s: PeakVirtualSize 0x%llx, "
                   "below the 0x%llx virtual bytes the space has held (the peak follows VirtualSize up and stays)",
                   What, (ULONG64)P->Space->PeakVirtualSize, (ULONG64)P->PeakVirtual) &&
           KtCheck(Context, P->Space->PeakCommitCharge >= P->PeakCommit, "private_bytes", "%s: PeakCommitCharge %llu "
                   "pages, below the %llu the space has been charged (the peak follows CommitCharge up and stays)",
                   What, (ULONG64)P->Space->PeakCommitCharge, (ULONG64)P->PeakCommit);
}

/* Every page of [Va, Va + Pages) is in State (1 committed / 0 reserved / -1 free) with MM code Prot. */
static BOOLEAN KtPages(PKTEST_CONTEXT Context, KT_VM_PROCESS *P, PCSTR Check, ULONG_PTR Va, ULONG Pages, LONG State,
                       ULONG Prot, PCSTR What)
{
    for (ULONG i = 0; i < Pages; i++) {
        ULONG p;
        LONG s = KtVmPageState(P->Space, Va + i * PAGE_SIZE, &p);
        if (!KtCheck(Context, s == State && (State != 1 || p == Prot), Check, "%s: page 0x%llx is %s (MM protection "
                     "0x%x), expected %s (0x%x) - read from its PTE and VAD", What, Va + i * PAGE_SIZE,
                     s == 1 ? "committed" : s == 0 ? "reserved" : "free", p,
                     State == 1 ? "committed" : State == 0 ? "reserved" : "free", Prot))
            return FALSE;
    }
    return TRUE;
}

KTEST("vm.reserve", KtVmReserve)
{
    KT_VM_PROCESS P;
    if (!KtVmCreateProcess(Context, &P))
        return;
    BOOLEAN ok = TRUE;
    SIZE_T virt = 0, commit = 0;
    /* The lowest 64 KiB boundary at or above MM_LOWEST_USER_ADDRESS. */
    SIZE_T want1 = KtRandomRange(Context, 2, 20) * PAGE_SIZE, size = want1 - KtRandomRange(Context, 1, 0xFFF);
    PVOID base = NULL;
    NTSTATUS st = KtAlloc(&P, &base, 0, &size, MEM_RESERVE, PAGE_READWRITE);
    if (KtVmStubbed(Context))
        goto out;
    ok = KtStatus(Context, "reserve", st, STATUS_SUCCESS, "NtAllocateVirtualMemory(NULL, MEM_RESERVE, PAGE_READWRITE)") &&
         KtCheck(Context, base == (PVOID)MM_LOWEST_USER_ADDRESS && size == want1, "reserve_null", "a reservation with a "
                 "NULL base in an empty address space got base %p size 0x%llx, expected %p (the lowest 64 KiB boundary at "
                 "or above MM_LOWEST_USER_ADDRESS) and 0x%llx (the size rounded up to pages)", base, (ULONG64)size,
                 (PVOID)MM_LOWEST_USER_ADDRESS, (ULONG64)want1);
    virt += want1;
    ok = ok && KtCounters(Context, &P, virt, commit, "after one reservation") &&
         KtQuery(Context, &P, "query", MM_LOWEST_USER_ADDRESS + 0x123, MM_LOWEST_USER_ADDRESS, PAGE_READWRITE, want1,
                 MEM_RESERVE, 0, "in the reservation") &&
         KtPages(Context, &P, "reserve_pte", MM_LOWEST_USER_ADDRESS, (ULONG)(want1 / PAGE_SIZE), 0, 0,
                 "a reservation commits nothing");
    /* The next one: the next 64 KiB boundary after it (MEM_COMMIT alone with NULL reserves too). */
    SIZE_T want2 = KtRandomRange(Context, 17, 40) * PAGE_SIZE;
    size = want2;
    base = NULL;
    st = KtAlloc(&P, &base, 0, &size, MEM_COMMIT, PAGE_READONLY);
    ULONG_PTR b2 = ALIGN_UP(MM_LOWEST_USER_ADDRESS + want1, MM_ALLOCATION_GRANULARITY);
    ok = ok && KtStatus(Context, "reserve", st, STATUS_SUCCESS, "NtAllocateVirtualMemory(NULL, MEM_COMMIT)") &&
         KtCheck(Context, base == (PVOID)b2 && size == want2, "granularity", "the second reservation got base %p size "
                 "0x%llx, expected %p: reservations start on 64 KiB boundaries, the lowest free one", base,
                 (ULONG64)size, (PVOID)b2);
    virt += want2;
    commit += want2 / PAGE_SIZE;
    ok = ok && KtCounters(Context, &P, virt, commit, "after MEM_COMMIT with a NULL base (it reserves and commits)") &&
         KtQuery(Context, &P, "query", b2 + want2 - 1, b2, PAGE_READONLY, PAGE_SIZE, MEM_COMMIT, PAGE_READONLY,
                 "at the last byte of a committed region");
    /* At a base: rounded down to 64 KiB, the size out to the page holding the last byte. */
    ULONG_PTR at = 0x40000000ULL + KtRandomRange(Context, 0, 255) * MM_ALLOCATION_GRANULARITY;
    ULONG_PTR given = at + KtRandomRange(Context, 1, 0xFFFF);
    size = KtRandomRange(Context, 1, 0x30000);
    SIZE_T want3 = ALIGN_UP(given + size, PAGE_SIZE) - at;
    base = (PVOID)given;
    st = KtAlloc(&P, &base, 0, &size, MEM_RESERVE, PAGE_EXECUTE_READWRITE);
    ok = ok && KtStatus(Context, "reserve", st, STATUS_SUCCESS, "NtAllocateVirtualMemory(an unaligned base, MEM_RESERVE)") &&
         KtCheck(Context, base == (PVOID)at && size == want3, "reserve_at", "a reservation asked at %p got base %p size "
                 "0x%llx, expected base %p (rounded DOWN to 64 KiB) size 0x%llx (up to the end of the page holding the "
                 "last byte asked for)", (PVOID)given, base, (ULONG64)size, (PVOID)at, (ULONG64)want3);
    virt += want3;
    ok = ok && KtCounters(Context, &P, virt, commit, "after a reservation at a base") &&
         KtQuery(Context, &P, "query", 0, 0, 0, MM_LOWEST_USER_ADDRESS, MEM_FREE, PAGE_NOACCESS,
                 "at address 0 (free up to the first reservation)") &&
         KtQuery(Context, &P, "query", b2 + want2 + 0x10, 0, 0, at - (b2 + want2), MEM_FREE, PAGE_NOACCESS,
                 "in the free gap below a reservation (free up to the next VAD's base)");
    /* Conflicts: inside it, and one whose rounded-down base lands in it. */
    for (ULONG k = 0; ok && k < 2; k++) {
        PVOID b = (PVOID)(k == 0 ? at + want3 - PAGE_SIZE : ALIGN_UP(at + want3, PAGE_SIZE) + 0x10);
        SIZE_T s = 0x20000;
        if (k == 1 && ALIGN_DOWN((ULONG_PTR)b, MM_ALLOCATION_GRANULARITY) > at + want3 - 1)
            continue; /* the reservation ended on a 64 KiB boundary */
        st = KtAlloc(&P, &b, 0, &s, MEM_RESERVE, PAGE_READWRITE);
        ok = KtStatus(Context, "conflict", st, STATUS_CONFLICTING_ADDRESSES,
                      k == 0 ? "a reservation over the last page of another"
                             : "a reservation whose base rounded down to 64 KiB falls in another") &&
             KtCheck(Context, s == 0x20000, "untouched", "a failed call changed *RegionSize to 0x%llx", (ULONG64)s);
    }
    /* MEM_TOP_DOWN, and ZeroBits with it. */
    SIZE_T want4 = KtRandomRange(Context, 1, 16) * PAGE_SIZE;
    size = want4;
    base = NULL;
    st = KtAlloc(&P, &base, 0, &size, MEM_RESERVE | MEM_TOP_DOWN, PAGE_READONLY);
    ULONG_PTR top = ALIGN_DOWN(MM_HIGHEST_VAD_ADDRESS + 1 - want4, MM_ALLOCATION_GRANULARITY);
    ok = ok && KtStatus(Context, "top_down", st, STATUS_SUCCESS, "MEM_RESERVE|MEM_TOP_DOWN") &&
         KtCheck(Context, base == (PVOID)top, "top_down", "MEM_TOP_DOWN got %p, expected %p (the highest 64 KiB boundary "
                 "where it fits below MM_HIGHEST_VAD_ADDRESS)", base, (PVOID)top);
    virt += want4;
    ULONG zb = (ULONG)KtRandomRange(Context, 1, 12);
    size = want4;
    base = NULL;
    st = KtAlloc(&P, &base, zb, &size, MEM_RESERVE | MEM_TOP_DOWN, PAGE_READONLY);
    top = ALIGN_DOWN((1ULL << (32 - zb)) - want4, MM_ALLOCATION_GRANULARITY);
    ok = ok && KtStatus(Context, "zero_bits", st, STATUS_SUCCESS, "MEM_RESERVE|MEM_TOP_DOWN with ZeroBits") &&
         KtCheck(Context, base == (PVOID)top, "zero_bits", "ZeroBits %u with MEM_TOP_DOWN got %p, expected %p (the range "
                 "must end below 2^(32-ZeroBits) = 0x%llx)", zb, base, (PVOID)top, 1ULL << (32 - zb));
    virt += want4;
    ok = ok && KtCounters(Context, &P, virt, commit, "after the top-down reservations");
    /* Every parameter error: the outputs and the address space untouched. */
    static const struct {
        ULONG_PTR Base;
        ULONG_PTR ZeroBits;
        SIZE_T Size;
        ULONG Type, Prot;
        NTSTATUS Want;
        PCSTR What;
    } bad[] = {
        {0, 0, 0x1000, 0, PAGE_READWRITE, STATUS_INVALID_PARAMETER_5, "AllocationType 0"},
        {0, 0, 0x1000, MEM_DECOMMIT, PAGE_READWRITE, STATUS_INVALID_PARAMETER_5, "AllocationType MEM_DECOMMIT"},
        {0, 0, 0x1000, MEM_TOP_DOWN, PAGE_READWRITE, STATUS_INVALID_PARAMETER_5, "MEM_TOP_DOWN alone"},
        {0, 0, 0x1000, MEM_RESERVE | 0x40, PAGE_READWRITE, STATUS_INVALID_PARAMETER_5, "an unknown AllocationType bit"},
        {0, 0, 0x1000, MEM_RESERVE, 0, STATUS_INVALID_PAGE_PROTECTION, "Protect 0"},
        {0, 0, 0x1000, MEM_RESERVE, PAGE_READONLY | PAGE_READWRITE, STATUS_INVALID_PAGE_PROTECTION, "two access bits"},
        {0, 0, 0x1000, MEM_COMMIT, PAGE_WRITECOPY, STATUS_INVALID_PAGE_PROTECTION, "PAGE_WRITECOPY on private memory"},
        {0, 0, 0x1000, MEM_COMMIT, PAGE_NOACCESS | PAGE_GUARD, STATUS_INVALID_PAGE_PROTECTION, "PAGE_NOACCESS|PAGE_GUARD"},
        {0, 0, 0x1000, MEM_RESERVE, 0x10000, STATUS_INVALID_PAGE_PROTECTION, "an unknown Protect bit"},
        {0, 22, 0x1000, MEM_RESERVE, PAGE_READWRITE, STATUS_INVALID_PARAMETER_3, "ZeroBits 22"},
        {0, 0, 0, MEM_RESERVE, PAGE_READWRITE, STATUS_INVALID_PARAMETER_4, "*RegionSize 0"},
        {0x50000000, 0, 0, MEM_RESERVE, PAGE_READWRITE, STATUS_INVALID_PARAMETER_4, "*RegionSize 0 at a base"},
        {MM_HIGHEST_VAD_ADDRESS + 1, 0, 0x1000, MEM_RESERVE, PAGE_READWRITE, STATUS_INVALID_PARAMETER_2,
         "a base above MM_HIGHEST_VAD_ADDRESS"},
        {MM_HIGHEST_VAD_ADDRESS - 0xFFFF, 0, 0x20000, MEM_RESERVE, PAGE_READWRITE, STATUS_INVALID_PARAMETER_4,
         "a range past MM_HIGHEST_VAD_ADDRESS"},
        {0x50000000, 0, (SIZE_T)-0x1000, MEM_RESERVE, PAGE_READWRITE, STATUS_INVALID_PARAMETER_4, "a size that wraps"},
        {0x3000, 0, 0x1000, MEM_RESERVE, PAGE_READWRITE, STATUS_INVALID_PARAMETER_2,
         "a base that rounds down below MM_LOWEST_USER_ADDRESS"},
        {0x60000000, 0, 0x1000, MEM_COMMIT, PAGE_READWRITE, STATUS_CONFLICTING_ADDRESSES,
         "MEM_COMMIT at a base no reservation holds"},
    };
    for (ULONG i = 0; ok && i < sizeof(bad) / sizeof(bad[0]); i++) {
        PVOID b = (PVOID)bad[i].Base;
        SIZE_T s = bad[i].Size;
        ULONG before = P.Space->VadRoot.NumberGenericTableElements;
        st = KtAlloc(&P, &b, bad[i].ZeroBits, &s, bad[i].Type, bad[i].Prot);
        char what[96];
        RtlFormatString(what, sizeof(what), "NtAllocateVirtualMemory with %s", bad[i].What);
        ok = KtStatus(Context, "parameters", st, bad[i].Want, what) &&
             KtCheck(Context, b == (PVOID)bad[i].Base && s == bad[i].Size, "untouched", "%s failed but changed "
                     "*BaseAddress/*RegionSize to %p/0x%llx", what, b, (ULONG64)s) &&
             KtCheck(Context, P.Space->VadRoot.NumberGenericTableElements == before, "untouched", "%s failed but the "
                     "tree went from %u to %u VADs", what, before, P.Space->VadRoot.NumberGenericTableElements) &&
             KtCounters(Context, &P, virt, commit, what);
    }
    ok = ok && KtVmAuditTree(Context, &P.Space->VadRoot, "tree", "after the reservations") >= 0;
out:
    KtVmDeleteProcess(Context, &P);
}

KTEST("vm.commit", KtVmCommit)
{
    KT_VM_PROCESS P;
    if (!KtVmCreateProcess(Context, &P))
        return;
    BOOLEAN ok;
    ULONG pages = (ULONG)KtRandomRange(Context, 16, 48);
    PVOID base = NULL;
    SIZE_T size = pages * PAGE_SIZE;
    NTSTATUS st = KtAlloc(&P, &base, 0, &size, MEM_RESERVE, PAGE_READWRITE);
    if (KtVmStubbed(Context) || !KtStatus(Context, "reserve", st, STATUS_SUCCESS, "a reservation"))
        goto out;
    ULONG_PTR r = (ULONG_PTR)base;
    /* Commit a sub-range given unaligned: rounded out to pages. */
    ULONG a = (ULONG)KtRandomRange(Context, 1, pages / 2 - 2), n = (ULONG)KtRandomRange(Context, 2, pages / 2 - 1);
    ULONG_PTR given = r + a * PAGE_SIZE + KtRandomRange(Context, 1, 0xFFF);
    SIZE_T gsize = r + (a + n) * PAGE_SIZE - given - KtRandomRange(Context, 0, 0xFFF);
    PFN_NUMBER avail = MmAvailablePages;
    base = (PVOID)given;
    size = gsize;
    st = KtAlloc(&P, &base, 0, &size, MEM_COMMIT, PAGE_READONLY);
    ok = KtStatus(Context, "commit", st, STATUS_SUCCESS, "MEM_COMMIT inside a reservation") &&
         KtCheck(Context, base == (PVOID)(r + a * PAGE_SIZE) && size == n * PAGE_SIZE, "commit_range", "MEM_COMMIT at %p "
                 "size 0x%llx returned %p 0x%llx, expected %p 0x%llx (the pages the range touches)", (PVOID)given,
                 (ULONG64)gsize, base, (ULONG64)size, (PVOID)(r + a * PAGE_SIZE), (ULONG64)n * PAGE_SIZE) &&
         KtPages(Context, &P, "commit_pte", r + a * PAGE_SIZE, n, 1, MM_READONLY, "the committed pages") &&
         KtPages(Context, &P, "commit_pte", r, a, 0, 0, "the pages before them") &&
         KtPages(Context, &P, "commit_pte", r + (a + n) * PAGE_SIZE, pages - a - n, 0, 0, "the pages after them") &&
         KtCounters(Context, &P, pages * PAGE_SIZE, n, "after committing part of a reservation") &&
         KtCheck(Context, avail - MmAvailablePages <= 3, "demand_zero", "committing %u pages took %lld frames: a commit "
                 "takes no frame (a page gets one when first touched), only page tables (at most 3 here)", n,
                 (LONG64)(avail - MmAvailablePages));
    for (ULONG i = 0; ok && i < n; i++) {
        MMPTE pte = MiReadUserPte(P.Space, r + (a + i) * PAGE_SIZE);
        ok = KtCheck(Context, !pte.Hard.Valid && !pte.Soft.Prototype && !pte.Soft.Transition &&
                     pte.Soft.PageFileHigh == 0 && pte.Soft.Protection == MM_READONLY, "demand_zero", "the PTE of "
                     "committed page 0x%llx is 0x%llx, expected a demand-zero PTE (Valid 0, PageFileHigh 0) with "
                     "Protection MM_READONLY (0x%llx)", r + (a + i) * PAGE_SIZE, pte.Long,
                     MiMakeDemandZeroPte(MM_READONLY).Long);
    }
    ok = ok && KtQuery(Context, &P, "query", r, r, PAGE_READWRITE, a * PAGE_SIZE, MEM_RESERVE, 0, "before the commit") &&
         KtQuery(Context, &P, "query", r + a * PAGE_SIZE + 5, r, PAGE_READWRITE, n * PAGE_SIZE, MEM_COMMIT, PAGE_READONLY,
                 "in the committed run") &&
         KtQuery(Context, &P, "query", r + (a + n) * PAGE_SIZE, r, PAGE_READWRITE, (pages - a - n) * PAGE_SIZE,
                 MEM_RESERVE, 0, "after the committed run");
    /* Commit again over it and more: charged once, the new protection everywhere. */
    if (ok) {
        base = (PVOID)(r + (a - 1) * PAGE_SIZE);
        size = (n + 2) * PAGE_SIZE;
        st = KtAlloc(&P, &base, 0, &size, MEM_COMMIT, PAGE_READWRITE);
        ok = KtStatus(Context, "commit", st, STATUS_SUCCESS, "MEM_COMMIT over committed pages and two more") &&
             KtCounters(Context, &P, pages * PAGE_SIZE, n + 2, "after committing committed pages again (plus 2 new)") &&
             KtPages(Context, &P, "commit_protect", r + (a - 1) * PAGE_SIZE, n + 2, 1, MM_READWRITE,
                     "committing committed pages again gives them the new protection");
    }
    /* The last page of the reservation is inside it: committed, then decommitted again. */
    if (ok) {
        base = (PVOID)(r + (pages - 1) * PAGE_SIZE + KtRandomRange(Context, 0, 0xFFF));
        size = 1;
        st = KtAlloc(&P, &base, 0, &size, MEM_COMMIT, PAGE_READWRITE);
        ok = KtStatus(Context, "commit_range", st, STATUS_SUCCESS, "MEM_COMMIT of the last page of a reservation") &&
             KtCheck(Context, base == (PVOID)(r + (pages - 1) * PAGE_SIZE) && size == PAGE_SIZE, "commit_range",
                     "MEM_COMMIT of one byte of the last page returned %p 0x%llx, expected %p 0x1000", base,
                     (ULONG64)size, (PVOID)(r + (pages - 1) * PAGE_SIZE)) &&
             KtPages(Context, &P, "commit_pte", r + (pages - 1) * PAGE_SIZE, 1, 1, MM_READWRITE,
                     "the last page of the reservation, committed") &&
             KtCounters(Context, &P, pages * PAGE_SIZE, n + 3, "after committing the last page of the reservation");
        base = (PVOID)(r + (pages - 1) * PAGE_SIZE);
        size = PAGE_SIZE;
        st = MmFreeVirtualMemory(P.Process, &base, &size, MEM_DECOMMIT);
        ok = ok && KtStatus(Context, "decommit", st, STATUS_SUCCESS, "MEM_DECOMMIT of the last page of a reservation") &&
             KtCounters(Context, &P, pages * PAGE_SIZE, n + 2, "after decommitting the last page again");
    }
    /* Commits that leave the reservation. */
    if (ok) {
        SIZE_T big = 0;
        base = NULL;
        big = 4 * PAGE_SIZE;
        st = KtAlloc(&P, &base, 0, &big, MEM_RESERVE, PAGE_READWRITE); /* the next 64 KiB boundary */
        ULONG_PTR r2 = (ULONG_PTR)base;
        ok = KtStatus(Context, "reserve", st, STATUS_SUCCESS, "a second reservation");
        struct { ULONG_PTR B; SIZE_T S; PCSTR W; } bad[] = {
            {r + (pages - 1) * PAGE_SIZE, 2 * PAGE_SIZE, "MEM_COMMIT from the last page of a reservation into free memory"},
            {r2 - PAGE_SIZE, 2 * PAGE_SIZE, "MEM_COMMIT from free memory into a reservation"},
            {r, r2 + PAGE_SIZE - r, "MEM_COMMIT over two reservations and the gap between"},
        };
        for (ULONG i = 0; ok && i < 3; i++) {
            if (i == 1 && r + pages * PAGE_SIZE == r2)
                continue;
            base = (PVOID)bad[i].B;
            size = bad[i].S;
            st = KtAlloc(&P, &base, 0, &size, MEM_COMMIT, PAGE_READWRITE);
            ok = KtStatus(Context, "commit_outside", st, STATUS_CONFLICTING_ADDRESSES, bad[i].W) &&
                 KtCounters(Context, &P, pages * PAGE_SIZE + 4 * PAGE_SIZE, n + 2, bad[i].W);
        }
    }
    /* Reserve and commit at once, with a guard page protection. */
    if (ok) {
        ULONG gp = (ULONG)KtRandomRange(Context, 1, 8);
        base = NULL;
        size = gp * PAGE_SIZE;
        st = KtAlloc(&P, &base, 0, &size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD);
        ok = KtStatus(Context, "reserve_commit", st, STATUS_SUCCESS, "MEM_RESERVE|MEM_COMMIT, PAGE_READWRITE|PAGE_GUARD") &&
             KtCounters(Context, &P, (pages + 4 + gp) * PAGE_SIZE, n + 2 + gp, "after MEM_RESERVE|MEM_COMMIT") &&
             KtPages(Context, &P, "guard", (ULONG_PTR)base, gp, 1, MM_READWRITE | MM_GUARD_PAGE,
                     "MEM_RESERVE|MEM_COMMIT commits every page, PAGE_GUARD makes them guard pages") &&
             KtQuery(Context, &P, "query", (ULONG_PTR)base, (ULONG_PTR)base, PAGE_READWRITE | PAGE_GUARD, gp * PAGE_SIZE,
                     MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD, "in a guard region");
    }
    ok = ok && KtVmAuditTree(Context, &P.Space->VadRoot, "tree", "after the commits") >= 0;
out:
    KtVmDeleteProcess(Context, &P);
}

KTEST("vm.free", KtVmFree)
{
    KT_VM_PROCESS P;
    if (!KtVmCreateProcess(Context, &P))
        return;
    BOOLEAN ok;
    ULONG pages = (ULONG)KtRandomRange(Context, 8, 24);
    PVOID base = NULL;
    SIZE_T size = pages * PAGE_SIZE;
    NTSTATUS st = KtAlloc(&P, &base, 0, &size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (KtVmStubbed(Context) || !KtStatus(Context, "reserve", st, STATUS_SUCCESS, "MEM_RESERVE|MEM_COMMIT"))
        goto out;
    ULONG_PTR r = (ULONG_PTR)base;
    PFN_NUMBER avail = MmAvailablePages;
    ULONG resident = 0;
    for (ULONG i = 0; i < pages; i += 3)
        resident += KtVmMakeResident(P.Space, r + i * PAGE_SIZE, (UCHAR)(0x40 + i)) != 0;
    /* Release away from the base; a partial release. */
    ULONG off = (ULONG)KtRandomRange(Context, 1, pages - 1);
    base = (PVOID)(r + off * PAGE_SIZE + KtRandomRange(Context, 0, 0xFFF));
    size = 0;
    PVOID b0 = base;
    st = MmFreeVirtualMemory(P.Process, &base, &size, MEM_RELEASE);
    ok = KtStatus(Context, "not_at_base", st, STATUS_FREE_VM_NOT_AT_BASE, "MEM_RELEASE inside a reservation, not at its "
                  "base") &&
         KtCheck(Context, base == b0 && size == 0, "untouched", "a failed release changed *BaseAddress/*RegionSize") &&
         KtPages(Context, &P, "not_at_base", r, pages, 1, MM_READWRITE, "a refused release frees nothing");
    base = (PVOID)r;
    size = (pages - 1) * PAGE_SIZE;
    st = MmFreeVirtualMemory(P.Process, &base, &size, MEM_RELEASE);
    ok = ok && KtStatus(Context, "partial_release", st, STATUS_UNABLE_TO_FREE_VM, "MEM_RELEASE at the base with a size "
                        "short of the whole reservation") &&
         KtPages(Context, &P, "partial_release", r, pages, 1, MM_READWRITE, "a refused release frees nothing");
    /* Bad FreeType; free memory. */
    static const ULONG types[] = {0, MEM_RELEASE | MEM_DECOMMIT, MEM_FREE};
    for (ULONG i = 0; ok && i < 3; i++) {
        base = (PVOID)r;
        size = 0;
        st = MmFreeVirtualMemory(P.Process, &base, &size, types[i]);
        ok = KtStatus(Context, "free_type", st, STATUS_INVALID_PARAMETER_4, i == 0 ? "FreeType 0" : i == 1 ?
                      "FreeType MEM_RELEASE|MEM_DECOMMIT" : "FreeType MEM_FREE");
    }
    base = (PVOID)(r + 0x10000000);
    size = 0;
    st = MmFreeVirtualMemory(P.Process, &base, &size, MEM_RELEASE);
    ok = ok && KtStatus(Context, "not_allocated", st, STATUS_MEMORY_NOT_ALLOCATED, "MEM_RELEASE of free memory");
    /* Decommit in a reserve+commit region: those pages read as reserved afterwards. */
    ULONG d = (ULONG)KtRandomRange(Context, 1, pages - 3), dn = (ULONG)KtRandomRange(Context, 1, pages - d - 1);
    ULONG inrange = 0;
    for (ULONG i = d; i < d + dn; i++)
        inrange += i % 3 == 0;
    base = (PVOID)(r + d * PAGE_SIZE);
    size = dn * PAGE_SIZE;
    PFN_NUMBER before = MmAvailablePages;
    st = MmFreeVirtualMemory(P.Process, &base, &size, MEM_DECOMMIT);
    ok = ok && KtStatus(Context, "decommit", st, STATUS_SUCCESS, "MEM_DECOMMIT of committed pages") &&
         KtPages(Context, &P, "decommit_memcommit", r + d * PAGE_SIZE, dn, 0, 0, "decommitted pages of a "
                 "MEM_RESERVE|MEM_COMMIT region (a zero PTE there reads as committed: use MiMakeDecommittedPte)") &&
         KtPages(Context, &P, "decommit", r, d, 1, MM_READWRITE, "the pages before the decommitted ones") &&
         KtCounters(Context, &P, pages * PAGE_SIZE, pages - dn, "after decommitting") &&
         KtCheck(Context, MmAvailablePages - before == inrange, "decommit_frames", "decommitting %u pages of which %u "
                 "were resident gave back %lld frames, expected %u", dn, inrange, (LONG64)(MmAvailablePages - before),
                 inrange) &&
         KtQuery(Context, &P, "query", r + d * PAGE_SIZE, r, PAGE_READWRITE, dn * PAGE_SIZE, MEM_RESERVE, 0,
                 "in the decommitted run");
    /* Again: no error, nothing charged. */
    base = (PVOID)(r + d * PAGE_SIZE);
    size = dn * PAGE_SIZE;
    st = MmFreeVirtualMemory(P.Process, &base, &size, MEM_DECOMMIT);
    ok = ok && KtStatus(Context, "decommit", st, STATUS_SUCCESS, "MEM_DECOMMIT of pages decommitted already") &&
         KtCounters(Context, &P, pages * PAGE_SIZE, pages - dn, "after decommitting reserved pages");
    /* Past the end. */
    base = (PVOID)(r + (pages - 1) * PAGE_SIZE);
    size = 2 * PAGE_SIZE;
    st = MmFreeVirtualMemory(P.Process, &base, &size, MEM_DECOMMIT);
    ok = ok && KtStatus(Context, "decommit_past_end", st, STATUS_UNABLE_TO_FREE_VM, "MEM_DECOMMIT past the end of the "
                        "reservation");
    /* Size 0: from the page to the end. */
    base = (PVOID)(r + (pages - 1) * PAGE_SIZE + 0x10);
    size = 0;
    st = MmFreeVirtualMemory(P.Process, &base, &size, MEM_DECOMMIT);
    ok = ok && KtStatus(Context, "decommit", st, STATUS_SUCCESS, "MEM_DECOMMIT with size 0 in the last page") &&
         KtCheck(Context, base == (PVOID)(r + (pages - 1) * PAGE_SIZE) && size == PAGE_SIZE, "decommit_size0", "MEM_DECOMMIT "
                 "size 0 returned %p 0x%llx, expected %p 0x1000 (from the page to the end of the reservation)", base,
                 (ULONG64)size, (PVOID)(r + (pages - 1) * PAGE_SIZE)) &&
         KtCounters(Context, &P, pages * PAGE_SIZE, pages - dn - 1, "after decommitting the last page");
    /* Release it whole (the exact size is accepted too): every frame back. */
    base = (PVOID)r;
    size = pages * PAGE_SIZE;
    st = MmFreeVirtualMemory(P.Process, &base, &size, MEM_RELEASE);
    ok = ok && KtStatus(Context, "release", st, STATUS_SUCCESS, "MEM_RELEASE at the base with the whole size") &&
         KtCheck(Context, base == (PVOID)r && size == pages * PAGE_SIZE, "release", "MEM_RELEASE returned %p 0x%llx, "
                 "expected %p 0x%llx (the whole reservation)", base, (ULONG64)size, (PVOID)r, (ULONG64)pages * PAGE_SIZE) &&
         KtCounters(Context, &P, 0, 0, "after releasing the only reservation") &&
         KtCheck(Context, (LONG64)avail - (LONG64)MmAvailablePages <= 3, "release_frames", "after releasing a region "
                 "with %u resident pages %lld frames are still missing (page tables may stay: 3)", resident,
                 (LONG64)avail - (LONG64)MmAvailablePages) &&
         KtQuery(Context, &P, "query", r, 0, 0, MM_HIGHEST_VAD_ADDRESS + 1 - r, MEM_FREE, PAGE_NOACCESS,
                 "where the released region was (free up to the top)") &&
         KtCheck(Context, P.Space->VadRoot.NumberGenericTableElements == 0, "release", "%u VADs left after releasing "
                 "the only one", P.Space->VadRoot.NumberGenericTableElements);
    base = (PVOID)r;
    size = 0;
    st = MmFreeVirtualMemory(P.Process, &base, &size, MEM_RELEASE);
    ok = ok && KtStatus(Context, "not_allocated", st, STATUS_MEMORY_NOT_ALLOCATED, "MEM_RELEASE of a released region");
    /* Decommit in a reserve-only region with resident pages, size 0 from its base. */
    base = NULL;
    size = 6 * PAGE_SIZE;
    st = KtAlloc(&P, &base, 0, &size, MEM_RESERVE, PAGE_READWRITE);
    ULONG_PTR r2 = (ULONG_PTR)base;
    base = (PVOID)(r2 + PAGE_SIZE);
    size = 3 * PAGE_SIZE;
    NTSTATUS st2 = KtAlloc(&P, &base, 0, &size, MEM_COMMIT, PAGE_READWRITE);
    ok = ok && KtStatus(Context, "reserve", st, STATUS_SUCCESS, "a reservation") &&
         KtStatus(Context, "commit", st2, STATUS_SUCCESS, "a commit");
    if (ok) {
        KtVmMakeResident(P.Space, r2 + 2 * PAGE_SIZE, 0x77);
        before = MmAvailablePages;
        base = (PVOID)r2;
        size = 0;
        st = MmFreeVirtualMemory(P.Process, &base, &size, MEM_DECOMMIT);
        ok = KtStatus(Context, "decommit", st, STATUS_SUCCESS, "MEM_DECOMMIT size 0 at the base of a reservation") &&
             KtPages(Context, &P, "decommit", r2, 6, 0, 0, "every page decommitted") &&
             KtCounters(Context, &P, 6 * PAGE_SIZE, 0, "after decommitting a whole reservation") &&
             KtCheck(Context, MmAvailablePages - before == 1, "decommit_frames", "decommitting a resident page gave back "
                     "%lld frames, expected 1", (LONG64)(MmAvailablePages - before));
    }
out:
    KtVmDeleteProcess(Context, &P);
}

KTEST("vm.protect", KtVmProtect)
{
    KT_VM_PROCESS P;
    if (!KtVmCreateProcess(Context, &P))
        return;
    BOOLEAN ok;
    ULONG pages = (ULONG)KtRandomRange(Context, 6, 20);
    PVOID base = NULL;
    SIZE_T size = pages * PAGE_SIZE;
    ULONG old = 0xA5A5A5A5;
    NTSTATUS st = KtAlloc(&P, &base, 0, &size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (KtVmStubbed(Context) || !KtStatus(Context, "reserve", st, STATUS_SUCCESS, "MEM_RESERVE|MEM_COMMIT"))
        goto out;
    ULONG_PTR r = (ULONG_PTR)base;
    PFN_NUMBER pfn = KtVmMakeResident(P.Space, r, 0x5C);
    ok = KtCheck(Context, pfn != 0, "resident", "could not make the first page resident");
    /* Two pages read-only: OldProtect, the resident page's hardware bits, the frame kept. */
    base = (PVOID)(r + 0x10);
    size = PAGE_SIZE + 1;
    st = MmProtectVirtualMemory(P.Process, &base, &size, PAGE_READONLY, &old);
    MMPTE pte = MiReadUserPte(P.Space, r);
    ok = ok && KtStatus(Context, "protect", st, STATUS_SUCCESS, "NtProtectVirtualMemory(2 pages, PAGE_READONLY)") &&
         KtCheck(Context, old == PAGE_READWRITE, "old_protect", "OldProtect 0x%x (%s), expected PAGE_READWRITE (what the "
                 "first page had)", old, KtVmProtName(old)) &&
         KtCheck(Context, base == (PVOID)r && size == 2 * PAGE_SIZE, "protect_range", "returned %p 0x%llx, expected %p "
                 "0x2000 (the pages the range touches)", base, (ULONG64)size, (PVOID)r) &&
         KtCheck(Context, pte.Hard.Valid && pte.Hard.PageFrameNumber == pfn && !pte.Hard.Write && pte.Hard.NoExecute &&
                 MI_VALID_PTE_PROTECTION(pte) == MM_READONLY, "resident_protect", "the resident page's PTE is 0x%llx, "
                 "expected valid, frame 0x%llx kept, Write 0, NoExecute 1, kept code MM_READONLY "
                 "(MiSetUserPteProtection)", pte.Long, pfn) &&
         KtPages(Context, &P, "protect", r, 2, 1, MM_READONLY, "the protected pages") &&
         KtPages(Context, &P, "protect", r + 2 * PAGE_SIZE, pages - 2, 1, MM_READWRITE, "the pages after them") &&
         KtQuery(Context, &P, "query", r, r, PAGE_READWRITE, 2 * PAGE_SIZE, MEM_COMMIT, PAGE_READONLY,
                 "over the read-only run") &&
         KtCheck(Context, *(volatile UCHAR *)MiPfnToVirtual(pfn) == 0x5C, "resident_protect", "the resident page's "
                 "contents changed");
    /* Execute-read-write on the resident page. */
    base = (PVOID)r;
    size = 1;
    old = 0;
    st = MmProtectVirtualMemory(P.Process, &base, &size, PAGE_EXECUTE_READWRITE, &old);
    pte = MiReadUserPte(P.Space, r);
    ok = ok && KtStatus(Context, "protect", st, STATUS_SUCCESS, "PAGE_EXECUTE_READWRITE on one page") &&
         KtCheck(Context, old == PAGE_READONLY, "old_protect", "OldProtect 0x%x (%s), expected PAGE_READONLY", old,
                 KtVmProtName(old)) &&
         KtCheck(Context, pte.Hard.Valid && pte.Hard.Write && !pte.Hard.NoExecute, "resident_protect", "the resident "
                 "page's PTE after PAGE_EXECUTE_READWRITE is 0x%llx, expected Write 1 NoExecute 0", pte.Long);
    /* Two pages that differ: OldProtect is the first one's. */
    base = (PVOID)r;
    size = 2 * PAGE_SIZE;
    old = 0;
    st = MmProtectVirtualMemory(P.Process, &base, &size, PAGE_READWRITE, &old);
    ok = ok && KtStatus(Context, "protect", st, STATUS_SUCCESS, "PAGE_READWRITE over two pages") &&
         KtCheck(Context, old == PAGE_EXECUTE_READWRITE, "old_protect", "OldProtect over a PAGE_EXECUTE_READWRITE page "
                 "and a PAGE_READONLY one is 0x%x (%s), expected PAGE_EXECUTE_READWRITE (the first page's)", old,
                 KtVmProtName(old)) &&
         KtPages(Context, &P, "protect", r, 2, 1, MM_READWRITE, "both pages");
    /* Guard pages: set on a committed page, reported, OldProtect says so. */
    ULONG g = (ULONG)KtRandomRange(Context, 2, pages - 1);
    base = (PVOID)(r + g * PAGE_SIZE);
    size = PAGE_SIZE;
    st = MmProtectVirtualMemory(P.Process, &base, &size, PAGE_READWRITE | PAGE_GUARD, &old);
    ok = ok && KtStatus(Context, "guard", st, STATUS_SUCCESS, "PAGE_READWRITE|PAGE_GUARD") &&
         KtPages(Context, &P, "guard", r + g * PAGE_SIZE, 1, 1, MM_READWRITE | MM_GUARD_PAGE, "the guard page") &&
         KtQuery(Context, &P, "query", r + g * PAGE_SIZE, r, PAGE_READWRITE, PAGE_SIZE, MEM_COMMIT,
                 PAGE_READWRITE | PAGE_GUARD, "at the guard page");
    base = (PVOID)(r + g * PAGE_SIZE);
    size = PAGE_SIZE;
    st = MmProtectVirtualMemory(P.Process, &base, &size, PAGE_READONLY, &old);
    ok = ok && KtStatus(Context, "guard", st, STATUS_SUCCESS, "PAGE_READONLY over a guard page") &&
         KtCheck(Context, old == (PAGE_READWRITE | PAGE_GUARD), "old_protect", "OldProtect of a guard page 0x%x (%s), "
                 "expected PAGE_READWRITE|PAGE_GUARD", old, KtVmProtName(old));
    /* Not committed: nothing changes. */
    base = (PVOID)(r + (pages - 1) * PAGE_SIZE);
    size = PAGE_SIZE;
    PVOID b1 = base;
    st = MmFreeVirtualMemory(P.Process, &base, &size, MEM_DECOMMIT);
    ok = ok && KtStatus(Context, "decommit", st, STATUS_SUCCESS, "MEM_DECOMMIT of the last page");
    base = (PVOID)(r + (pages - 3) * PAGE_SIZE);
    size = 3 * PAGE_SIZE;
    old = 0xA5A5A5A5;
    st = MmProtectVirtualMemory(P.Process, &base, &size, PAGE_NOACCESS, &old);
    ok = ok && KtStatus(Context, "not_committed", st, STATUS_NOT_COMMITTED, "NtProtectVirtualMemory over committed "
                        "pages and a decommitted one") &&
         KtCheck(Context, old == 0xA5A5A5A5 && base == (PVOID)(r + (pages - 3) * PAGE_SIZE), "untouched", "a failed "
                 "protect wrote its outputs") &&
         KtPages(Context, &P, "not_committed", r + (pages - 3) * PAGE_SIZE, 1, 1, g == pages - 3 ? MM_READONLY :
                 MM_READWRITE, "a refused protect changes no page") &&
         KtPages(Context, &P, "not_committed", r + (pages - 2) * PAGE_SIZE, 1, 1, g == pages - 2 ? MM_READONLY :
                 MM_READWRITE, "a refused protect changes no page");
    UNREFERENCED_PARAMETER(b1);
    /* Leaving the VAD, free memory, bad protections, size 0. */
    struct { ULONG_PTR B; SIZE_T S; ULONG Prot; NTSTATUS Want; PCSTR W; } bad[] = {
        {r + (pages - 2) * PAGE_SIZE, 0x10000 + 2 * PAGE_SIZE, PAGE_READONLY, STATUS_CONFLICTING_ADDRESSES,
         "a range from a reservation into free memory"},
        {r + 0x10000000, PAGE_SIZE, PAGE_READONLY, STATUS_CONFLICTING_ADDRESSES, "free memory"},
        {r, PAGE_SIZE, PAGE_READONLY | PAGE_EXECUTE, STATUS_INVALID_PAGE_PROTECTION, "two access bits"},
        {r, PAGE_SIZE, PAGE_WRITECOPY, STATUS_INVALID_PAGE_PROTECTION, "PAGE_WRITECOPY on private memory"},
        {r, 0, PAGE_READONLY, STATUS_INVALID_PARAMETER_3, "*RegionSize 0"},
        {MM_HIGHEST_VAD_ADDRESS + 1, PAGE_SIZE, PAGE_READONLY, STATUS_INVALID_PARAMETER_2, "a base above "
         "MM_HIGHEST_VAD_ADDRESS"},
    };
    for (ULONG i = 0; ok && i < sizeof(bad) / sizeof(bad[0]); i++) {
        base = (PVOID)bad[i].B;
        size = bad[i].S;
        old = 0xA5A5A5A5;
        st = MmProtectVirtualMemory(P.Process, &base, &size, bad[i].Prot, &old);
        char what[96];
        RtlFormatString(what, sizeof(what), "NtProtectVirtualMemory over %s", bad[i].W);
        ok = KtStatus(Context, "protect_errors", st, bad[i].Want, what) &&
             KtCheck(Context, old == 0xA5A5A5A5, "untouched", "%s failed but wrote OldProtect", what);
    }
    ok = ok && KtPages(Context, &P, "protect_errors", r + 2 * PAGE_SIZE, 1, 1, g == 2 ? MM_READONLY : MM_READWRITE,
                       "refused protects change nothing");
    /* The query reports the VAD's type: an image's MEM_IMAGE, a view's MEM_MAPPED (VADs made by the test's hands). */
    for (ULONG t = 0; ok && t < 2; t++) {
        PMMVAD v = ExAllocatePoolWithTag(NonPagedPool, sizeof(MMVAD), MI_VAD_TAG);
        if (!KtCheck(Context, v != NULL, "pool", "no pool for a VAD"))
            break;
        RtlZeroMemory(v, sizeof(*v));
        ULONG_PTR vb = r + 0x20000000 + (ULONG_PTR)t * 0x100000;
        ULONG vpages = (ULONG)KtRandomRange(Context, 2, 6);
        v->Tag = MI_VAD_TAG;
        v->StartingVpn = MI_VA_TO_VPN(vb);
        v->EndingVpn = v->StartingVpn + vpages - 1;
        v->u.VadFlags.VadType = t == 0 ? VadImageMap : VadMappedView;
        v->u.VadFlags.MemCommit = 1;
        v->u.VadFlags.Protection = MM_READONLY;
        st = MiInsertVad(&P.Space->VadRoot, v);
        if (!KtCheck(Context, st == STATUS_SUCCESS, "insert", "MiInsertVad of a VAD in free memory: 0x%08X", (ULONG)st)) {
            ExFreePoolWithTag(v, MI_VAD_TAG);
            break;
        }
        MEMORY_BASIC_INFORMATION m;
        RtlZeroMemory(&m, sizeof(m));
        st = MmQueryVirtualMemory(P.Process, (PVOID)(vb + PAGE_SIZE + 7), &m);
        ULONG want = t == 0 ? MEM_IMAGE : MEM_MAPPED;
        ok = KtCheck(Context, st == STATUS_SUCCESS && m.Type == want && m.AllocationBase == (PVOID)vb &&
                     m.State == MEM_COMMIT && m.Protect == PAGE_READONLY && m.RegionSize == (vpages - 1) * PAGE_SIZE,
                     "query", "NtQueryVirtualMemory inside a %s VAD of %u pages: 0x%08X, Type 0x%x (0x%x), "
                     "AllocationBase %p (%p), State 0x%x (MEM_COMMIT), Protect 0x%x (PAGE_READONLY), RegionSize 0x%llx "
                     "(0x%llx)", t == 0 ? "VadImageMap" : "VadMappedView", vpages, (ULONG)st, m.Type, want,
                     m.AllocationBase, (PVOID)vb, m.State, m.Protect, (ULONG64)m.RegionSize,
                     (ULONG64)(vpages - 1) * PAGE_SIZE);
        /* MEM_COMMIT applies to private reservations only. */
        base = (PVOID)(vb + PAGE_SIZE);
        size = PAGE_SIZE;
        SIZE_T charge = P.Space->CommitCharge;
        st = KtAlloc(&P, &base, 0, &size, MEM_COMMIT, PAGE_READWRITE);
        ok = ok && KtCheck(Context, st == STATUS_CONFLICTING_ADDRESSES && base == (PVOID)(vb + PAGE_SIZE) &&
                           P.Space->CommitCharge == charge, "commit_outside", "MEM_COMMIT inside a %s VAD (not private "
                           "memory) returned 0x%08X (%s), charge %llu -> %llu: expected STATUS_CONFLICTING_ADDRESSES, "
                           "nothing changed", t == 0 ? "VadImageMap" : "VadMappedView", (ULONG)st, KtVmStatusName(st),
                           (ULONG64)charge, (ULONG64)P.Space->CommitCharge);
        MiRemoveVad(&P.Space->VadRoot, v);
        ExFreePoolWithTag(v, MI_VAD_TAG);
    }
out:
    KtVmDeleteProcess(Context, &P);
}

KTEST("vm.space", KtVmSpace)
{
    /* Two address spaces: the kernel half shared, the user halves apart, attach switches
     * CR3, and deleting one with pages, tables and VADs gives every frame back. */
    KT_VM_PROCESS A, B;
    if (!KtVmCreateProcess(Context, &A))
        return;
    if (!KtVmCreateProcess(Context, &B)) {
        KtVmDeleteProcess(Context, &A);
        return;
    }
    BOOLEAN ok = KtCheck(Context, A.Space->Pml4Pfn != B.Space->Pml4Pfn, "space", "two processes share a PML4");
    for (ULONG i = 256; ok && i < 512; i++)
        ok = KtCheck(Context, A.Space->Pml4[i].Long == MmKernelPml4[i].Long, "kernel_half", "PML4 entry %u of a new "
                     "address space is 0x%llx, the kernel's is 0x%llx (the kernel half is shared)", i,
                     A.Space->Pml4[i].Long, MmKernelPml4[i].Long);
    for (ULONG i = 0; ok && i < 256; i++)
        ok = KtCheck(Context, A.Space->Pml4[i].Long == 0, "user_half", "PML4 entry %u of a new address space is 0x%llx "
                     "(the user half starts empty)", i, A.Space->Pml4[i].Long);
    PVOID base = (PVOID)0x20000000;
    SIZE_T size = 8 * PAGE_SIZE;
    NTSTATUS st = KtAlloc(&A, &base, 0, &size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (KtVmStubbed(Context))
        goto out;
    ok = ok && KtStatus(Context, "reserve", st, STATUS_SUCCESS, "a reservation in A");
    ok = ok && KtQuery(Context, &B, "apart", 0x20000000, 0, 0, MM_HIGHEST_VAD_ADDRESS + 1 - 0x20000000, MEM_FREE,
                       PAGE_NOACCESS, "in process B, where only process A has a reservation");
    KeStackAttachProcess(A.Process);
    ULONG64 cr3 = __readcr3() & 0x000FFFFFFFFFF000ULL;
    KeUnstackDetachProcess();
    ok = ok && KtCheck(Context, cr3 == A.Process->DirectoryTableBase, "attach", "attached to A, CR3 is 0x%llx, expected "
                       "A's DirectoryTableBase 0x%llx", cr3, A.Process->DirectoryTableBase);
    for (ULONG i = 0; i < 8; i += 2)
        KtVmMakeResident(A.Space, 0x20000000 + i * PAGE_SIZE, 0x11);
out:
    KtVmDeleteProcess(Context, &A);
    KtVmDeleteProcess(Context, &B);
}
