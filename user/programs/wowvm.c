/* wowvm.c - lab 09's test program, built 64-bit (System32) and 32-bit (SysWOW64) from this one
 * source: given a seed, it allocates four seeded regions (two top-down), queries, protects
 * and frees each, closes a bad handle and asks
 * for its process's basic information, reporting every status and result in a form that is
 * the same in both builds. Built 32-bit, every call goes through the wow64 layer's thunks
 * (labs/09-wow64/thunk.c): the grader (grader/models/lab09.py) judges each value from the
 * seed and the 32-bit transcript against the 64-bit one. */
#include "ktuser.h"

#define MEM_COMMIT 0x1000
#define MEM_RESERVE 0x2000
#define MEM_RELEASE 0x8000
#define MEM_TOP_DOWN 0x100000
#define PAGE_READONLY 0x02
#define PAGE_READWRITE 0x04

typedef struct _MEMORY_BASIC_INFORMATION {
    PVOID BaseAddress;
    PVOID AllocationBase;
    ULONG AllocationProtect;
    SIZE_T RegionSize;
    ULONG State;
    ULONG Protect;
    ULONG Type;
} MEMORY_BASIC_INFORMATION;

typedef struct _PROCESS_BASIC_INFORMATION {
    NTSTATUS ExitStatus;
    PVOID PebBaseAddress;
    ULONG_PTR AffinityMask;
    LONG BasePriority;
    ULONG_PTR UniqueProcessId;
    ULONG_PTR InheritedFromUniqueProcessId;
} PROCESS_BASIC_INFORMATION;

NTSTATUS NtAllocateVirtualMemory(HANDLE ProcessHandle, PVOID *BaseAddress, ULONG_PTR ZeroBits, PSIZE_T RegionSize,
                                 ULONG AllocationType, ULONG Protect);
NTSTATUS NtFreeVirtualMemory(HANDLE ProcessHandle, PVOID *BaseAddress, PSIZE_T RegionSize, ULONG FreeType);
NTSTATUS NtProtectVirtualMemory(HANDLE ProcessHandle, PVOID *BaseAddress, PSIZE_T RegionSize, ULONG NewProtect,
                                PULONG OldProtect);
NTSTATUS NtQueryVirtualMemory(HANDLE ProcessHandle, PVOID BaseAddress, ULONG InformationClass, PVOID Information,
                              SIZE_T Length, PSIZE_T ReturnLength);
NTSTATUS NtQueryInformationProcess(HANDLE ProcessHandle, ULONG InformationClass, PVOID Information, ULONG Length,
                                   PULONG ReturnLength);
NTSTATUS NtClose(HANDLE Handle);

static ULONG64 Next(ULONG64 *x)
{
    ULONG64 z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        KtuPrint("usage: wowvm SEED");
        return 2;
    }
    ULONG64 x = RtlStringToUlong64(argv[1], NULL);
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        char key[16];
        SIZE_T want = (SIZE_T)((Next(&x) % 16) + 1) * 4096 + (SIZE_T)(Next(&x) % 4096);
        ULONG type = MEM_RESERVE | MEM_COMMIT | ((i & 1) ? MEM_TOP_DOWN : 0);
        PVOID base = NULL;
        SIZE_T size = want;
        NTSTATUS st = NtAllocateVirtualMemory(NtCurrentProcess(), &base, 0, &size, type, PAGE_READWRITE);
        RtlFormatString(key, sizeof(key), "alloc%d", i);
        KtuValue(key, "0x%x %llu", st, (ULONG64)size);
        if (!NT_SUCCESS(st)) {
            bad++;
            continue;
        }
        /* A 32-bit process's region ends below its 2 GiB limit. */
        RtlFormatString(key, sizeof(key), "fits%d", i);
        KtuValue(key, "%d", sizeof(PVOID) == 8 || (ULONG64)(ULONG_PTR)base + size - 1 <= 0x7FFEFFFFULL);
        SIZE_T off = (size / 2) & ~(SIZE_T)4095;
        MEMORY_BASIC_INFORMATION m;
        memset(&m, 0xCC, sizeof(m));
        SIZE_T ret = 0;
        st = NtQueryVirtualMemory(NtCurrentProcess(), (PUCHAR)base + off + 8, 0, &m, sizeof(m), &ret);
        RtlFormatString(key, sizeof(key), "query%d", i);
        KtuValue(key, "0x%x %d %d 0x%x 0x%x 0x%x %llu %d", st, m.BaseAddress == (PUCHAR)base + off,
                 m.AllocationBase == base, m.State, m.Protect, m.Type, (ULONG64)m.RegionSize, ret == sizeof(m));
        PVOID pb = (PUCHAR)base + 16;
        SIZE_T ps = 4000;
        ULONG old = 0;
        st = NtProtectVirtualMemory(NtCurrentProcess(), &pb, &ps, PAGE_READONLY, &old);
        RtlFormatString(key, sizeof(key), "protect%d", i);
        KtuValue(key, "0x%x 0x%x %llu %d", st, old, (ULONG64)ps, pb == base);
        PVOID fb = base;
        SIZE_T fs = 0;
        st = NtFreeVirtualMemory(NtCurrentProcess(), &fb, &fs, MEM_RELEASE);
        RtlFormatString(key, sizeof(key), "free%d", i);
        KtuValue(key, "0x%x %llu %d", st, (ULONG64)fs, fb == base);
    }
    KtuValue("close", "0x%x", NtClose((HANDLE)(ULONG_PTR)0x12340));
    PROCESS_BASIC_INFORMATION pbi;
    memset(&pbi, 0, sizeof(pbi));
    ULONG ret = 0;
    NTSTATUS st = NtQueryInformationProcess(NtCurrentProcess(), 0, &pbi, sizeof(pbi), &ret);
    KtuValue("process", "0x%x %d %d", st, ret == sizeof(pbi), pbi.UniqueProcessId != 0);
    return bad;
}
