/* gdb_vm_tests.c - gdb.vad: a framework ktest (in no lab.toml, never graded) for the lab 08
 * debugger commands nt vad and nt pte's user PTE states (tests/test_gdb_lab08vm.py). A test
 * process with three reservations (one reserve+commit with a resident page and a
 * decommitted one, one reserve-only with a committed page, one guard region), attached
 * when the test calls KtGdbSnapshotPoint(1), where GDB runs the commands. */
#include "lab08vm_support.h"

VOID KtGdbSnapshotPoint(ULONG Phase);

KTEST("gdb.vad", KtTestGdbVad)
{
    KT_VM_PROCESS P;
    if (!KtVmCreateProcess(Context, &P))
        return;
    PVOID a = (PVOID)(0x30000000ULL + KtRandomRange(Context, 0, 15) * 0x10000), b = NULL, c = NULL;
    SIZE_T sa = 8 * PAGE_SIZE, sb = 4 * PAGE_SIZE, sc = 2 * PAGE_SIZE;
    NTSTATUS s1 = MmAllocateVirtualMemory(P.Process, &a, 0, &sa, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    NTSTATUS s2 = MmAllocateVirtualMemory(P.Process, &b, 0, &sb, MEM_RESERVE, PAGE_READONLY);
    PVOID b1 = (PVOID)((ULONG_PTR)b + PAGE_SIZE);
    SIZE_T one = PAGE_SIZE;
    NTSTATUS s3 = NT_SUCCESS(s2) ? MmAllocateVirtualMemory(P.Process, &b1, 0, &one, MEM_COMMIT, PAGE_EXECUTE_READ) : s2;
    NTSTATUS s4 = MmAllocateVirtualMemory(P.Process, &c, 0, &sc, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD);
    PVOID d = (PVOID)((ULONG_PTR)a + 3 * PAGE_SIZE);
    one = PAGE_SIZE;
    NTSTATUS s5 = NT_SUCCESS(s1) ? MmFreeVirtualMemory(P.Process, &d, &one, MEM_DECOMMIT) : s1;
    if (!KtCheck(Context, NT_SUCCESS(s1) && NT_SUCCESS(s2) && NT_SUCCESS(s3) && NT_SUCCESS(s4) && NT_SUCCESS(s5),
                 "setup", "0x%x 0x%x 0x%x 0x%x 0x%x", (ULONG)s1, (ULONG)s2, (ULONG)s3, (ULONG)s4, (ULONG)s5)) {
        KtVmDeleteProcess(Context, &P);
        return;
    }
    PFN_NUMBER pfn = KtVmMakeResident(P.Space, (ULONG_PTR)a, 0x5A);
    KtValue(Context, "process", "%p", (PVOID)P.Process);
    KtValue(Context, "vads", "%p %p %p", a, b, c);
    KtValue(Context, "resident", "%p %llx", a, pfn);
    KeStackAttachProcess(P.Process);
    KtGdbSnapshotPoint(1);
    KeUnstackDetachProcess();
    KtVmDeleteProcess(Context, &P);
}
