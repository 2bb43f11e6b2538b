/* wowgdb.c - the 32-bit program the live test of `nt wow64` stops in (w16f;
 * labs/09-wow64/tests/gdb_wow64_tests.c, tests/test_gdb_wow64.py). Given three seeded values it
 * commits a page at WOWGDB_SHARED (0x20000000) where it writes the truth - its TEB32 (FS:[0x18]),
 * the spin loop's first and last byte, the ESP inside the loop - then spins in 32-bit code with
 * EBX, ESI, EDI holding the three values until the kernel test sets the page's Stop word. The
 * clock interrupts it there: its trap frame holds the 32-bit context GDB decodes. The 64-bit
 * build (every program has one) does nothing. */
#include "ktuser.h"

#define WOWGDB_SHARED 0x20000000

typedef struct {
    volatile ULONG Stop;     /* 0x00 the kernel test sets it */
    ULONG Ready;             /* 0x04 */
    ULONG Teb32;             /* 0x08 FS:[0x18] */
    ULONG LoopStart;         /* 0x0C */
    ULONG LoopEnd;           /* 0x10 */
    ULONG Esp;               /* 0x14 in the loop */
} WOWGDB_SHARED_PAGE;

NTSTATUS NtAllocateVirtualMemory(HANDLE ProcessHandle, PVOID *BaseAddress, ULONG_PTR ZeroBits, PSIZE_T RegionSize,
                                 ULONG AllocationType, ULONG Protect);

#ifdef __i386__
/* WowGdbSpin(Ebx, Esi, Edi, Shared): records ESP, sets Ready, loops until Stop (EAX counts). */
extern const char WowGdbSpin[], WowGdbLoop[], WowGdbLoopEnd[];
__asm__(".text\n"
        ".globl _WowGdbSpin, _WowGdbLoop, _WowGdbLoopEnd\n"
        "_WowGdbSpin:\n"
        "  pushl %ebx\n  pushl %esi\n  pushl %edi\n"
        "  movl 16(%esp), %ebx\n  movl 20(%esp), %esi\n  movl 24(%esp), %edi\n  movl 28(%esp), %ecx\n"
        "  movl %esp, 0x14(%ecx)\n  movl $1, 0x04(%ecx)\n  xorl %eax, %eax\n"
        "_WowGdbLoop:\n"
        "  incl %eax\n  cmpl $0, (%ecx)\n  je _WowGdbLoop\n"
        "_WowGdbLoopEnd:\n"
        "  popl %edi\n  popl %esi\n  popl %ebx\n  ret\n");
void WowGdbSpinCall(ULONG Ebx, ULONG Esi, ULONG Edi, WOWGDB_SHARED_PAGE *Shared) __asm__("_WowGdbSpin");
#endif

int main(int argc, char **argv)
{
    if (argc != 4) {
        KtuPrint("usage: wowgdb EBX ESI EDI");
        return 2;
    }
#ifdef __i386__
    PVOID base = (PVOID)WOWGDB_SHARED;
    SIZE_T size = 4096;
    NTSTATUS st = NtAllocateVirtualMemory(NtCurrentProcess(), &base, 0, &size, 0x3000, 0x04);
    KtuValue("shared", "0x%x 0x%x", st, (ULONG)(ULONG_PTR)base);
    if (!NT_SUCCESS(st))
        return 1;
    WOWGDB_SHARED_PAGE *shared = base;
    ULONG teb32;
    __asm__ volatile("movl %%fs:0x18, %0" : "=r"(teb32));
    shared->Teb32 = teb32;
    shared->LoopStart = (ULONG)(ULONG_PTR)WowGdbLoop;
    shared->LoopEnd = (ULONG)(ULONG_PTR)WowGdbLoopEnd - 1;
    WowGdbSpinCall((ULONG)RtlStringToUlong64(argv[1], NULL), (ULONG)RtlStringToUlong64(argv[2], NULL),
                   (ULONG)RtlStringToUlong64(argv[3], NULL), shared);
    KtuValue("stopped", "%u", shared->Stop);
#else
    (void)argv;
#endif
    return 0;
}
