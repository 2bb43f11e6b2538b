/* probe.c - lab 08: probing user buffers. A system service called from user mode gets
 * addresses the caller chose: before the kernel reads or writes through one it checks that
 * the whole buffer lies below the user/system boundary (MmUserProbeAddress) and is aligned
 * for what lives there, as NT's ProbeForRead and ProbeForWrite do. The check is about the
 * addresses only; whether the pages are there is found when they are touched, through the
 * exception-fixup table (KeTouchUserByteForWrite, KeCopyFromUser...), which turns a fault
 * into STATUS_ACCESS_VIOLATION - the stand-in for NT's __try/__except. */
#include "kuser.h"

/*
 * ProbeForRead - may the kernel read Length bytes at Address on behalf of user mode?
 * IRQL <= APC_LEVEL. In this order:
 *   - Alignment not one of 1, 2, 4, 8, 16: STATUS_INVALID_PARAMETER (whatever Length is);
 *   - Length 0: STATUS_SUCCESS, nothing else is checked (any Address, even a kernel one);
 *   - Address not a multiple of Alignment: STATUS_DATATYPE_MISALIGNMENT;
 *   - the buffer [Address, Address + Length) wraps around the top of the address space or
 *     ends above MmUserProbeAddress (ending exactly at it is allowed): STATUS_ACCESS_VIOLATION;
 *   - otherwise STATUS_SUCCESS. Nothing is read: the pages may still be absent.
 */
NTSTATUS ProbeForRead(const volatile VOID *Address, SIZE_T Length, ULONG Alignment)
{
    /* LAB 08: the alignment argument, Length 0, the address's alignment, then the range (wrap, MmUserProbeAddress). */
    UNREFERENCED_PARAMETER(Address);
    UNREFERENCED_PARAMETER(Length);
    UNREFERENCED_PARAMETER(Alignment);
    return STATUS_NOT_IMPLEMENTED;
}

/*
 * ProbeForWrite - may the kernel write Length bytes at Address on behalf of user mode?
 * IRQL <= APC_LEVEL. The checks of ProbeForRead, in the same order with the same
 * statuses; then every page the buffer touches is probed for writing with
 * KeTouchUserByteForWrite (which reads a byte and writes the same value back, so the
 * contents do not change): the byte at Address in the first page, the first byte of each
 * later page up to the one holding the buffer's last byte. The first touch that fails
 * gives its status (STATUS_ACCESS_VIOLATION: absent or read-only); no page after it is
 * touched. STATUS_SUCCESS when every page can be written.
 */
NTSTATUS ProbeForWrite(volatile VOID *Address, SIZE_T Length, ULONG Alignment)
{
    /* LAB 08: ProbeForRead's checks, then KeTouchUserByteForWrite on every page of the buffer. */
    UNREFERENCED_PARAMETER(Address);
    UNREFERENCED_PARAMETER(Length);
    UNREFERENCED_PARAMETER(Alignment);
    return STATUS_NOT_IMPLEMENTED;
}
