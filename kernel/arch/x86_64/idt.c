/* idt.c - the IDT: all 256 vectors go to the stubs of trap.asm; the double fault
 * runs on its own stack (IST1); the breakpoint gate is the only one user mode may use. */
#include "../../ke/ki.h"

typedef struct __attribute__((packed)) _KIDTENTRY64 {
    USHORT OffsetLow;
    USHORT Selector;
    UCHAR Ist;
    UCHAR Type;
    USHORT OffsetMiddle;
    ULONG OffsetHigh;
    ULONG Reserved;
} KIDTENTRY64;

extern const ULONG64 KiTrapStubs[256];
static KIDTENTRY64 KiIdt[256] __attribute__((aligned(16)));

VOID KiInitializeIdt(VOID)
{
    for (ULONG i = 0; i < 256; i++) {
        ULONG64 handler = KiTrapStubs[i];
        KiIdt[i].OffsetLow = (USHORT)handler;
        KiIdt[i].Selector = 0x10;
        KiIdt[i].Ist = (i == 8) ? 1 : 0;
        /* present, interrupt gate; DPL 3 only where NT has it (int 3 from user mode): any
         * other `int n` from user mode is a general protection fault. */
        KiIdt[i].Type = (i == 3) ? 0xEE : 0x8E;
        KiIdt[i].OffsetMiddle = (USHORT)(handler >> 16);
        KiIdt[i].OffsetHigh = (ULONG)(handler >> 32);
        KiIdt[i].Reserved = 0;
    }
    struct __attribute__((packed)) {
        USHORT Limit;
        ULONG64 Base;
    } idtr = {sizeof(KiIdt) - 1, (ULONG64)KiIdt};
    __asm__ volatile("lidt %0" ::"m"(idtr));
}
