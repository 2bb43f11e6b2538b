/* gdt.c - the GDT in NT's x64 layout, the TSS (IST1 is the double-fault stack, RSP0 the
 * current thread's kernel stack top) and the syscall MSRs.
 *   0x10 kernel code, 0x18 kernel data, 0x20 user 32-bit code (0x23, lab 09's compatibility
 *   mode), 0x28 user data (0x2B), 0x30 user 64-bit code (0x33), 0x40 TSS (16 bytes),
 *   0x50 the 32-bit TEB's data segment (0x53, lab 09: its base is set per thread).
 * STAR's user base 0x20 gives sysret CS 0x33 / SS 0x2B (64-bit) and CS 0x23 (32-bit). */
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
static ULONG64 KiGdt[12] __attribute__((aligned(16)));

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
    KiGdt[10] = 0x00CFF3000000FFFFULL; /* 0x50: ring 3 data, the 32-bit TEB (base per thread, lab 09) */
    KiGdt[11] = 0;

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

/* The kernel stack top of the thread about to run: where an interrupt or exception from
 * user mode pushes its frame (TSS.Rsp0), and where syscall entry switches to (KPCR.RspBase). */
VOID KiSetKernelStackTop(ULONG64 Top)
{
    KiTss.Rsp0 = Top;
    KiPcr.RspBase = Top;
}

/* The base of the 32-bit TEB's segment (0x53), for lab 09's compatibility-mode threads. */
VOID KiSetTeb32Base(ULONG Base)
{
    ULONG64 limit = 0xFFFFF;
    KiGdt[10] = (limit & 0xFFFF) | ((ULONG64)(Base & 0xFFFFFF) << 16) | (0xF3ULL << 40) |
                (((limit >> 16) & 0xF) << 48) | (0xCULL << 52) | ((ULONG64)(Base >> 24) << 56);
}

#define MSR_EFER 0xC0000080
#define MSR_STAR 0xC0000081
#define MSR_LSTAR 0xC0000082
#define MSR_CSTAR 0xC0000083
#define MSR_SFMASK 0xC0000084
#define EFER_SCE 0x1

/* syscall enters KiSystemCall64 at CS 0x10/SS 0x18 with IF, TF, DF, AC, NT cleared;
 * sysret returns to CS 0x33/SS 0x2B. A syscall from compatibility mode (lab 09's 32-bit
 * code never issues one: wow64cpu far-jumps to 64-bit mode first) goes to KiSystemCall32,
 * which ends the thread's process. */
VOID KiInitializeSyscall(VOID)
{
    extern VOID KiSystemCall64(VOID), KiSystemCall32(VOID);
    __writemsr(MSR_STAR, ((ULONG64)0x20 << 48) | ((ULONG64)KGDT64_R0_CODE << 32));
    __writemsr(MSR_LSTAR, (ULONG64)KiSystemCall64);
    __writemsr(MSR_CSTAR, (ULONG64)KiSystemCall32);
    __writemsr(MSR_SFMASK, 0x47700); /* AC, NT, IOPL, DF, IF, TF */
    __writemsr(MSR_EFER, __readmsr(MSR_EFER) | EFER_SCE);
}
