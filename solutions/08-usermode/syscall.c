/* syscall.c - lab 08: the system service dispatcher's argument capture. User mode enters
 * the kernel with `syscall` (ntdll's stub: mov r10, rcx; mov eax, <number>; syscall); the
 * framework's entry (arch/x86_64/syscall.asm) switches to the thread's kernel stack, saves
 * the user registers in a KTRAP_FRAME, sets PreviousMode to UserMode and calls
 * KiSystemServiceDispatch. It finds the service in KeServiceDescriptorTable, captures the
 * arguments the table says it takes - the first four from registers, the rest from the user
 * stack, which is probed and copied (never trusted, never read in place) - and calls the
 * service. What it returns goes back to user mode in RAX. */
#include "kuser.h"

/* Where argument Index (0-based, >= 4) lives on the caller's stack: above the stub's
 * return address and the four home slots of the register arguments. */
#define KI_STACK_ARGUMENT_OFFSET 0x28

/*
 * KiSystemServiceDispatch - run the system service a `syscall` from user mode asked for.
 * PASSIVE_LEVEL, interrupts enabled, PreviousMode UserMode. TrapFrame holds the caller's
 * registers (TrapFrame->Rsp is the user stack pointer); nothing in it is trusted.
 *   - The service number is EAX, the low 32 bits of TrapFrame->Rax (bits 63:32 are
 *     ignored). A number at or past KeServiceDescriptorTable.Limit returns
 *     STATUS_INVALID_SYSTEM_SERVICE, and no service runs.
 *   - The service takes exactly Number[n] arguments (the table's count, never more).
 *     Arguments 0-3 are TrapFrame->R10, Rdx, R8, R9 (as many as it takes). Arguments
 *     4.. are the ULONG64s at user address TrapFrame->Rsp + 0x28 on: that whole block
 *     (8 bytes an argument, only those the service takes; none when it takes four or
 *     fewer) is first probed with ProbeForRead(block, size, sizeof(ULONG64)) - a failure
 *     returns the probe's status (STATUS_ACCESS_VIOLATION past the boundary or wrapping,
 *     STATUS_DATATYPE_MISALIGNMENT for a stack not 8-aligned) - then copied to a kernel
 *     buffer with KeCopyFromUser, whose STATUS_ACCESS_VIOLATION (an unmapped stack) is
 *     returned. In every failure no service runs.
 *   - Then returns KiCallSystemService(Base[n], the captured arguments, Number[n]): the
 *     service's status.
 */
NTSTATUS KiSystemServiceDispatch(PKTRAP_FRAME TrapFrame)
{
    ULONG number = (ULONG)TrapFrame->Rax;
    const KSERVICE_TABLE_DESCRIPTOR *table = &KeServiceDescriptorTable;
    if (number >= table->Limit)
        return STATUS_INVALID_SYSTEM_SERVICE;
    ULONG count = table->Number[number];
    ULONG64 args[KI_MAX_SERVICE_ARGUMENTS];
    const ULONG64 registers[4] = {TrapFrame->R10, TrapFrame->Rdx, TrapFrame->R8, TrapFrame->R9};
    for (ULONG i = 0; i < count && i < 4; i++)
        args[i] = registers[i];
    if (count > 4) {
        const VOID *block = (const VOID *)(TrapFrame->Rsp + KI_STACK_ARGUMENT_OFFSET);
        SIZE_T size = (SIZE_T)(count - 4) * sizeof(ULONG64);
        NTSTATUS status = ProbeForRead(block, size, sizeof(ULONG64));
        if (!NT_SUCCESS(status))
            return status;
        status = KeCopyFromUser(&args[4], block, size);
        if (!NT_SUCCESS(status))
            return status;
    }
    return KiCallSystemService(table->Base[number], args, count);
}
