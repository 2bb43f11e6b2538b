/* vmstorm.c - lab 08's virtual-memory test program (ktest user.vmstorm,
 * labs/08-usermode/tests/vmuser_tests.c; judged by grader/models/lab08.py, vm_user):
 * from ring 3, a seeded storm of NtAllocateVirtualMemory (reserve, reserve+commit, commit),
 * NtFreeVirtualMemory (decommit, release at and away from the base) and
 * NtProtectVirtualMemory calls over 16 slots of 1 MiB at 0x20000000, each one's status and
 * outputs reported, and every 12 calls the regions NtQueryVirtualMemory reports over the
 * slots. Its choices depend on the seed only, never on what the kernel answered, so the
 * model replays the same calls. Arguments: storm SEED CALLS, or "touch" to read a committed
 * page (zeros) and then touch a reserved one (an access violation ends the process).
 * Also: bad pointers for the outputs (the kernel survives, STATUS_ACCESS_VIOLATION). */
#include "ktuser.h"
#include "ntmm.h"

#define SLOT_BASE 0x20000000ULL
#define SLOT_SIZE 0x100000ULL
#define SLOTS 16       /* the walk covers 16 slots of 1 MiB */
#define STORM_SLOTS 4  /* the random calls use the first 4 (the scripted ones slot 12) */

static ULONG64 State;

static ULONG64 Next(void)
{
    State += 0x9E3779B97F4A7C15ULL;
    ULONG64 z = State;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static ULONG64 Range(ULONG64 Low, ULONG64 High)
{
    return High <= Low ? Low : Low + Next() % (High - Low + 1);
}

static const ULONG Prots[6] = {PAGE_READONLY, PAGE_READWRITE, PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE, PAGE_NOACCESS,
                               PAGE_READWRITE | PAGE_GUARD};

static void Walk(ULONG Step)
{
    ULONG64 va = SLOT_BASE, end = SLOT_BASE + SLOTS * SLOT_SIZE;
    for (ULONG j = 0; va < end && j < 200; j++) {
        MEMORY_BASIC_INFORMATION m;
        SIZE_T got = 0;
        NTSTATUS st = NtQueryVirtualMemory(NtCurrentProcess(), (PVOID)va, MemoryBasicInformation, &m, sizeof(m), &got);
        char key[24];
        RtlFormatString(key, sizeof(key), "w%u.%u", Step, j);
        if (!NT_SUCCESS(st) || m.RegionSize == 0) {
            KtuValue(key, "0x%x", (ULONG)st);
            return;
        }
        ULONG64 size = m.RegionSize;
        if ((ULONG64)m.BaseAddress + size > end)
            size = end - (ULONG64)m.BaseAddress; /* what lies above the slots is not the test's */
        KtuValue(key, "0x%llx 0x%llx 0x%x 0x%x 0x%llx 0x%x 0x%x %llu", (ULONG64)m.BaseAddress, size, m.State, m.Protect,
                 (ULONG64)m.AllocationBase, m.AllocationProtect, m.Type, (ULONG64)got);
        va = (ULONG64)m.BaseAddress + m.RegionSize;
    }
}

enum { CALL_ALLOCATE, CALL_FREE, CALL_PROTECT };
typedef struct _CALL {
    ULONG Kind;
    ULONG64 Base, Size;
    ULONG Type, Prot;
} CALL;

#define SCRIPTED 13
static ULONG64 AEnd; /* the last byte scripted call 0 asked for */
static ULONG64 Last = SLOT_BASE, LastSize = 0x10000;

static void Set(CALL *C, ULONG Kind, ULONG64 Base, ULONG64 Size, ULONG Type, ULONG Prot)
{
    C->Kind = Kind;
    C->Base = Base;
    C->Size = Size;
    C->Type = Type;
    C->Prot = Prot;
}

/* Call I of the storm (grader/models/lab08.py storm_calls draws the same numbers in the
 * same order: one draw a statement). The first SCRIPTED calls, at slot 12, cover every case
 * on every seed; then in each group of six, calls 1-5 aim at what call 0 asked to reserve. */
static void NextCall(ULONG I, CALL *C)
{
    ULONG64 s = SLOT_BASE + 12 * SLOT_SIZE, base, size;
    ULONG prot;
    if (I < SCRIPTED) {
        switch (I) {
        case 0:
            base = s + Range(0, 0xFFFF);
            size = Range(0x3000, 0x20000);
            AEnd = base + size - 1;
            Set(C, CALL_ALLOCATE, base, size, MEM_RESERVE | MEM_COMMIT, Prots[Range(0, 3)]);
            return;
        case 1:
            base = s + Range(0, 0xFFF);
            size = Range(1, 0x1000);
            Set(C, CALL_PROTECT, base, size, 0, Prots[Range(0, 5)]);
            return;
        case 2:
            base = s + Range(0, 0xFFFF);
            Set(C, CALL_ALLOCATE, base, Range(1, 0x1000), MEM_RESERVE, PAGE_READWRITE);
            return;
        case 3: /* its last page and the free one after it */
            Set(C, CALL_PROTECT, AEnd & ~0xFFFULL, 0x2000, 0, PAGE_READONLY);
            return;
        case 4:
            Set(C, CALL_FREE, s + 0x1000, 0x40000, MEM_DECOMMIT, 0);
            return;
        case 5:
            Set(C, CALL_FREE, s + 0x1000 + Range(0, 0xFFF), 0, MEM_RELEASE, 0);
            return;
        case 6:
            base = s + 0x80000 + Range(0, 0xFFFF);
            Set(C, CALL_ALLOCATE, base, Range(0x2000, 0x10000), MEM_RESERVE, PAGE_READWRITE);
            return;
        case 7:
            Set(C, CALL_PROTECT, s + 0x80000, 0x1000, 0, PAGE_READONLY);
            return;
        case 8:
            base = s + 0x80000 + Range(0, 0xFFF);
            Set(C, CALL_ALLOCATE, base, 0x1000, MEM_COMMIT, Prots[Range(0, 5)]);
            return;
        case 9:
            Set(C, CALL_FREE, s + 0x80000, 0x1000, MEM_DECOMMIT, 0);
            return;
        case 10:
        case 11:
            Set(C, CALL_FREE, s, 0, MEM_RELEASE, 0);
            return;
        default:
            Set(C, CALL_FREE, s + 0x80000, 0, MEM_RELEASE, 0);
            return;
        }
    }
    switch ((I - SCRIPTED) % 6) {
    case 0: {
        ULONG64 slot = SLOT_BASE + Range(0, STORM_SLOTS - 1) * SLOT_SIZE;
        ULONG64 a = Range(0, 3);
        base = slot + a * 0x10000 + Range(0, 0xFFFF);
        size = Range(1, 0x30000);
        ULONG type = Range(0, 1) ? MEM_RESERVE : MEM_RESERVE | MEM_COMMIT;
        Last = base & ~0xFFFFULL;
        LastSize = size + (base & 0xFFFF);
        Set(C, CALL_ALLOCATE, base, size, type, Prots[Range(0, 5)]);
        return;
    }
    case 1:
        base = Last + Range(0, LastSize - 1);
        size = Range(1, 0x8000);
        Set(C, CALL_ALLOCATE, base, size, MEM_COMMIT, Prots[Range(0, 5)]);
        return;
    case 2:
        base = Last + Range(0, LastSize - 1);
        size = Range(1, 0x3000);
        prot = Prots[Range(0, 5)];
        Set(C, CALL_PROTECT, base, size, 0, prot);
        return;
    case 3:
        base = Last + Range(0, LastSize - 1);
        size = Range(0, 3) == 0 ? 0 : Range(1, 0x20000);
        Set(C, CALL_FREE, base, size, MEM_DECOMMIT, 0);
        return;
    case 4:
        base = Last;
        if (Range(0, 2) == 0)
            base += Range(1, LastSize - 1);
        Set(C, CALL_FREE, base, 0, MEM_RELEASE, 0);
        return;
    default:
        base = Last + Range(0, LastSize + 0x10000);
        size = Range(1, 0x10000);
        Set(C, CALL_ALLOCATE, base, size, MEM_RESERVE, PAGE_READWRITE);
        return;
    }
}

/* Virtual and private bytes now (NtQueryInformationProcess, ProcessVmCounters). */
static NTSTATUS Counters(ULONG64 *Virtual, ULONG64 *Private)
{
    VM_COUNTERS c;
    ULONG got = 0;
    NTSTATUS st = NtQueryInformationProcess(NtCurrentProcess(), ProcessVmCounters, &c, sizeof(c), &got);
    *Virtual = c.VirtualSize;
    *Private = c.PagefileUsage;
    return NT_SUCCESS(st) && got != sizeof(c) ? STATUS_UNSUCCESSFUL : st;
}

static int Storm(ULONG64 Seed, ULONG Calls)
{
    State = Seed;
    ULONG64 v0 = 0, p0 = 0;
    NTSTATUS cst = Counters(&v0, &p0);
    KtuValue("counters", "0x%x", (ULONG)cst);
    for (ULONG i = 0; i < Calls; i++) {
        CALL c;
        NextCall(i, &c);
        PVOID base = (PVOID)c.Base;
        SIZE_T size = c.Size;
        ULONG old = 0xA5A5A5A5;
        NTSTATUS st;
        if (c.Kind == CALL_ALLOCATE)
            st = NtAllocateVirtualMemory(NtCurrentProcess(), &base, 0, &size, c.Type, c.Prot);
        else if (c.Kind == CALL_FREE)
            st = NtFreeVirtualMemory(NtCurrentProcess(), &base, &size, c.Type);
        else
            st = NtProtectVirtualMemory(NtCurrentProcess(), &base, &size, c.Prot, &old);
        char key[16];
        RtlFormatString(key, sizeof(key), "op%u", i);
        ULONG64 v = v0, p = p0;
        if (NT_SUCCESS(cst))
            Counters(&v, &p);
        /* status, outputs, and virtual and private bytes since the storm began (one record a
         * call: a run may write KT_USER_MAX_RECORDS) */
        KtuValue(key, "0x%x 0x%llx 0x%llx 0x%x %lld %lld", (ULONG)st, (ULONG64)base, (ULONG64)size, old,
                 (LONG64)(v - v0), (LONG64)(p - p0));
        if (i % 12 == 11 || i == Calls - 1)
            Walk(i);
    }
    return 0;
}

/* Bad pointers for every output: the services return STATUS_ACCESS_VIOLATION (or
 * STATUS_DATATYPE_MISALIGNMENT) and nothing happens. */
static void BadPointers(void)
{
    static const ULONG64 bad[4] = {0, 0xFFFFF80000000000ULL, 0x20000001ULL, 0x7FFFFFFF0000ULL};
    for (ULONG i = 0; i < 4; i++) {
        SIZE_T size = 0x1000;
        PVOID base = NULL;
        NTSTATUS a = NtAllocateVirtualMemory(NtCurrentProcess(), (PVOID *)bad[i], 0, &size, MEM_RESERVE, PAGE_READWRITE);
        NTSTATUS b = NtAllocateVirtualMemory(NtCurrentProcess(), &base, 0, (PSIZE_T)bad[i], MEM_RESERVE, PAGE_READWRITE);
        NTSTATUS c = NtQueryVirtualMemory(NtCurrentProcess(), (PVOID)SLOT_BASE, MemoryBasicInformation, (PVOID)bad[i],
                                          sizeof(MEMORY_BASIC_INFORMATION), NULL);
        char key[16];
        RtlFormatString(key, sizeof(key), "bad%u", i);
        KtuValue(key, "0x%x 0x%x 0x%x", (ULONG)a, (ULONG)b, (ULONG)c);
    }
}

static int Touch(void)
{
    PVOID base = NULL;
    SIZE_T size = 0x20000;
    NTSTATUS st = NtAllocateVirtualMemory(NtCurrentProcess(), &base, 0, &size, MEM_RESERVE, PAGE_READWRITE);
    KtuValue("reserve", "0x%x", (ULONG)st);
    PVOID c = base;
    SIZE_T cs = 0x1000;
    st = NtAllocateVirtualMemory(NtCurrentProcess(), &c, 0, &cs, MEM_COMMIT, PAGE_READWRITE);
    KtuValue("commit", "0x%x", (ULONG)st);
    if (!NT_SUCCESS(st))
        return 1;
    volatile ULONG64 *p = base;
    ULONG64 sum = 0;
    for (ULONG i = 0; i < 512; i++)
        sum |= p[i];
    KtuValue("committed_reads", "0x%llx", sum);
    p[7] = 0x1234;
    KtuValue("written", "0x%llx", p[7]);
    KtuPrint("touching the reserved page next");
    volatile ULONG64 *r = (volatile ULONG64 *)((PUCHAR)base + 0x1000);
    KtuValue("reserved_reads", "0x%llx", r[0]); /* never reached: an access violation ends the process */
    return 3;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "storm") == 0) {
        BadPointers();
        return Storm(RtlStringToUlong64(argv[2], NULL), (ULONG)RtlStringToUlong64(argv[3], NULL));
    }
    if (argc == 2 && strcmp(argv[1], "touch") == 0)
        return Touch();
    KtuPrint("usage: vmstorm storm SEED CALLS | vmstorm touch");
    return 2;
}
