/* rtl.h - run-time library: formatting and DbgPrint, memory and string helpers,
 * the seeded random generator, stack walking and symbol lookup (lab 00). */
#pragma once

#include "ntdef.h"

/* Formatting: %s %c %d %i %u %x %X %p %%, flags - and 0, width, precision (%.Ns, %.*s), l/ll/z. */
ULONG RtlFormatStringV(PCHAR Buffer, SIZE_T Size, PCSTR Format, va_list Args);
ULONG RtlFormatString(PCHAR Buffer, SIZE_T Size, PCSTR Format, ...) __attribute__((format(printf, 3, 4)));
/* DbgPrint writes to the serial port (COM1). */
ULONG DbgPrint(PCSTR Format, ...) __attribute__((format(printf, 1, 2)));
ULONG DbgPrintV(PCSTR Format, va_list Args);

void *memset(void *Dest, int Value, SIZE_T Count);
void *memcpy(void *Dest, const void *Src, SIZE_T Count);
void *memmove(void *Dest, const void *Src, SIZE_T Count);
int memcmp(const void *A, const void *B, SIZE_T Count);
SIZE_T strlen(PCSTR S);
int strcmp(PCSTR A, PCSTR B);
int strncmp(PCSTR A, PCSTR B, SIZE_T N);
#define RtlZeroMemory(d, n) memset((d), 0, (n))
#define RtlCopyMemory(d, s, n) memcpy((d), (s), (n))
#define RtlFillMemory(d, n, v) memset((d), (v), (n))

/* splitmix64: the generator ktests and the grader share. */
ULONG64 RtlSplitMix64(PULONG64 State);
ULONG64 RtlHashString64(PCSTR S); /* FNV-1a, 64-bit */

/* The symbol table embedded in the image at build time (tools/mksyms.py):
 * KiSymbolCount entries sorted by Address, ascending, non-overlapping; the
 * function's name is the NUL-terminated string at KiSymbolNames + NameOffset. */
typedef struct _KSYMBOL {
    ULONG_PTR Address;
    ULONG Size;
    ULONG NameOffset;
} KSYMBOL, *PKSYMBOL;

extern const KSYMBOL KiSymbolTable[];
extern const ULONG KiSymbolCount;
extern const char KiSymbolNames[];

/* ---- Lab 00 (student code: labs/00-bugcheck/) ---- */
NTSTATUS RtlpWalkFrameChain(ULONG_PTR FramePointer, ULONG_PTR StackLow, ULONG_PTR StackHigh,
                            PVOID *Callers, ULONG Count, PULONG Captured);
NTSTATUS RtlLookupSymbol(ULONG_PTR Address, PCSTR *Name, PULONG_PTR Offset);

/* Framework wrapper with NT's signature: the return addresses of the caller's
 * callers, innermost first; 0 when the walker is not implemented. */
ULONG RtlWalkFrameChain(PVOID *Callers, ULONG Count, ULONG Flags);
