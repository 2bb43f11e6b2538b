/* pfpager.c - lab 08's paging test program (pf part; ktest pf.user, its model
 * grader/models/lab08pf.py). Modes, from the command line the checkpoint derives from its seed:
 *   pfpager.exe pages N SALT   commits N pages (NtAllocateVirtualMemory), writes a pattern of
 *                              SALT into every page in order, then reads every page back in
 *                              reverse order; reports the page-fault count of each pass and the peak
 *                              working set (NtQueryInformationProcess ProcessVmCounters, as
 *                              NT's documented query reports them) and the pages that came
 *                              back wrong. N is larger than the working set's maximum: the
 *                              clock sends pages to the pagefile and the faults bring them back.
 *   pfpager.exe guard          touches a PAGE_GUARD page: STATUS_GUARD_PAGE_VIOLATION ends it.
 *   pfpager.exe reserved       touches reserved, uncommitted memory: STATUS_ACCESS_VIOLATION.
 * The last two end by their exception (the process's exit status), never the kernel. */
#include "ktuser.h"

#define MEM_COMMIT 0x1000
#define MEM_RESERVE 0x2000
#define PAGE_READWRITE 0x04
#define PAGE_GUARD 0x100
#define ProcessVmCounters 3

/* NT's prototypes (ntdll's stubs are generated from user/services.def). */
NTSTATUS NtAllocateVirtualMemory(HANDLE ProcessHandle, PVOID *BaseAddress, ULONG_PTR ZeroBits, PSIZE_T RegionSize,
                                 ULONG AllocationType, ULONG Protect);
NTSTATUS NtQueryInformationProcess(HANDLE ProcessHandle, ULONG ProcessInformationClass, PVOID ProcessInformation,
                                   ULONG ProcessInformationLength, PULONG ReturnLength);

typedef struct _VM_COUNTERS {
    SIZE_T PeakVirtualSize;
    SIZE_T VirtualSize;
    ULONG PageFaultCount;
    SIZE_T PeakWorkingSetSize;
    SIZE_T WorkingSetSize;
    SIZE_T QuotaPeakPagedPoolUsage;
    SIZE_T QuotaPagedPoolUsage;
    SIZE_T QuotaPeakNonPagedPoolUsage;
    SIZE_T QuotaNonPagedPoolUsage;
    SIZE_T PagefileUsage;
    SIZE_T PeakPagefileUsage;
} VM_COUNTERS;

static ULONG64 Word(ULONG64 Salt, ULONG64 Page, ULONG64 Index)
{
    ULONG64 x = (Salt << 40 ^ Page << 12 ^ Index) * 0x9E3779B97F4A7C15ULL;
    return x ^ (x >> 29);
}

static NTSTATUS QueryStatus;
static ULONG QueryLength;

static ULONG Faults(void)
{
    VM_COUNTERS c;
    memset(&c, 0, sizeof(c));
    QueryStatus = NtQueryInformationProcess(NtCurrentProcess(), ProcessVmCounters, &c, sizeof(c), &QueryLength);
    return c.PageFaultCount;
}

static int Pages(ULONG64 N, ULONG64 Salt)
{
    /* High enough to stay clear of what the harness maps without a VAD (the process
     * parameters at 0x30000). */
    PVOID base = (PVOID)0x20000000;
    SIZE_T size = N * 4096;
    NTSTATUS s = NtAllocateVirtualMemory(NtCurrentProcess(), &base, 0, &size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (!KtuCheck(NT_SUCCESS(s), "allocate", "NtAllocateVirtualMemory(%llu pages): 0x%x", N, (ULONG)s))
        return 1;
    volatile ULONG64 *p = base;
    ULONG f0 = Faults();
    for (ULONG64 i = 0; i < N; i++)
        for (ULONG64 w = 0; w < 512; w += 64)
            p[i * 512 + w] = Word(Salt, i, w);
    ULONG f1 = Faults();
    ULONG64 bad = 0;
    for (ULONG64 i = N; i-- > 0;)      /* the read pass goes backwards: the last pages are still in */
        for (ULONG64 w = 0; w < 512; w += 64)
            if (p[i * 512 + w] != Word(Salt, i, w))
                bad++;
    ULONG f2 = Faults();
    VM_COUNTERS c;
    memset(&c, 0, sizeof(c));
    NtQueryInformationProcess(NtCurrentProcess(), ProcessVmCounters, &c, sizeof(c), NULL);
    KtuValue("query", "0x%x %u", (ULONG)QueryStatus, QueryLength);
    KtuValue("write_faults", "%u", f1 - f0);
    KtuValue("read_faults", "%u", f2 - f1);
    KtuValue("bad_words", "%llu", bad);
    KtuValue("peak_working_set", "%llu", (ULONG64)c.PeakWorkingSetSize);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "pages") == 0)
        return Pages(RtlStringToUlong64(argv[2], NULL), RtlStringToUlong64(argv[3], NULL));
    PVOID base = NULL;
    SIZE_T size = 0x10000;
    BOOLEAN guard = argc == 2 && strcmp(argv[1], "guard") == 0;
    NTSTATUS s = NtAllocateVirtualMemory(NtCurrentProcess(), &base, 0, &size, guard ? MEM_RESERVE | MEM_COMMIT : MEM_RESERVE,
                                         guard ? PAGE_READWRITE | PAGE_GUARD : PAGE_READWRITE);
    if (!KtuCheck(NT_SUCCESS(s), "allocate", "NtAllocateVirtualMemory: 0x%x", (ULONG)s))
        return 1;
    KtuValue("touch", "%s", guard ? "guard" : "reserved");
    volatile ULONG64 *p = base;
    p[3] = 1;                 /* ends the process with the exception */
    KtuValue("survived", "%llu", (ULONG64)p[3]);
    return 3;
}
