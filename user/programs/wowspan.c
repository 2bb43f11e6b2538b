/* wowspan.c - lab 09's address-limit program (w16f), built 64-bit (System32), 32-bit
 * (SysWOW64/wowspan.exe: a 2 GiB limit) and 32-bit large-address aware
 * (SysWOW64/wowspanl.exe, IMAGE_FILE_LARGE_ADDRESS_AWARE: a 4 GiB limit). It reports the
 * flag of its own image, asks for fixed ranges across and past its limit, then reserves
 * seeded sizes top-down and bottom-up, in turn, until the allocator refuses or a seeded
 * count is reached, and reports the lowest base, the highest end, how many regions end
 * above 2 GiB and how many at or above 4 GiB, and the end of the first top-down region.
 * The 64-bit build shows where the 64-bit allocator alone would go (far above 4 GiB); the
 * 32-bit ones must never pass their limit. The grader (grader/models/lab09f.py) judges. */
#include "ktuser.h"

#define MEM_RESERVE 0x2000
#define MEM_RELEASE 0x8000
#define MEM_TOP_DOWN 0x100000
#define PAGE_READWRITE 0x04
#define IMAGE_FILE_LARGE_ADDRESS_AWARE 0x0020

NTSTATUS NtAllocateVirtualMemory(HANDLE ProcessHandle, PVOID *BaseAddress, ULONG_PTR ZeroBits, PSIZE_T RegionSize,
                                 ULONG AllocationType, ULONG Protect);
NTSTATUS NtFreeVirtualMemory(HANDLE ProcessHandle, PVOID *BaseAddress, PSIZE_T RegionSize, ULONG FreeType);

extern const unsigned char __ImageBase[];   /* ld's: this image's base (its DOS header) */

static ULONG64 Next(ULONG64 *x)
{
    ULONG64 z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static NTSTATUS Fixed(PCSTR Key, ULONG64 Base, SIZE_T Size)
{
    PVOID base = (PVOID)(ULONG_PTR)Base;
    SIZE_T size = Size;
    NTSTATUS st = NtAllocateVirtualMemory(NtCurrentProcess(), &base, 0, &size, MEM_RESERVE, PAGE_READWRITE);
    KtuValue(Key, "0x%x", st);
    if (NT_SUCCESS(st)) {
        size = 0;
        NtFreeVirtualMemory(NtCurrentProcess(), &base, &size, MEM_RELEASE);
    }
    return st;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        KtuPrint("usage: wowspan SEED");
        return 2;
    }
    ULONG64 x = RtlStringToUlong64(argv[1], NULL);
    const unsigned char *nt = __ImageBase + *(const ULONG *)(__ImageBase + 0x3C);
    USHORT characteristics = *(const USHORT *)(nt + 4 + 18);
    int laa = (characteristics & IMAGE_FILE_LARGE_ADDRESS_AWARE) != 0;
    KtuValue("image", "%u %d", (ULONG)sizeof(PVOID) * 8, laa);
    ULONG64 limit = laa ? 0xFFFEFFFFULL : 0x7FFEFFFFULL;
    /* Past the limit, across it, just below it (the 64-bit build is allowed all three). */
    Fixed("fixed.past", limit + 1, 0x10000);
    Fixed("fixed.across", limit + 1 - 0x20000, 0x40000);
    Fixed("fixed.below", limit + 1 - 0x400000 - 0x10000 * (Next(&x) % 16), 0x20000);   /* clear of the images at 0x7FF00000 */

    ULONG cap = 40 + (ULONG)(Next(&x) % 40);
    ULONG count = 0, above2 = 0, above4 = 0;
    ULONG64 low = ~0ULL, high = 0, firstTopEnd = 0;
    NTSTATUS last = 0;
    while (count < cap) {
        int top = (count & 1) == 0;
        SIZE_T size = (SIZE_T)(1 + Next(&x) % 4) * 0x4000000;     /* 64..256 MiB */
        PVOID base = NULL;
        last = NtAllocateVirtualMemory(NtCurrentProcess(), &base, 0, &size,
                                       MEM_RESERVE | (top ? MEM_TOP_DOWN : 0), PAGE_READWRITE);
        if (!NT_SUCCESS(last))
            break;
        ULONG64 b = (ULONG64)(ULONG_PTR)base, e = b + size - 1;
        count++;
        if (b < low)
            low = b;
        if (e > high)
            high = e;
        if (e > 0x7FFFFFFFULL)
            above2++;
        if (e > 0xFFFFFFFFULL)
            above4++;
        if (top && firstTopEnd == 0)
            firstTopEnd = e;
    }
    KtuValue("span", "%u %d 0x%x 0x%llx 0x%llx %u %u 0x%llx", count, count == cap, NT_SUCCESS(last) ? 0 : last,
             low, high, above2, above4, firstTopEnd);
    /* Nothing is freed: the harness maps the stack, TEB and PEB without a VAD, so a bottom-up
     * reservation may cover them and releasing it would unmap them (the process's end frees
     * everything). */
    return 0;
}
