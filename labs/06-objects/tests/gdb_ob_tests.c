/* gdb_ob_tests.c - gdb.ob: a framework ktest (in no lab.toml, never graded) for the lab 06
 * debugger commands (nt handle, nt object, nt dir; tests/test_gdb_nt.py). In a process of
 * its own it opens seeded handles (one protected, one inheritable, duplicates) and names
 * an object in \BaseNamedObjects, prints what the kernel holds in KTEST VALUE records and
 * calls KtGdbSnapshotPoint(1), where GDB runs the commands and compares; phase 2 corrupts
 * an object's PointerCount (the commands must say so) and restores it. Then it closes
 * everything. Without a debugger the calls do nothing. */
#include "lab06_support.h"

VOID KtGdbSnapshotPoint(ULONG Phase);

/* What GDB reads by name (`nt object KtGdbObNamed`): pool addresses depend on what ran
 * before, so the records below carry no addresses. */
PVOID KtGdbObNamed, KtGdbObCorrupt;

#define KT_GDB_HANDLES 6

KTEST_OB("gdb.ob", KtTestGdbOb)
{
    if (!KtObSetup(Context))
        return;
    PEPROCESS p;
    NTSTATUS status = PspCreateProcess("gdbob", &p);
    if (!KtCheck(Context, NT_SUCCESS(status), "process", "PspCreateProcess returned 0x%08x", (ULONG)status))
        return;
    KeStackAttachProcess(p);
    HANDLE h[KT_GDB_HANDLES] = {0}, named = NULL;
    PVOID bodies[KT_GDB_HANDLES] = {0}, nbody = NULL;
    ULONG n = (ULONG)KtRandomRange(Context, 3, KT_GDB_HANDLES);
    for (ULONG i = 0; i < n; i++) {
        if (i > 0 && KtRandomRange(Context, 0, 2) == 0) {
            ULONG j = (ULONG)KtRandomRange(Context, 0, i - 1);
            status = ObDuplicateObject(p, h[j], p, &h[i], 0, 0, DUPLICATE_SAME_ACCESS, KernelMode);
            bodies[i] = bodies[j];
        } else {
            if (!KtObCreate(Context, KtObType, 700 + i, NULL, 0, &bodies[i]))
                goto out;
            status = ObInsertObject(bodies[i], (ACCESS_MASK)KtRandomRange(Context, 1, 15), i == 1 ? OBJ_INHERIT : 0,
                                    &h[i]);
        }
        if (!KtCheck(Context, NT_SUCCESS(status), "handle", "creating handle %u returned 0x%08x", i, (ULONG)status))
            goto out;
    }
    OBJECT_HANDLE_FLAG_INFORMATION protect = {FALSE, TRUE};
    ObSetHandleAttributes(h[0], &protect, KernelMode);
    CHAR name[OB_MAX_NAME];
    RtlFormatString(name, sizeof(name), "\\BaseNamedObjects\\KtGdb%x", (ULONG)KtRandomRange(Context, 0, 0xFFFF));
    if (!KtObCreate(Context, KtObType, 710, name, 0, &nbody))
        goto out;
    status = ObInsertObject(nbody, 1, 0, &named);
    if (!KtCheck(Context, NT_SUCCESS(status), "named", "ObInsertObject(%s) returned 0x%08x", name, (ULONG)status))
        goto out;
    for (ULONG i = 0; i < n; i++) {
        PHANDLE_TABLE_ENTRY e = KtHandleEntry(p->ObjectTable, (ULONG)(ULONG_PTR)h[i]);
        KtValue(Context, "handle", "0x%llx 0x%x %u %lld %lld", (ULONG64)(ULONG_PTR)h[i], e->GrantedAccess,
                (ULONG)(e->ObAttributes & 3), (LONG64)OBJECT_TO_OBJECT_HEADER(bodies[i])->PointerCount,
                (LONG64)OBJECT_TO_OBJECT_HEADER(bodies[i])->HandleCount);
    }
    KtGdbObNamed = nbody;
    KtValue(Context, "named", "0x%llx %s", (ULONG64)(ULONG_PTR)named, name + 18);
    KtGdbSnapshotPoint(1);
    /* Phase 2: a PointerCount below the HandleCount. */
    POBJECT_HEADER hdr = OBJECT_TO_OBJECT_HEADER(bodies[n - 1]);
    LONG_PTR saved = hdr->PointerCount;
    hdr->PointerCount = 0;
    KtGdbObCorrupt = bodies[n - 1];
    KtValue(Context, "corrupt", "0x%llx", (ULONG64)(ULONG_PTR)h[n - 1]);
    KtGdbSnapshotPoint(2);
    hdr->PointerCount = saved;
out:
    ObSetHandleAttributes(h[0], &(OBJECT_HANDLE_FLAG_INFORMATION){FALSE, FALSE}, KernelMode);
    for (ULONG i = 0; i < n; i++)
        if (h[i])
            ObCloseHandle(h[i], KernelMode);
    if (named)
        ObCloseHandle(named, KernelMode);
    KeUnstackDetachProcess();
    ObDereferenceObject(p);
}
