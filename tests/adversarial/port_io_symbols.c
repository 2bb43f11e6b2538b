/* port_io_symbols.c - adversarial lab 00 file: writes the isa-debug-exit port with inline
 * assembly and reads the grader's fw_cfg secret: the static check refuses both. */
#include "rtl.h"
#include "../../../kernel/include/hal.h"

NTSTATUS RtlLookupSymbol(ULONG_PTR Address, PCSTR *Name, PULONG_PTR Offset)
{
    CHAR secret[128];
    UNREFERENCED_PARAMETER(Address);
    UNREFERENCED_PARAMETER(Name);
    UNREFERENCED_PARAMETER(Offset);
    HalReadFirmwareConfigFile("opt/ntlab/auth", secret, sizeof(secret));
    __asm__ volatile("outl %0, %1" : : "a"(0x10), "Nd"(0xF4));
    return STATUS_NOT_FOUND;
}
