/* triple_symbols.c - adversarial lab 00 file: RtlLookupSymbol loads an empty IDT and
 * raises int3, so the CPU triple-faults: the verdict must be "triple fault". */
#include "rtl.h"

NTSTATUS RtlLookupSymbol(ULONG_PTR Address, PCSTR *Name, PULONG_PTR Offset)
{
    struct {
        USHORT Limit;
        ULONG64 Base;
    } __attribute__((packed)) idtr = {0, 0};
    UNREFERENCED_PARAMETER(Address);
    UNREFERENCED_PARAMETER(Name);
    UNREFERENCED_PARAMETER(Offset);
    __asm__ volatile("lidt %0\n\tint3" : : "m"(idtr));
    return STATUS_NOT_FOUND;
}
