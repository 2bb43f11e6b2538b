/* object_tests.c - lab 06 public tests of objects: ObCreateObject on the poisoned pool
 * (every header and name-info field, unnamed and named, permanent and kernel flags, every
 * error path leaving nothing behind), reference counting with the delete method run
 * exactly once when the last reference goes, and a reference dropped that the object does
 * not have (REFERENCE_BY_POINTER). */
#include "lab06_support.h"

/* Seeded: unnamed and named objects with every attribute combination, references taken
 * and dropped in a seeded order; the delete method runs once, at the last one. */
KTEST_OB("object.create", KtTestObjectCreate)
{
    if (!KtObSetup(Context))
        return;
    LONG tagBefore = KtPoolOutstanding(KtObType->TypeInfo.PoolTag);
    LONG objectsBefore = KtObType->TotalNumberOfObjects;
    static const ULONG attrs[4] = {0, OBJ_PERMANENT, OBJ_KERNEL_HANDLE, OBJ_PERMANENT | OBJ_KERNEL_HANDLE};
    PVOID bodies[8];
    ULONG refs[8];
    for (ULONG i = 0; i < 8; i++) {
        CHAR name[OB_MAX_NAME];
        RtlFormatString(name, sizeof(name), "KtCreate%u_%u", i, (ULONG)KtRandomRange(Context, 0, 99999));
        if (!KtObCreate(Context, KtObType, i + 1, (i & 1) ? name : NULL, attrs[(i / 2) % 4], &bodies[i]))
            return;
        refs[i] = 1;
    }
    /* A seeded storm of references and dereferences; every count checked at every step. */
    ULONG steps = (ULONG)KtRandomRange(Context, 40, 80);
    for (ULONG s = 0; s < steps; s++) {
        ULONG i = (ULONG)KtRandomRange(Context, 0, 7);
        CHAR step[64];
        if (KtRandomRange(Context, 0, 2) != 0 || refs[i] == 1) {
            LONG_PTR r = ObReferenceObject(bodies[i]);
            if (KtObStubbed(Context))
                return;
            refs[i]++;
            RtlFormatString(step, sizeof(step), "ObReferenceObject of object %u (step %u)", i, s);
            if (!KtCheck(Context, r == (LONG_PTR)refs[i], "reference_returns", "%s returned %lld, expected the new "
                         "PointerCount %u", step, (LONG64)r, refs[i]))
                return;
        } else {
            LONG_PTR r = ObDereferenceObject(bodies[i]);
            if (KtObStubbed(Context))
                return;
            refs[i]--;
            RtlFormatString(step, sizeof(step), "ObDereferenceObject of object %u (step %u)", i, s);
            if (!KtCheck(Context, r == (LONG_PTR)refs[i], "dereference_returns", "%s returned %lld, expected the new "
                         "PointerCount %u", step, (LONG64)r, refs[i]) ||
                !KtCheck(Context, KtObCalls.Deletes == 0, "delete_last", "%s: the delete method ran with %u "
                         "references left: it runs only when the last reference goes", step, refs[i]))
                return;
        }
        if (!KtObCheckCounts(Context, step, bodies[i], refs[i], 0))
            return;
    }
    /* Drop everything, in a seeded order: each object deleted exactly once, at its last. */
    ULONG order[8];
    for (ULONG i = 0; i < 8; i++)
        order[i] = i;
    for (ULONG i = 7; i > 0; i--) {
        ULONG j = (ULONG)KtRandomRange(Context, 0, i);
        ULONG t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (ULONG k = 0; k < 8; k++) {
        ULONG i = order[k];
        ULONG id = i + 1;
        while (refs[i] > 1) {
            ObDereferenceObject(bodies[i]);
            refs[i]--;
            if (!KtCheck(Context, KtObDeletesById[id] == 0, "delete_last", "object %u was deleted with %u references "
                         "left", id, refs[i]))
                return;
        }
        LONG before = KtObType->TotalNumberOfObjects;
        LONG_PTR r = ObDereferenceObject(bodies[i]);
        if (!KtCheck(Context, r == 0, "dereference_returns", "the last ObDereferenceObject of object %u returned %lld, "
                     "expected 0", id, (LONG64)r) ||
            !KtCheck(Context, KtObDeletesById[id] == 1, "delete_once", "object %u's delete method ran %u times when its "
                     "last reference went, expected exactly once", id, KtObDeletesById[id]) ||
            !KtCheck(Context, KtObCalls.DeleteSawSignature, "delete_before_free", "object %u's delete method ran on a "
                     "header that was no longer intact (Signature cleared or PointerCount not 0): the method runs "
                     "before the object is torn down and freed", id) ||
            !KtCheck(Context, KtObType->TotalNumberOfObjects == before - 1, "type_objects", "the type counts %d objects "
                     "after a delete, expected %d", KtObType->TotalNumberOfObjects, before - 1))
            return;
    }
    KtCheck(Context, KtObCalls.Deletes == 8, "delete_once", "%u delete-method calls for 8 objects", KtObCalls.Deletes);
    KtCheck(Context, KtPoolOutstanding(KtObType->TypeInfo.PoolTag) == tagBefore, "freed", "%d blocks tagged KtOb still "
            "allocated after every object was deleted (expected %d): the whole block, name info included, is freed "
            "with the type's tag", KtPoolOutstanding(KtObType->TypeInfo.PoolTag), tagBefore);
    KtCheck(Context, KtObType->TotalNumberOfObjects == objectsBefore, "type_objects", "the type counts %d objects, "
            "expected %d", KtObType->TotalNumberOfObjects, objectsBefore);
}

/* Every error path of ObCreateObject: *Object NULL, nothing allocated, nothing counted. */
KTEST_OB("object.create_errors", KtTestObjectCreateErrors)
{
    if (!KtObSetup(Context))
        return;
    LONG tagBefore = KtPoolOutstanding(KtObType->TypeInfo.PoolTag);
    LONG objectsBefore = KtObType->TotalNumberOfObjects;
    CHAR longName[OB_MAX_NAME + 8], exactName[OB_MAX_NAME + 1];
    ULONG len = (ULONG)KtRandomRange(Context, OB_MAX_NAME + 1, OB_MAX_NAME + 7);
    for (ULONG i = 0; i < len; i++)
        longName[i] = (CHAR)('a' + i % 26);
    longName[len] = 0;
    RtlCopyMemory(exactName, longName, OB_MAX_NAME);
    exactName[OB_MAX_NAME] = 0;
    CHAR fits[OB_MAX_NAME];
    for (ULONG i = 0; i < OB_MAX_NAME - 1; i++)
        fits[i] = (CHAR)('A' + i % 26);
    fits[OB_MAX_NAME - 1] = 0;
    STRING longString, exactString, empty = {0, 0, fits}, fitString;
    RtlInitString(&longString, longName);
    RtlInitString(&exactString, exactName);
    RtlInitString(&fitString, fits);
    struct {
        PSTRING Name;
        ULONG Attributes;
        NTSTATUS Expected;
        PCSTR Why;
    } cases[] = {
        {NULL, 0x1, STATUS_INVALID_PARAMETER, "attributes outside OBJ_VALID_ATTRIBUTES"},
        {NULL, 0x10000, STATUS_INVALID_PARAMETER, "attributes outside OBJ_VALID_ATTRIBUTES"},
        {&empty, 0, STATUS_INVALID_PARAMETER, "an empty name"},
        {&exactString, 0, STATUS_OBJECT_NAME_INVALID, "a name of exactly OB_MAX_NAME bytes"},
        {&longString, 0, STATUS_OBJECT_NAME_INVALID, "a name longer than OB_MAX_NAME bytes"},
        {NULL, 0, STATUS_INVALID_PARAMETER, "a NULL type"},
    };
    for (ULONG c = 0; c < ARRAYSIZE(cases); c++) {
        OBJECT_ATTRIBUTES oa;
        InitializeObjectAttributes(&oa, cases[c].Name, cases[c].Attributes, NULL);
        PVOID body = (PVOID)0x1;
        NTSTATUS status = ObCreateObject(KernelMode, c == ARRAYSIZE(cases) - 1 ? NULL : KtObType, &oa,
                                         sizeof(KT_OB_BODY), &body);
        if (!KtRequireImplemented(Context, status, "ObCreateObject", "lab 06") ||
            !KtCheck(Context, status == cases[c].Expected && body == NULL, "create_errors", "ObCreateObject with %s "
                     "returned 0x%08x and object %p, expected 0x%08x and NULL", cases[c].Why, (ULONG)status, body,
                     (ULONG)cases[c].Expected) ||
            !KtCheck(Context, KtPoolOutstanding(KtObType->TypeInfo.PoolTag) == tagBefore &&
                     KtObType->TotalNumberOfObjects == objectsBefore, "create_errors_nothing_left", "ObCreateObject "
                     "with %s left %d blocks and %d objects counted (expected %d and %d)", cases[c].Why,
                     KtPoolOutstanding(KtObType->TypeInfo.PoolTag), KtObType->TotalNumberOfObjects, tagBefore,
                     objectsBefore))
            return;
    }
    /* The longest name that fits (OB_MAX_NAME - 1 bytes) is accepted. */
    PVOID body;
    if (!KtObCreate(Context, KtObType, 1, fits, 0, &body))
        return;
    ObDereferenceObject(body);
    KtCheck(Context, KtPoolOutstanding(KtObType->TypeInfo.PoolTag) == tagBefore, "freed", "%d KtOb blocks left, "
            "expected %d", KtPoolOutstanding(KtObType->TypeInfo.PoolTag), tagBefore);
}

/* Dropping a reference the object does not have bugchecks REFERENCE_BY_POINTER. */
KTEST_STOP("object.deref_underflow", KtTestDerefUnderflow)
{
    if (!KtObSetup(Context))
        return;
    PVOID body;
    if (!KtObCreate(Context, KtObType, 1, NULL, 0, &body))
        return;
    /* Hold an extra reference and a handle: 2 pointers, 1 handle; then drop 2. */
    ObReferenceObject(body);
    HANDLE h;
    NTSTATUS status = ObInsertObject(body, 1, 0, &h);
    if (!KtRequireImplemented(Context, status, "ObInsertObject", "lab 06") ||
        !KtCheck(Context, status == STATUS_SUCCESS, "insert", "ObInsertObject returned 0x%08x", (ULONG)status))
        return;
    KtValue(Context, "type", "0x%llx", (ULONG64)(ULONG_PTR)KtObType);
    KtValue(Context, "object", "0x%llx", (ULONG64)(ULONG_PTR)body);
    KtValue(Context, "stop_params", "0x%llx 0x%llx 0x1 0x1", (ULONG64)(ULONG_PTR)KtObType, (ULONG64)(ULONG_PTR)body);
    ObDereferenceObject(body); /* 1 pointer, 1 handle: fine */
    ObDereferenceObject(body); /* 0 pointers with a handle open: REFERENCE_BY_POINTER */
    KtFail(Context, "reference_by_pointer", "a dereference that left PointerCount (0) below HandleCount (1) returned: "
           "it bugchecks REFERENCE_BY_POINTER");
}
