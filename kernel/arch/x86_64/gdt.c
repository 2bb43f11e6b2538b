/* gdt.c - the GDT in NT's x64 layout and the TSS (IST1 is the double-fault stack).
 *   0x10 kernel code, 0x18 kernel data, 0x20 user 32-bit code, 0x28 user data,
 *   0x30 user 64-bit code, 0x40 TSS. */
#include "../../ke/ki.h"

#define KGDT64_R0_CODE 0x10
#define KGDT64_R0_DATA 0x18
#define KGDT64_SYS_TSS 0x40

typedef struct __attribute__((packed)) _KTSS64 {
    ULONG Reserved0;
    ULONG64 Rsp0, Rsp1, Rsp2;
    ULONG64 Reserved1;
    ULONG64 Ist[7];
    ULONG64 Reserved2;
    USHORT Reserved3;
    USHORT IoMapBase;
} KTSS64;

extern UCHAR KiDoubleFaultStack[], KiDoubleFaultStackEnd[]; /* boot.asm, above a guard page */
UCHAR *const KiDoubleFaultStackTop = KiDoubleFaultStackEnd;
static KTSS64 KiTss;
static ULONG64 KiGdt[10] __attribute__((aligned(16)));

VOID KiInitializeGdt(VOID)
{
    KiGdt[0] = 0;
    KiGdt[1] = 0;
    KiGdt[2] = 0x00AF9A000000FFFFULL; /* 0x10: ring 0 code, long mode */
    KiGdt[3] = 0x00CF92000000FFFFULL; /* 0x18: ring 0 data */
    KiGdt[4] = 0x00CFFA000000FFFFULL; /* 0x20: ring 3 code, 32-bit (WOW64) */
    KiGdt[5] = 0x00CFF2000000FFFFULL; /* 0x28: ring 3 data */
    KiGdt[6] = 0x00AFFA000000FFFFULL; /* 0x30: ring 3 code, long mode */
    KiGdt[7] = 0;

    KiTss.Ist[0] = (ULONG64)KiDoubleFaultStackTop;
    KiTss.IoMapBase = sizeof(KiTss);
    ULONG64 base = (ULONG64)&KiTss, limit = sizeof(KiTss) - 1;
    KiGdt[8] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ULL << 40) | (((limit >> 16) & 0xF) << 48) |
               (((base >> 24) & 0xFF) << 56);
    KiGdt[9] = base >> 32;

    struct __attribute__((packed)) {
        USHORT Limit;
        ULONG64 Base;
    } gdtr = {sizeof(KiGdt) - 1, (ULONG64)KiGdt};
    __asm__ volatile("lgdt %0\n\t"
                     "pushq %1\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "movw %w2, %%ds\n\t"
                     "movw %w2, %%es\n\t"
                     "movw %w2, %%ss\n\t"
                     "ltr %w3\n\t"
                     :
                     : "m"(gdtr), "i"(KGDT64_R0_CODE), "r"(KGDT64_R0_DATA), "r"(KGDT64_SYS_TSS)
                     : "rax", "memory");
}
