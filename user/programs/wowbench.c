/* wowbench.c - lab 09's benchmark program (tests/bench_lab09.py, ktest lab09.bench_syscall),
 * built 64-bit and 32-bit: N null system calls (NtYieldExecution, no argument) and nothing
 * else, so that the difference of two runs (N calls and none) is N round trips - from a
 * 32-bit program through ntdll32, the far jump to the wow64 layer, its dispatch and the 64-bit
 * ntdll's syscall, and back. */
#include "ktuser.h"

NTSTATUS NtYieldExecution(VOID);

int main(int argc, char **argv)
{
    ULONG64 n = argc > 1 ? RtlStringToUlong64(argv[1], NULL) : 0;
    int failed = 0;
    for (ULONG64 i = 0; i < n; i++)
        failed |= !NT_SUCCESS(NtYieldExecution());
    return failed;
}
