/* handle_tests.c - lab 06 public tests of handles to objects: a seeded storm of insert,
 * duplicate, reference, dereference and close across the table's growth past one level
 * (the table audited whole and every count checked after every step; the handle values
 * judged by grader/models/lab06.py), ObReferenceObjectByHandle's type and access checks,
 * closing (protect-from-close, a closed handle invalid, its slot reused), duplication,
 * the pseudo-handles, and handles of one process not valid in another. */
#include "lab06_support.h"

static KT_TABLE_SHADOW KtShadow;

#define KT_STORM_OBJECTS 48
#define KT_STORM_HANDLES 1200
#define KT_STORM_HELD 256
typedef struct {
    PVOID Body;
    LONG_PTR Pointers, Handles;
    BOOLEAN Alive;
} KT_STORM_OBJECT;
static KT_STORM_OBJECT KtObjects[KT_STORM_OBJECTS];
static struct {
    ULONG Value;
    ULONG Object;
    ACCESS_MASK Access;
} KtLive[KT_STORM_HANDLES];
static ULONG KtLiveCount;
static ULONG KtHeld[KT_STORM_HELD];
static ULONG KtHeldCount;

/* A fresh process to work in: its own empty table, the current thread attached to it. */
static PEPROCESS KtEnterProcess(PKTEST_CONTEXT Context, PCSTR Name)
{
    PEPROCESS p;
    NTSTATUS status = PspCreateProcess(Name, &p);
    if (!KtRequireImplemented(Context, status, "PspCreateProcess (ObCreateObject, ExCreateHandleTable)", "lab 06") ||
        KtObStubbed(Context) ||
        !KtCheck(Context, NT_SUCCESS(status), "process", "creating a test process failed: 0x%08x", (ULONG)status))
        return NULL;
    KeStackAttachProcess(p);
    return p;
}

static VOID KtLeaveProcess(PEPROCESS Process)
{
    KeUnstackDetachProcess();
    if (Process)
        ObDereferenceObject(Process);
}

static BOOLEAN KtStormCheck(PKTEST_CONTEXT Context, PCSTR Step, ULONG Object)
{
    KT_STORM_OBJECT *o = &KtObjects[Object];
    if (!KtAuditHandleTable(Context, Step, &KtShadow))
        return FALSE;
    if (o->Alive)
        return KtObCheckCounts(Context, Step, o->Body, o->Pointers, o->Handles);
    return KtCheck(Context, KtObDeletesById[Object + 1] == 1, "delete_once", "after %s: object %u has no reference "
                   "left and its delete method ran %u times, expected once", Step, Object, KtObDeletesById[Object + 1]);
}

/* Creates object i with a handle (ObInsertObject). */
static BOOLEAN KtStormInsert(PKTEST_CONTEXT Context, ULONG i, ACCESS_MASK Access, ULONG Attributes, ULONG64 *Digest)
{
    KT_STORM_OBJECT *o = &KtObjects[i];
    if (!KtObCreate(Context, KtObType, i + 1, NULL, 0, &o->Body))
        return FALSE;
    ULONG opens = KtObCalls.Opens;
    POBJECT_HEADER hdr = OBJECT_TO_OBJECT_HEADER(o->Body);
    ULONG want = KtShadowCreate(&KtShadow, (ULONG_PTR)hdr | ((Attributes & OBJ_INHERIT) ? OBJ_HANDLE_INHERIT : 0),
                                Access);
    HANDLE h;
    NTSTATUS status = ObInsertObject(o->Body, Access, Attributes, &h);
    if (!KtRequireImplemented(Context, status, "ObInsertObject", "lab 06") ||
        !KtCheck(Context, status == STATUS_SUCCESS && (ULONG_PTR)h == want, "insert", "ObInsertObject of object %u "
                 "returned 0x%08x, handle 0x%llx; expected STATUS_SUCCESS and handle 0x%x", i, (ULONG)status,
                 (ULONG64)(ULONG_PTR)h, want) ||
        !KtCheck(Context, KtObCalls.Opens == opens + 1 && KtObCalls.LastReason == ObCreateHandle &&
                 KtObCalls.LastOpenCount == 1 && KtObCalls.HandleCountAtOpen == 1 && KtObCalls.LastAccess == Access,
                 "open_method", "ObInsertObject called the open method %u times (expected once) with reason %u "
                 "(ObCreateHandle 0), HandleCount %u (1), header HandleCount %lld (1: counts raised first), access 0x%x "
                 "(0x%x)", KtObCalls.Opens - opens, KtObCalls.LastReason, KtObCalls.LastOpenCount,
                 (LONG64)KtObCalls.HandleCountAtOpen, KtObCalls.LastAccess, Access))
        return FALSE;
    o->Alive = TRUE;
    o->Pointers = 1; /* the creator's reference went to the handle */
    o->Handles = 1;
    KtLive[KtLiveCount].Value = want;
    KtLive[KtLiveCount].Object = i;
    KtLive[KtLiveCount].Access = Access;
    KtLiveCount++;
    *Digest = *Digest * 31 + want;
    return TRUE;
}

/* The storm: seeded operations in two phases, up until more than a low-level table's
 * handles are open (the table grows past one level), then down to none. The op choice
 * is mirrored by grader/models/lab06.py, which computes the handle values. */
KTEST_OB("handle.storm", KtTestHandleStorm)
{
    if (!KtObSetup(Context))
        return;
    LONG tagBefore = KtPoolOutstanding(KtObType->TypeInfo.PoolTag);
    LONG typeHandles = KtObType->TotalNumberOfHandles;
    PEPROCESS p = KtEnterProcess(Context, "storm");
    if (!p)
        return;
    KtShadowInit(&KtShadow, p->ObjectTable);
    RtlZeroMemory(KtObjects, sizeof(KtObjects));
    KtLiveCount = 0;
    KtHeldCount = 0;
    ULONG nextObject = 0, steps = 0, maxLive = 0, created = 0;
    ULONG64 digest = 0;
    ULONG target = (ULONG)KtRandomRange(Context, LOWLEVEL_COUNT + 20, 2 * LOWLEVEL_COUNT + 40);
    BOOLEAN up = TRUE;
    while (steps < 4000) {
        if (up && KtLiveCount >= target)
            up = FALSE;
        if (!up && KtLiveCount == 0 && KtHeldCount == 0)
            break;
        steps++;
        ULONG r = (ULONG)KtRandomRange(Context, 0, 99);
        CHAR step[80];
        ULONG op; /* 0 insert, 1 duplicate, 2 reference, 3 dereference, 4 close */
        if (up)
            op = r < 12 ? 0 : r < 50 ? 1 : r < 64 ? 2 : r < 78 ? 3 : 4;
        else
            op = r < 5 ? 1 : r < 15 ? 2 : r < 35 ? 3 : 4;
        /* An op that cannot run gives way to the next one that can (mirrored by the model). */
        BOOLEAN can[5] = {nextObject < KT_STORM_OBJECTS && KtLiveCount < KT_STORM_HANDLES - 1,
                          KtLiveCount > 0 && KtLiveCount < KT_STORM_HANDLES - 1,
                          KtLiveCount > 0 && KtHeldCount < KT_STORM_HELD, KtHeldCount > 0, KtLiveCount > 0};
        ULONG tries = 0;
        while (!can[op] && tries++ < 5)
            op = (op + 1) % 5;
        if (!can[op])
            break;
        if (op == 0) {
            ULONG i = nextObject++;
            ACCESS_MASK access = (ACCESS_MASK)KtRandomRange(Context, 1, 15);
            ULONG attributes = KtRandomRange(Context, 0, 1) ? OBJ_INHERIT : 0;
            RtlFormatString(step, sizeof(step), "step %u: ObInsertObject(object %u)", steps, i);
            if (!KtStormInsert(Context, i, access, attributes, &digest) || !KtStormCheck(Context, step, i))
                goto out;
            created++;
        } else if (op == 1) {
            ULONG k = (ULONG)KtRandomRange(Context, 0, KtLiveCount - 1);
            BOOLEAN same = KtRandomRange(Context, 0, 1) != 0;
            ACCESS_MASK access = same ? KtLive[k].Access : (KtLive[k].Access & (ACCESS_MASK)KtRandomRange(Context, 0, 15));
            ULONG i = KtLive[k].Object;
            KT_STORM_OBJECT *o = &KtObjects[i];
            ULONG want = KtShadowCreate(&KtShadow, (ULONG_PTR)OBJECT_TO_OBJECT_HEADER(o->Body), access);
            ULONG opens = KtObCalls.Opens;
            HANDLE h;
            NTSTATUS status = ObDuplicateObject(p, (HANDLE)(ULONG_PTR)KtLive[k].Value, p, &h, same ? 0 : access, 0,
                                                same ? DUPLICATE_SAME_ACCESS : 0, UserMode);
            RtlFormatString(step, sizeof(step), "step %u: ObDuplicateObject(0x%x)", steps, KtLive[k].Value);
            if (!KtRequireImplemented(Context, status, "ObDuplicateObject", "lab 06") ||
                !KtCheck(Context, status == STATUS_SUCCESS && (ULONG_PTR)h == want, "duplicate", "%s returned 0x%08x, "
                         "handle 0x%llx; expected STATUS_SUCCESS, handle 0x%x", step, (ULONG)status,
                         (ULONG64)(ULONG_PTR)h, want) ||
                !KtCheck(Context, KtObCalls.Opens == opens + 1 && KtObCalls.LastReason == ObDuplicateHandle &&
                         KtObCalls.LastOpenCount == (ULONG)o->Handles + 1, "open_method", "%s: the open method ran %u "
                         "times (once), reason %u (ObDuplicateHandle 2), HandleCount %u (%u)", step,
                         KtObCalls.Opens - opens, KtObCalls.LastReason, KtObCalls.LastOpenCount, (ULONG)o->Handles + 1))
                goto out;
            o->Pointers++;
            o->Handles++;
            KtLive[KtLiveCount].Value = want;
            KtLive[KtLiveCount].Object = i;
            KtLive[KtLiveCount].Access = access;
            KtLiveCount++;
            digest = digest * 31 + want;
            created++;
            if (!KtStormCheck(Context, step, i))
                goto out;
        } else if (op == 2) {
            ULONG k = (ULONG)KtRandomRange(Context, 0, KtLiveCount - 1);
            ULONG i = KtLive[k].Object;
            PVOID obj;
            NTSTATUS status = ObReferenceObjectByHandle((HANDLE)(ULONG_PTR)KtLive[k].Value, KtLive[k].Access, KtObType,
                                                        UserMode, &obj, NULL);
            RtlFormatString(step, sizeof(step), "step %u: ObReferenceObjectByHandle(0x%x)", steps, KtLive[k].Value);
            if (!KtRequireImplemented(Context, status, "ObReferenceObjectByHandle", "lab 06") ||
                !KtCheck(Context, status == STATUS_SUCCESS && obj == KtObjects[i].Body, "reference_by_handle", "%s "
                         "returned 0x%08x, object %p; expected STATUS_SUCCESS and %p", step, (ULONG)status, obj,
                         KtObjects[i].Body))
                goto out;
            KtObjects[i].Pointers++;
            KtHeld[KtHeldCount++] = i;
            if (!KtStormCheck(Context, step, i))
                goto out;
        } else if (op == 3) {
            ULONG k = (ULONG)KtRandomRange(Context, 0, KtHeldCount - 1);
            ULONG i = KtHeld[k];
            KtHeld[k] = KtHeld[--KtHeldCount];
            ObDereferenceObject(KtObjects[i].Body);
            if (--KtObjects[i].Pointers == 0)
                KtObjects[i].Alive = FALSE;
            RtlFormatString(step, sizeof(step), "step %u: ObDereferenceObject(object %u)", steps, i);
            if (!KtStormCheck(Context, step, i))
                goto out;
        } else {
            ULONG k = (ULONG)KtRandomRange(Context, 0, KtLiveCount - 1);
            ULONG i = KtLive[k].Object;
            ULONG v = KtLive[k].Value;
            KT_STORM_OBJECT *o = &KtObjects[i];
            ULONG closes = KtObCalls.Closes;
            NTSTATUS status = ObCloseHandle((HANDLE)(ULONG_PTR)v, UserMode);
            RtlFormatString(step, sizeof(step), "step %u: ObCloseHandle(0x%x)", steps, v);
            if (!KtRequireImplemented(Context, status, "ObCloseHandle", "lab 06") ||
                !KtCheck(Context, status == STATUS_SUCCESS, "close", "%s returned 0x%08x", step, (ULONG)status) ||
                !KtCheck(Context, KtObCalls.Closes == closes + 1 && KtObCalls.LastCloseCount == (ULONG)o->Handles &&
                         KtObCalls.LastProcess == p, "close_method", "%s: the close method ran %u times (once) with "
                         "HandleCount %u (%u: the count before the close) for process %p (%p)", step,
                         KtObCalls.Closes - closes, KtObCalls.LastCloseCount, (ULONG)o->Handles, KtObCalls.LastProcess,
                         p))
                goto out;
            KtShadowFree(&KtShadow, v);
            KtLive[k] = KtLive[--KtLiveCount];
            o->Handles--;
            if (--o->Pointers == 0)
                o->Alive = FALSE;
            if (!KtStormCheck(Context, step, i))
                goto out;
        }
        if (KtLiveCount > maxLive)
            maxLive = KtLiveCount;
        if (!KtCheck(Context, KtObType->TotalNumberOfHandles == typeHandles + (LONG)KtLiveCount, "type_handles",
                     "after %s: the type counts %d handles, expected %d", step, KtObType->TotalNumberOfHandles,
                     typeHandles + (LONG)KtLiveCount))
            goto out;
    }
    KtCheck(Context, maxLive > LOWLEVEL_COUNT - 1, "past_one_level", "the storm reached %u open handles", maxLive);
    for (ULONG i = 0; i < nextObject; i++)
        if (!KtCheck(Context, !KtObjects[i].Alive && KtObDeletesById[i + 1] == 1, "delete_once", "at the end object %u "
                     "was deleted %u times (expected once)", i, KtObDeletesById[i + 1]))
            break;
    KtValue(Context, "steps", "0x%x", steps);
    KtValue(Context, "created", "0x%x", created);
    KtValue(Context, "max_live", "0x%x", maxLive);
    KtValue(Context, "digest", "0x%llx", digest);
out:
    while (KtLiveCount) {
        KtLiveCount--;
        ObCloseHandle((HANDLE)(ULONG_PTR)KtLive[KtLiveCount].Value, UserMode);
    }
    while (KtHeldCount)
        ObDereferenceObject(KtObjects[KtHeld[--KtHeldCount]].Body);
    KtLeaveProcess(p);
    KtCheck(Context, KtPoolOutstanding(KtObType->TypeInfo.PoolTag) == tagBefore, "freed", "%d KtOb blocks left, "
            "expected %d", KtPoolOutstanding(KtObType->TypeInfo.PoolTag), tagBefore);
}

/* ObReferenceObjectByHandle: the right type and the wrong one, access granted and not
 * (UserMode checked, KernelMode not), every kind of invalid handle; nothing changes on a
 * failure and *Object is NULL. */
KTEST_OB("handle.reference", KtTestHandleReference)
{
    if (!KtObSetup(Context))
        return;
    PEPROCESS p = KtEnterProcess(Context, "reference");
    if (!p)
        return;
    PVOID body;
    HANDLE h = NULL, hk = NULL;
    if (!KtObCreate(Context, KtObType, 1, NULL, 0, &body))
        goto out;
    ACCESS_MASK granted = (ACCESS_MASK)KtRandomRange(Context, 1, 14) & ~1u; /* never bit 0 */
    granted |= 0x2;
    NTSTATUS status = ObInsertObject(body, granted, 0, &h);
    if (!KtRequireImplemented(Context, status, "ObInsertObject", "lab 06") ||
        !KtCheck(Context, status == STATUS_SUCCESS && h, "insert", "ObInsertObject returned 0x%08x", (ULONG)status))
        goto out;
    status = ObDuplicateObject(p, h, p, &hk, 0, OBJ_KERNEL_HANDLE, DUPLICATE_SAME_ACCESS, KernelMode);
    if (!KtCheck(Context, status == STATUS_SUCCESS && ObpIsKernelHandle(hk), "kernel_handle", "a duplicate with "
                 "OBJ_KERNEL_HANDLE returned 0x%08x, handle 0x%llx: expected a kernel handle (sign bit set, "
                 "0xFFFFFFFF8...)", (ULONG)status, (ULONG64)(ULONG_PTR)hk))
        goto out;
    LONG_PTR pointers = OBJECT_TO_OBJECT_HEADER(body)->PointerCount;
    struct {
        HANDLE Handle;
        ACCESS_MASK Access;
        POBJECT_TYPE Type;
        KPROCESSOR_MODE Mode;
        NTSTATUS Expected;
        PCSTR Why;
    } cases[] = {
        {h, granted, KtObType, UserMode, STATUS_SUCCESS, "the right type and the granted access"},
        {h, 0, NULL, UserMode, STATUS_SUCCESS, "no type asked (any type)"},
        {h, granted, ExEventObjectType, UserMode, STATUS_OBJECT_TYPE_MISMATCH, "an object of another type"},
        {h, granted | 1, KtObType, UserMode, STATUS_ACCESS_DENIED, "a right not granted, from UserMode"},
        {h, granted | 1, KtObType, KernelMode, STATUS_SUCCESS, "a right not granted, from KernelMode (not checked)"},
        {(HANDLE)((ULONG_PTR)h | 3), granted, KtObType, UserMode, STATUS_SUCCESS, "tag bits set"},
        {h, granted | 1, ExEventObjectType, UserMode, STATUS_OBJECT_TYPE_MISMATCH, "another type and a right not "
         "granted, from UserMode (the type is checked before the access)"},
        {NULL, 0, NULL, KernelMode, STATUS_INVALID_HANDLE, "handle 0"},
        {(HANDLE)(ULONG_PTR)(LOWLEVEL_COUNT * HANDLE_VALUE_INC), 0, NULL, KernelMode, STATUS_INVALID_HANDLE,
         "index 0 of the second low-level table"},
        {(HANDLE)(ULONG_PTR)0x7FFFFFF0, 0, NULL, KernelMode, STATUS_INVALID_HANDLE, "a handle past the table"},
        {(HANDLE)((ULONG_PTR)h + 4), 0, NULL, KernelMode, STATUS_INVALID_HANDLE, "a free entry"},
        {hk, granted, KtObType, KernelMode, STATUS_SUCCESS, "a kernel handle from KernelMode"},
        {hk, 0, NULL, UserMode, STATUS_INVALID_HANDLE, "a kernel handle from UserMode"},
    };
    for (ULONG c = 0; c < ARRAYSIZE(cases); c++) {
        PVOID obj = (PVOID)0x1;
        OBJECT_HANDLE_INFORMATION info = {0xFFFF, 0xFFFF};
        status = ObReferenceObjectByHandle(cases[c].Handle, cases[c].Access, cases[c].Type, cases[c].Mode, &obj, &info);
        BOOLEAN ok = status == cases[c].Expected &&
                     (NT_SUCCESS(status) ? obj == body && info.GrantedAccess == granted && info.HandleAttributes == 0
                                         : obj == NULL);
        if (!KtRequireImplemented(Context, status, "ObReferenceObjectByHandle", "lab 06") ||
            !KtCheck(Context, ok, cases[c].Expected == STATUS_OBJECT_TYPE_MISMATCH ? "type_mismatch" :
                     cases[c].Expected == STATUS_ACCESS_DENIED ? "access_denied" :
                     cases[c].Expected == STATUS_INVALID_HANDLE ? "invalid_handle" : "reference_by_handle",
                     "ObReferenceObjectByHandle with %s (handle 0x%llx, access 0x%x) returned 0x%08x, object %p, "
                     "granted 0x%x; expected 0x%08x, %s, granted 0x%x", cases[c].Why,
                     (ULONG64)(ULONG_PTR)cases[c].Handle, cases[c].Access, (ULONG)status, obj, info.GrantedAccess,
                     (ULONG)cases[c].Expected, NT_SUCCESS(cases[c].Expected) ? "the object" : "NULL", granted))
            goto out;
        if (NT_SUCCESS(status)) {
            pointers++;
            if (!KtObCheckCounts(Context, cases[c].Why, body, pointers, 2))
                goto out;
            ObDereferenceObject(body);
            pointers--;
        } else if (!KtObCheckCounts(Context, cases[c].Why, body, pointers, 2)) {
            goto out;
        }
    }
    /* MAXIMUM_ALLOWED is granted as the type's ValidAccessMask. */
    PVOID maxBody;
    HANDLE hm = NULL;
    if (!KtObCreate(Context, KtObType, 2, NULL, 0, &maxBody))
        goto out;
    status = ObInsertObject(maxBody, MAXIMUM_ALLOWED, 0, &hm);
    PHANDLE_TABLE_ENTRY me = hm ? KtHandleEntry(p->ObjectTable, (ULONG)(ULONG_PTR)hm) : NULL;
    ACCESS_MASK maxGranted = me ? me->GrantedAccess : 0;
    if (hm)
        ObCloseHandle(hm, UserMode);
    KtCheck(Context, status == STATUS_SUCCESS && maxGranted == KtObType->TypeInfo.ValidAccessMask, "maximum_allowed",
            "ObInsertObject with MAXIMUM_ALLOWED returned 0x%08x with GrantedAccess 0x%x, expected the type's "
            "ValidAccessMask 0x%x", (ULONG)status, maxGranted, KtObType->TypeInfo.ValidAccessMask);
out:
    if (hk)
        ObCloseHandle(hk, KernelMode);
    if (h)
        ObCloseHandle(h, UserMode);
    KtLeaveProcess(p);
}
