/* name_tests.c - lab 06 public tests of the namespace: \ObjectTypes lists every type;
 * named objects enter their directory (every bucket audited), are found by name (with
 * and without OBJ_CASE_INSENSITIVE), collide (STATUS_OBJECT_NAME_COLLISION) or open the
 * existing one (OBJ_OPENIF); every lookup error; symbolic links, chains and loops (the
 * reparse limit); the parse method; a temporary object leaves the namespace with its last
 * handle, a permanent one stays until made temporary. */
#include "lab06_support.h"

static VOID KtMixCase(PKTEST_CONTEXT Context, PCHAR Name)
{
    for (PCHAR p = Name; *p; p++)
        if (*p >= 'a' && *p <= 'z' && KtRandomRange(Context, 0, 1))
            *p = (CHAR)(*p - 'a' + 'A');
        else if (*p >= 'A' && *p <= 'Z' && KtRandomRange(Context, 0, 1))
            *p = (CHAR)(*p - 'A' + 'a');
}

KTEST_OB("name.types", KtTestNameTypes)
{
    if (!KtObSetup(Context))
        return;
    POBJECT_DIRECTORY types = KtFindByPath("\\ObjectTypes");
    if (!KtCheck(Context, types != NULL, "object_types", "\\ObjectTypes is not in the root directory"))
        return;
    if (!KtAuditDirectory(Context, "the namespace was built", types, (PVOID *)ObpObjectTypes, ObpObjectTypeCount) ||
        !KtAuditDirectory(Context, "the namespace was built", ObpRootDirectoryObject, NULL, 0))
        return;
    for (ULONG i = 0; i < ObpObjectTypeCount; i++) {
        CHAR path[64];
        RtlFormatString(path, sizeof(path), "\\ObjectTypes\\%s", ObpObjectTypes[i]->Name);
        if (i % 2)
            KtMixCase(Context, path);
        PVOID obj;
        NTSTATUS status = KtLookup(path, i % 2 ? OBJ_CASE_INSENSITIVE : 0, ObpTypeObjectType, &obj);
        if (!KtRequireImplemented(Context, status, "ObReferenceObjectByName", "lab 06") ||
            !KtCheck(Context, status == STATUS_SUCCESS && obj == ObpObjectTypes[i], "object_types", "looking up %s "
                     "returned 0x%08x, %p; expected the type object %p", path, (ULONG)status, obj, ObpObjectTypes[i]))
            return;
        ObDereferenceObject(obj);
    }
    static const PCSTR dirs[] = {"\\??", "\\Device", "\\BaseNamedObjects", "\\KernelObjects", "\\"};
    for (ULONG i = 0; i < ARRAYSIZE(dirs); i++) {
        PVOID obj;
        NTSTATUS status = KtLookup(dirs[i], 0, ObpDirectoryObjectType, &obj);
        if (!KtCheck(Context, status == STATUS_SUCCESS && obj == KtFindByPath(dirs[i]) && obj, "directories",
                     "looking up %s returned 0x%08x, %p, expected the directory %p", dirs[i], (ULONG)status, obj,
                     KtFindByPath(dirs[i])))
            return;
        ObDereferenceObject(obj);
    }
}

#define KT_NAMES 24
KTEST_OB("name.lookup", KtTestNameLookup)
{
    if (!KtObSetup(Context))
        return;
    POBJECT_DIRECTORY bno = KtFindByPath("\\BaseNamedObjects");
    LONG entriesBefore = KtPoolOutstanding(OB_DIRECTORY_ENTRY_TAG);
    ULONG n = (ULONG)KtRandomRange(Context, 8, KT_NAMES);
    PVOID bodies[KT_NAMES] = {0};
    HANDLE handles[KT_NAMES] = {0};
    CHAR names[KT_NAMES][OB_MAX_NAME];
    ULONG base = (ULONG)KtRandomRange(Context, 0, 0xFFFFF);
    for (ULONG i = 0; i < n; i++) {
        RtlFormatString(names[i], OB_MAX_NAME, "\\BaseNamedObjects\\KtName%x_%u", base, i);
        if (!KtObCreate(Context, KtObType, 100 + i, names[i], 0, &bodies[i]))
            goto out;
        NTSTATUS status = ObInsertObject(bodies[i], 1, 0, &handles[i]);
        POBJECT_HEADER_NAME_INFO ni = OBJECT_HEADER_TO_NAME_INFO(OBJECT_TO_OBJECT_HEADER(bodies[i]));
        PCSTR last = names[i] + strlen("\\BaseNamedObjects\\");
        if (!KtRequireImplemented(Context, status, "ObInsertObject", "lab 06") ||
            !KtCheck(Context, status == STATUS_SUCCESS, "insert_named", "ObInsertObject(%s) returned 0x%08x", names[i],
                     (ULONG)status) ||
            !KtCheck(Context, ni->Directory == bno && ni->Name.Length == strlen(last) &&
                     memcmp(ni->Name.Buffer, last, ni->Name.Length) == 0, "name_in_directory", "after inserting %s its "
                     "name info has Directory %p (\\BaseNamedObjects %p) and Name '%.*s' (expected the last component "
                     "'%s')", names[i], ni->Directory, bno, (int)ni->Name.Length, ni->Name.Buffer, last) ||
            !KtObCheckCounts(Context, "inserting a named object", bodies[i], 2, 1) ||
            !KtAuditDirectory(Context, names[i], bno, bodies, i + 1))
            goto out;
    }
    /* Found by name; case matters unless OBJ_CASE_INSENSITIVE. */
    for (ULONG k = 0; k < 3; k++) {
        ULONG i = k == 0 ? 0 : k == 1 ? n - 1 : (ULONG)KtRandomRange(Context, 1, n - 2);
        CHAR mixed[OB_MAX_NAME];
        RtlCopyMemory(mixed, names[i], OB_MAX_NAME);
        KtMixCase(Context, mixed + 18);
        mixed[18] = 'k'; /* surely differs in case from "K" */
        PVOID obj;
        NTSTATUS status = KtLookup(names[i], 0, KtObType, &obj);
        if (!KtCheck(Context, status == STATUS_SUCCESS && obj == bodies[i], "lookup", "looking up %s returned 0x%08x, "
                     "%p; expected %p", names[i], (ULONG)status, obj, bodies[i]) ||
            !KtObCheckCounts(Context, "a lookup by name", bodies[i], 3, 1))
            goto out;
        ObDereferenceObject(obj);
        status = KtLookup(mixed, OBJ_CASE_INSENSITIVE, KtObType, &obj);
        if (!KtCheck(Context, status == STATUS_SUCCESS && obj == bodies[i], "case_insensitive", "looking up %s with "
                     "OBJ_CASE_INSENSITIVE returned 0x%08x, %p; expected %p", mixed, (ULONG)status, obj, bodies[i]))
            goto out;
        ObDereferenceObject(obj);
        status = KtLookup(mixed, 0, KtObType, &obj);
        if (!KtCheck(Context, status == STATUS_OBJECT_NAME_NOT_FOUND && obj == NULL, "case_sensitive", "looking up %s "
                     "without OBJ_CASE_INSENSITIVE returned 0x%08x, %p; expected STATUS_OBJECT_NAME_NOT_FOUND (%s)",
                     mixed, (ULONG)status, obj, names[i]))
            goto out;
    }
    /* Collisions: without OBJ_OPENIF the new object is refused and deleted; with it, the
     * existing one is opened (STATUS_OBJECT_NAME_EXISTS) and the new one deleted. */
    ULONG c = (ULONG)KtRandomRange(Context, 0, n - 1);
    for (ULONG openif = 0; openif < 2; openif++) {
        PVOID dup;
        ULONG id = 200 + openif;
        if (!KtObCreate(Context, KtObType, id, names[c], 0, &dup))
            goto out;
        HANDLE h = (HANDLE)0x1;
        ULONG opens = KtObCalls.Opens;
        NTSTATUS status = ObInsertObject(dup, 1, openif ? OBJ_OPENIF : 0, &h);
        if (!openif) {
            if (!KtCheck(Context, status == STATUS_OBJECT_NAME_COLLISION && h == NULL, "name_collision", "inserting a "
                         "second %s returned 0x%08x, handle %p; expected STATUS_OBJECT_NAME_COLLISION and NULL",
                         names[c], (ULONG)status, h) ||
                !KtCheck(Context, KtObDeletesById[id] == 1, "collision_deletes", "the refused object's delete method ran "
                         "%u times, expected once (ObInsertObject dereferences it)", KtObDeletesById[id]))
                goto out;
        } else {
            if (!KtCheck(Context, status == STATUS_OBJECT_NAME_EXISTS && h, "openif", "inserting a second %s with "
                         "OBJ_OPENIF returned 0x%08x, handle %p; expected STATUS_OBJECT_NAME_EXISTS and a handle",
                         names[c], (ULONG)status, h) ||
                !KtCheck(Context, KtObDeletesById[id] == 1 && KtObCalls.Opens == opens + 1, "openif", "with OBJ_OPENIF "
                         "the new object was deleted %u times (once) and the open method ran %u times (once)",
                         KtObDeletesById[id], KtObCalls.Opens - opens))
                goto out;
            PVOID obj;
            status = ObReferenceObjectByHandle(h, 0, NULL, KernelMode, &obj, NULL);
            BOOLEAN same = status == STATUS_SUCCESS && obj == bodies[c];
            if (NT_SUCCESS(status))
                ObDereferenceObject(obj);
            ObCloseHandle(h, KernelMode);
            if (!KtCheck(Context, same, "openif", "the OBJ_OPENIF handle names %p, expected the existing %p", obj,
                         bodies[c]))
                goto out;
        }
        if (!KtObCheckCounts(Context, "a collision", bodies[c], 2, 1) ||
            !KtAuditDirectory(Context, "a collision", bno, bodies, n))
            goto out;
    }
    /* Errors. */
    struct {
        PCSTR Path;
        NTSTATUS Expected;
        PCSTR Why;
    } errors[] = {
        {"\\BaseNamedObjects\\KtNoSuchName", STATUS_OBJECT_NAME_NOT_FOUND, "a missing last component"},
        {"\\KtNoSuchDir\\x", STATUS_OBJECT_PATH_NOT_FOUND, "a missing directory on the way"},
        {"BaseNamedObjects", STATUS_OBJECT_PATH_SYNTAX_BAD, "a relative name without a root directory"},
        {"\\BaseNamedObjects\\\\x", STATUS_OBJECT_NAME_INVALID, "an empty component"},
        {"\\BaseNamedObjects\\", STATUS_OBJECT_NAME_INVALID, "a trailing backslash"},
        {names[c], STATUS_SUCCESS, "the object"},
    };
    for (ULONG e = 0; e < ARRAYSIZE(errors); e++) {
        PVOID obj;
        NTSTATUS status = KtLookup(errors[e].Path, 0, NULL, &obj);
        if (!KtCheck(Context, status == errors[e].Expected && (NT_SUCCESS(status) ? obj != NULL : obj == NULL),
                     "lookup_errors", "looking up '%s' (%s) returned 0x%08x, %p; expected 0x%08x", errors[e].Path,
                     errors[e].Why, (ULONG)status, obj, (ULONG)errors[e].Expected))
            goto out;
        if (obj)
            ObDereferenceObject(obj);
    }
    /* Inserting an object named by one backslash (the root itself): a collision, the new object deleted. */
    PVOID rootNamed;
    if (!KtObCreate(Context, KtObType, 199, "\\", 0, &rootNamed))
        goto out;
    HANDLE rh = (HANDLE)0x1;
    NTSTATUS rs = ObInsertObject(rootNamed, 1, 0, &rh);
    if (NT_SUCCESS(rs) && rh)
        ObCloseHandle(rh, UserMode);
    if (!KtCheck(Context, rs == STATUS_OBJECT_NAME_COLLISION && rh == NULL && KtObDeletesById[199] == 1,
                 "name_collision", "ObInsertObject of an object named \"\\\" (the root directory's name) returned "
                 "0x%08x, handle %p, the new object deleted %u times; expected STATUS_OBJECT_NAME_COLLISION, NULL, once",
                 (ULONG)rs, rh, KtObDeletesById[199]))
        goto out;
    PVOID obj;
    NTSTATUS status = KtLookup(names[c], 0, ExEventObjectType, &obj);
    if (!KtCheck(Context, status == STATUS_OBJECT_TYPE_MISMATCH && obj == NULL, "type_mismatch", "looking up %s as an "
                 "Event returned 0x%08x", names[c], (ULONG)status))
        goto out;
    /* Relative to a directory handle. */
    HANDLE dirHandle;
    STRING s;
    OBJECT_ATTRIBUTES oa;
    RtlInitString(&s, "\\BaseNamedObjects");
    InitializeObjectAttributes(&oa, &s, 0, NULL);
    status = ObOpenObjectByName(&oa, ObpDirectoryObjectType, KernelMode, DIRECTORY_TRAVERSE, &dirHandle);
    if (!KtRequireImplemented(Context, status, "ObOpenObjectByName", "lab 06") ||
        !KtCheck(Context, status == STATUS_SUCCESS, "open_by_name", "ObOpenObjectByName(\\BaseNamedObjects) returned "
                 "0x%08x", (ULONG)status))
        goto out;
    RtlInitString(&s, names[c] + 18);
    HANDLE rel;
    InitializeObjectAttributes(&oa, &s, 0, dirHandle);
    status = ObOpenObjectByName(&oa, KtObType, KernelMode, 1, &rel);
    PVOID relObj = NULL;
    if (NT_SUCCESS(status)) {
        ObReferenceObjectByHandle(rel, 0, NULL, KernelMode, &relObj, NULL);
        if (relObj)
            ObDereferenceObject(relObj);
        ObCloseHandle(rel, KernelMode);
    }
    PCSTR relName = s.Buffer;
    /* Relative names may not begin with '\\'; the root handle must be a directory's. */
    STRING bad;
    RtlInitString(&bad, names[c] + 17);
    InitializeObjectAttributes(&oa, &bad, 0, dirHandle);
    HANDLE h2 = NULL;
    NTSTATUS s2 = ObOpenObjectByName(&oa, KtObType, KernelMode, 1, &h2);
    if (h2)
        ObCloseHandle(h2, KernelMode);
    h2 = NULL;
    InitializeObjectAttributes(&oa, &s, 0, handles[c]);
    KtValue(Context, "next_step", "opening a name relative to a KtObject handle, not a directory's (relative_name: "
            "expected STATUS_OBJECT_TYPE_MISMATCH)");
    NTSTATUS s3 = ObOpenObjectByName(&oa, KtObType, KernelMode, 1, &h2);
    if (h2)
        ObCloseHandle(h2, KernelMode);
    ObCloseHandle(dirHandle, KernelMode);
    if (!KtCheck(Context, status == STATUS_SUCCESS && relObj == bodies[c], "relative_name", "opening '%s' relative to "
                 "a \\BaseNamedObjects handle returned 0x%08x, %p; expected %p", relName, (ULONG)status, relObj,
                 bodies[c]) ||
        !KtCheck(Context, s2 == STATUS_OBJECT_PATH_SYNTAX_BAD, "relative_name", "opening '%s' (a leading '\\') "
                 "relative to a directory handle returned 0x%08x, expected STATUS_OBJECT_PATH_SYNTAX_BAD", bad.Buffer,
                 (ULONG)s2))
        goto out;
    KtCheck(Context, s3 == STATUS_OBJECT_TYPE_MISMATCH, "relative_name", "opening '%s' relative to a handle of a "
            "KtObject (not a directory) returned 0x%08x, expected STATUS_OBJECT_TYPE_MISMATCH (RootDirectory must be "
            "a Directory handle)", relName, (ULONG)s3);
out:
    for (ULONG i = 0; i < n; i++)
        if (handles[i])
            ObCloseHandle(handles[i], UserMode);
    if (!KtObStubbed(Context))
        for (ULONG i = 0; i < n; i++)
            if (!KtCheck(Context, KtObDeletesById[100 + i] == 1 && KtFindByPath(names[i]) == NULL, "temporary_leaves",
                         "after the last handle of temporary %s closed it was deleted %u times (once) and is %s in "
                         "the namespace", names[i], KtObDeletesById[100 + i], KtFindByPath(names[i]) ? "still" : "not"))
                break;
    if (!KtObStubbed(Context))
        KtCheck(Context, KtPoolOutstanding(OB_DIRECTORY_ENTRY_TAG) == entriesBefore, "entry_freed", "%d directory "
                "entries (tag ObDi) are allocated after every name left, expected %d: ObpDeleteDirectoryEntry frees "
                "the entry", KtPoolOutstanding(OB_DIRECTORY_ENTRY_TAG), entriesBefore);
}
