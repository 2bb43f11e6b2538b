/* lab06_support.c - lab 06's test helpers and auditors (see lab06_support.h). */
#include "lab06_support.h"

POBJECT_TYPE KtObType, KtParseType;
KT_OB_CALLS KtObCalls;
ULONG KtObDeletesById[KT_OB_MAX_IDS];
ULONG KtParseMode;
PVOID KtParseResult;
PCSTR KtParseTarget;
CHAR KtParseRemaining[128];

static NTSTATUS KtObOpen(OB_OPEN_REASON Reason, PEPROCESS Process, PVOID Object, ACCESS_MASK GrantedAccess,
                         ULONG HandleCount)
{
    KtObCalls.Opens++;
    KtObCalls.LastReason = Reason;
    KtObCalls.LastOpenCount = HandleCount;
    KtObCalls.HandleCountAtOpen = OBJECT_TO_OBJECT_HEADER(Object)->HandleCount;
    KtObCalls.LastProcess = Process;
    KtObCalls.LastAccess = GrantedAccess;
    return KtObCalls.OpenStatus;
}

static VOID KtObClose(PEPROCESS Process, PVOID Object, ACCESS_MASK GrantedAccess, ULONG HandleCount)
{
    KtObCalls.Closes++;
    KtObCalls.LastCloseCount = HandleCount;
    KtObCalls.HandleCountAtClose = OBJECT_TO_OBJECT_HEADER(Object)->HandleCount;
    KtObCalls.LastProcess = Process;
    KtObCalls.LastAccess = GrantedAccess;
}

static VOID KtObDelete(PVOID Object)
{
    PKT_OB_BODY b = Object;
    POBJECT_HEADER h = OBJECT_TO_OBJECT_HEADER(Object);
    KtObCalls.Deletes++;
    KtObCalls.DeleteSawSignature = h->Signature == OB_HEADER_SIGNATURE && h->PointerCount == 0;
    if (b->Magic == KT_OB_MAGIC && b->Id < KT_OB_MAX_IDS)
        KtObDeletesById[b->Id]++;
    b->Magic = 0xDEADDEAD;
}

static NTSTATUS KtParse(PVOID ParseObject, POBJECT_TYPE ObjectType, ACCESS_MASK DesiredAccess, ULONG Attributes,
                        PSTRING CompleteName, PSTRING RemainingName, PVOID *Object)
{
    UNREFERENCED_PARAMETER(ParseObject);
    UNREFERENCED_PARAMETER(ObjectType);
    UNREFERENCED_PARAMETER(DesiredAccess);
    UNREFERENCED_PARAMETER(Attributes);
    KtObCalls.Parses++;
    ULONG n = RemainingName->Length < sizeof(KtParseRemaining) - 1 ? RemainingName->Length : sizeof(KtParseRemaining) - 1;
    RtlCopyMemory(KtParseRemaining, RemainingName->Buffer, n);
    KtParseRemaining[n] = 0;
    *Object = NULL;
    if (KtParseMode == 1) {
        SIZE_T t = strlen(KtParseTarget);
        if (t >= CompleteName->MaximumLength)
            return STATUS_OBJECT_NAME_INVALID;
        RtlCopyMemory(CompleteName->Buffer, KtParseTarget, t);
        CompleteName->Length = (USHORT)t;
        return STATUS_REPARSE;
    }
    if (!KtParseResult)
        return STATUS_OBJECT_NAME_NOT_FOUND;
    ObReferenceObject(KtParseResult);
    *Object = KtParseResult;
    return STATUS_SUCCESS;
}

VOID KtObResetCalls(VOID)
{
    RtlZeroMemory(&KtObCalls, sizeof(KtObCalls));
    RtlZeroMemory(KtObDeletesById, sizeof(KtObDeletesById));
    KtObCalls.OpenStatus = STATUS_SUCCESS;
}

BOOLEAN KtObStubbed(PKTEST_CONTEXT Context)
{
    return Context->NotImplementedCount != 0;
}

VOID KtObTeardown(PKTEST_CONTEXT Context)
{
    static const ULONG tags[] = {POOL_TAG('K', 't', 'O', 'b'), POOL_TAG('K', 't', 'P', 'a'), HANDLE_TABLE_TAG,
                                 OB_DIRECTORY_ENTRY_TAG, POOL_TAG('D', 'i', 'r', 'e'), POOL_TAG('S', 'y', 'm', 'b'),
                                 POOL_TAG('P', 'r', 'o', 'c'), POOL_TAG('T', 'h', 'r', 'e'), POOL_TAG('E', 'v', 'e', 'n'),
                                 POOL_TAG('S', 'e', 'm', 'a'), POOL_TAG('M', 'u', 't', 'a')};
    KeUnstackDetachProcess();
    if (KtObStubbed(Context))
        return;
    ObpResetObjectManager();
    if (Context->Failures)
        return;
    for (ULONG i = 0; i < ARRAYSIZE(tags); i++) {
        CHAR t[5] = {(CHAR)tags[i], (CHAR)(tags[i] >> 8), (CHAR)(tags[i] >> 16), (CHAR)(tags[i] >> 24), 0};
        if (!KtCheck(Context, KtPoolOutstanding(tags[i]) == 0, "nothing_leaked", "at the end of the test, with the "
                     "namespace and the system process taken down, %d blocks tagged '%s' are still allocated: an "
                     "object never deleted (a reference or handle not dropped), a table page or a directory entry "
                     "not freed", KtPoolOutstanding(tags[i]), t))
            return;
    }
}

BOOLEAN KtObSetup(PKTEST_CONTEXT Context)
{
    KtSetBudget(Context, KT_LAB06_BUDGET_MS);
    ObInitSystem();
    if (!KtObType) {
        OBJECT_TYPE_INITIALIZER init;
        RtlZeroMemory(&init, sizeof(init));
        init.PoolType = NonPagedPool;
        init.PoolTag = POOL_TAG('K', 't', 'O', 'b');
        init.ValidAccessMask = 0x001F000F;
        init.OpenProcedure = KtObOpen;
        init.CloseProcedure = KtObClose;
        init.DeleteProcedure = KtObDelete;
        ObCreateObjectType("KtObject", &init, &KtObType);
        init.PoolTag = POOL_TAG('K', 't', 'P', 'a');
        init.OpenProcedure = NULL;
        init.CloseProcedure = NULL;
        init.ParseProcedure = KtParse;
        ObCreateObjectType("KtParse", &init, &KtParseType);
    }
    KtObResetCalls();
    KtParseMode = 0;
    KtParseResult = NULL;
    /* ObCreateObject first, named and unnamed: the namespace is built with it. */
    if (!ObpRootDirectoryObject) {
        PVOID probe[2] = {NULL, NULL};
        if (!KtObCreate(Context, KtObType, 0, "\\KtProbe", OBJ_PERMANENT, &probe[0]) ||
            !KtObCreate(Context, KtObType, 0, NULL, 0, &probe[1]))
            return FALSE;
        ObReferenceObject(probe[1]);
        ObDereferenceObject(probe[1]);
        if (KtObStubbed(Context) ||
            !KtCheck(Context, KtObDeletesById[0] == 0, "delete_last", "a new object referenced once more and "
                     "dereferenced once (one reference left) was deleted: the delete method runs only when the last "
                     "reference goes"))
            return FALSE;
        ObDereferenceObject(probe[0]);
        ObDereferenceObject(probe[1]);
        if (KtObStubbed(Context) ||
            !KtCheck(Context, KtObDeletesById[0] == 2, "delete_once", "two new objects (one named) were dereferenced "
                     "once each and deleted %u times (expected 2)", KtObDeletesById[0]))
            return FALSE;
        KtObResetCalls();
    }
    NTSTATUS status = ObpInitializeNamespace();

    if (!KtRequireImplemented(Context, status, "ObpInitializeNamespace (ObCreateObject, ExCreateHandleTable, "
                              "ObInsertObject...)", "lab 06") || KtObStubbed(Context))
        return FALSE;
    if (!KtCheck(Context, NT_SUCCESS(status) && ObpRootDirectoryObject && PsInitialSystemProcess, "namespace",
                 "building the namespace (the root, \\ObjectTypes, \\??, \\Device, \\BaseNamedObjects, \\DosDevices) "
                 "with the lab's routines failed: status 0x%08x", (ULONG)status))
        return FALSE;
    /* The tree the framework built: every name its last component, every permanent
     * directory still there after the framework closed the handle it was created with. */
    POBJECT_DIRECTORY root = ObpRootDirectoryObject;
    for (ULONG b = 0; b < NUMBER_HASH_BUCKETS; b++)
        for (POBJECT_DIRECTORY_ENTRY e = root->HashBuckets[b]; e; e = e->ChainLink) {
            POBJECT_HEADER_NAME_INFO ni = OBJECT_HEADER_TO_NAME_INFO(OBJECT_TO_OBJECT_HEADER(e->Object));
            BOOLEAN plain = ni != NULL;
            for (ULONG i = 0; plain && i < ni->Name.Length; i++)
                plain = ni->Name.Buffer[i] != '\\';
            if (!KtCheck(Context, plain, "name_in_directory", "the root directory holds an entry named '%.*s': an "
                         "inserted object's name is its last component only (moved to the start of NameBuffer)",
                         ni ? (int)ni->Name.Length : 6, ni ? ni->Name.Buffer : "(none)"))
                return FALSE;
        }
    static const PCSTR tree[] = {"\\ObjectTypes", "\\?" "?", "\\Device", "\\BaseNamedObjects", "\\KernelObjects",
                                 "\\DosDevices"};
    for (ULONG i = 0; i < ARRAYSIZE(tree); i++)
        if (!KtCheck(Context, KtFindByPath(tree[i]) != NULL, "permanent_stays", "%s is not in the namespace after the "
                     "framework created it permanent (OBJ_PERMANENT) and closed its handle: a permanent object keeps its "
                     "name and the directory entry's reference when its last handle closes", tree[i]))
            return FALSE;
    /* The types created after the namespace also get their \ObjectTypes entries. */

    POBJECT_DIRECTORY types = KtFindByPath("\\ObjectTypes");
    for (ULONG i = 0; types && i < ObpObjectTypeCount; i++) {
        POBJECT_HEADER h = OBJECT_TO_OBJECT_HEADER(ObpObjectTypes[i]);
        POBJECT_HEADER_NAME_INFO ni = OBJECT_HEADER_TO_NAME_INFO(h);
        if (ni->Directory)
            continue;
        if (!KtCheck(Context, NT_SUCCESS(ObpInsertDirectoryEntry(types, ObpObjectTypes[i])), "insert_entry",
                     "ObpInsertDirectoryEntry(\\ObjectTypes, type %s) failed", ObpObjectTypes[i]->Name))
            return FALSE;
        ni->Directory = types;
        h->PointerCount++;
    }
    return TRUE;
}

BOOLEAN KtObCreate(PKTEST_CONTEXT Context, POBJECT_TYPE Type, ULONG Id, PCSTR Name, ULONG Attributes, PVOID *Body)
{
    STRING name;
    OBJECT_ATTRIBUTES oa;
    RtlInitString(&name, Name);
    InitializeObjectAttributes(&oa, Name ? &name : NULL, Attributes, NULL);
    LONG before = Type->TotalNumberOfObjects;
    *Body = (PVOID)0x1;
    NTSTATUS status = ObCreateObject(KernelMode, Type, &oa, sizeof(KT_OB_BODY), Body);
    if (!KtRequireImplemented(Context, status, "ObCreateObject", "lab 06") ||
        !KtCheck(Context, status == STATUS_SUCCESS && *Body, "create", "ObCreateObject(%s, %s) returned 0x%08x, object "
                 "%p", Type->Name, Name ? Name : "unnamed", (ULONG)status, *Body))
        return FALSE;
    POBJECT_HEADER h = OBJECT_TO_OBJECT_HEADER(*Body);
    UCHAR flags = (UCHAR)(((Attributes & OBJ_PERMANENT) ? OB_FLAG_PERMANENT : 0) |
                          ((Attributes & OBJ_KERNEL_HANDLE) ? OB_FLAG_KERNEL_ONLY : 0));
    if (!KtCheck(Context, h->PointerCount == 1 && h->HandleCount == 0, "create_counts", "a new object (%s) has "
                 "PointerCount %lld, HandleCount %lld: expected 1 (the creator's reference) and 0", Name ? Name : "unnamed",
                 (LONG64)h->PointerCount, (LONG64)h->HandleCount) ||
        !KtCheck(Context, h->Type == Type && h->Signature == OB_HEADER_SIGNATURE && h->Flags == flags, "create_header",
                 "a new object's header: Type %p (expected %p), Signature 0x%x (0x%x), Flags 0x%x (expected 0x%x for "
                 "attributes 0x%x: OB_FLAG_PERMANENT for OBJ_PERMANENT, OB_FLAG_KERNEL_ONLY for OBJ_KERNEL_HANDLE)",
                 h->Type, Type, h->Signature, OB_HEADER_SIGNATURE, h->Flags, flags, Attributes) ||
        !KtCheck(Context, Type->TotalNumberOfObjects == before + 1, "type_objects", "the type %s counts %d objects "
                 "after ObCreateObject, expected %d", Type->Name, Type->TotalNumberOfObjects, before + 1))
        return FALSE;
    POBJECT_HEADER_NAME_INFO ni = OBJECT_HEADER_TO_NAME_INFO(h);
    if (!Name) {
        if (!KtCheck(Context, h->NameInfoOffset == 0, "name_info", "an unnamed object has NameInfoOffset %u, expected 0 "
                     "(no name info)", h->NameInfoOffset))
            return FALSE;
    } else {
        SIZE_T n = strlen(Name);
        if (!KtCheck(Context, h->NameInfoOffset == sizeof(OBJECT_HEADER_NAME_INFO), "name_info", "a named object has "
                     "NameInfoOffset %u, expected %u (the name info right before the header)", h->NameInfoOffset,
                     (ULONG)sizeof(OBJECT_HEADER_NAME_INFO)) ||
            !KtCheck(Context, ni->Directory == NULL && ni->Name.Buffer == ni->NameBuffer && ni->Name.Length == n &&
                     ni->Name.MaximumLength == OB_MAX_NAME && memcmp(ni->NameBuffer, Name, n) == 0, "name_info",
                     "a new object named %s: name info Directory %p (NULL), Name.Buffer %p (NameBuffer %p), Length %u "
                     "(%u), MaximumLength %u (%u), text '%.*s'", Name, ni->Directory, ni->Name.Buffer, ni->NameBuffer,
                     ni->Name.Length, (ULONG)n, ni->Name.MaximumLength, OB_MAX_NAME, (int)n, ni->NameBuffer))
            return FALSE;
    }
    PKT_OB_BODY b = *Body;
    b->Magic = KT_OB_MAGIC;
    b->Id = Id;
    return TRUE;
}

BOOLEAN KtObCheckCounts(PKTEST_CONTEXT Context, PCSTR Step, PVOID Body, LONG_PTR Pointers, LONG_PTR Handles)
{
    POBJECT_HEADER h = OBJECT_TO_OBJECT_HEADER(Body);
    if (!KtCheck(Context, h->PointerCount >= h->HandleCount, "pointers_ge_handles", "after %s: PointerCount %lld < "
                 "HandleCount %lld: every handle holds a pointer reference", Step, (LONG64)h->PointerCount,
                 (LONG64)h->HandleCount))
        return FALSE;
    return KtCheck(Context, h->PointerCount == Pointers && h->HandleCount == Handles, "counts", "after %s: "
                   "PointerCount %lld, HandleCount %lld; expected %lld and %lld", Step, (LONG64)h->PointerCount,
                   (LONG64)h->HandleCount, (LONG64)Pointers, (LONG64)Handles);
}

LONG KtPoolOutstanding(ULONG Tag)
{
    for (ULONG i = 0; i < POOL_TRACK_TABLE_SIZE; i++)
        if (ExpPoolTrackTable[i].Key == Tag) {
            LONG n = 0;
            for (ULONG t = 0; t < POOL_TYPE_COUNT; t++)
                n += ExpPoolTrackTable[i].Allocs[t] - ExpPoolTrackTable[i].Frees[t];
            return n;
        }
    return 0;
}

/* ---- Handle tables ---- */
/* KtCheck for checks run thousands of times: the runner is told only of a failure. */
#define KtEnsure(Context, Condition, ...) ((Condition) ? TRUE : KtCheck(Context, FALSE, __VA_ARGS__))

#define KT_LOW_HANDLES (LOWLEVEL_COUNT * HANDLE_VALUE_INC)

ULONG KtExpectedLevel(ULONG NextHandleNeedingPool)
{
    ULONG lows = NextHandleNeedingPool / KT_LOW_HANDLES;
    return lows <= 1 ? 0 : lows <= MIDLEVEL_COUNT ? 1 : 2;
}

PHANDLE_TABLE_ENTRY KtHandleEntry(PHANDLE_TABLE Table, ULONG Value)
{
    ULONG i = Value / HANDLE_VALUE_INC;
    ULONG_PTR top = Table->TableCode & ~(ULONG_PTR)LEVEL_CODE_MASK;
    if (Value >= Table->NextHandleNeedingPool || !top)
        return NULL;
    switch (Table->TableCode & LEVEL_CODE_MASK) {
    case 0:
        return &((PHANDLE_TABLE_ENTRY)top)[i];
    case 1: {
        PHANDLE_TABLE_ENTRY low = ((PHANDLE_TABLE_ENTRY *)top)[i / LOWLEVEL_COUNT];
        return low ? &low[i % LOWLEVEL_COUNT] : NULL;
    }
    case 2: {
        PHANDLE_TABLE_ENTRY *mid = ((PHANDLE_TABLE_ENTRY **)top)[i / (LOWLEVEL_COUNT * MIDLEVEL_COUNT)];
        if (!mid)
            return NULL;
        PHANDLE_TABLE_ENTRY low = mid[(i / LOWLEVEL_COUNT) % MIDLEVEL_COUNT];
        return low ? &low[i % LOWLEVEL_COUNT] : NULL;
    }
    }
    return NULL;
}

VOID KtShadowInit(PKT_TABLE_SHADOW Shadow, PHANDLE_TABLE Table)
{
    RtlZeroMemory(Shadow, sizeof(*Shadow));
    Shadow->Table = Table;
    Shadow->NextHandleNeedingPool = KT_LOW_HANDLES;
    for (ULONG k = LOWLEVEL_COUNT - 1; k >= 1; k--)
        Shadow->Free[Shadow->FreeCount++] = k * HANDLE_VALUE_INC;
}

ULONG KtShadowCreate(PKT_TABLE_SHADOW Shadow, ULONG_PTR ObAttributes, ACCESS_MASK Access)
{
    if (Shadow->FreeCount == 0) {
        ULONG base = Shadow->NextHandleNeedingPool;
        if ((base + KT_LOW_HANDLES) / HANDLE_VALUE_INC > KT_SHADOW_INDICES)
            return 0;
        for (ULONG k = LOWLEVEL_COUNT - 1; k >= 1; k--)
            Shadow->Free[Shadow->FreeCount++] = base + k * HANDLE_VALUE_INC;
        Shadow->NextHandleNeedingPool = base + KT_LOW_HANDLES;
    }
    ULONG v = Shadow->Free[--Shadow->FreeCount];
    Shadow->ObAttributes[v / HANDLE_VALUE_INC] = ObAttributes;
    Shadow->Access[v / HANDLE_VALUE_INC] = Access;
    Shadow->HandleCount++;
    return v;
}

VOID KtShadowFree(PKT_TABLE_SHADOW Shadow, ULONG Value)
{
    Shadow->ObAttributes[Value / HANDLE_VALUE_INC] = 0;
    Shadow->Access[Value / HANDLE_VALUE_INC] = 0;
    Shadow->Free[Shadow->FreeCount++] = Value;
    Shadow->HandleCount--;
}

BOOLEAN KtAuditHandleTable(PKTEST_CONTEXT Context, PCSTR Step, PKT_TABLE_SHADOW Shadow)
{
    PHANDLE_TABLE t = Shadow->Table;
    ULONG level = t->TableCode & LEVEL_CODE_MASK;
    if (!KtEnsure(Context, t->NextHandleNeedingPool == Shadow->NextHandleNeedingPool, "table_grows_on_demand",
                 "after %s: NextHandleNeedingPool is %u, expected %u (a new low-level table only when the free list is "
                 "empty, %u handle values each)", Step, t->NextHandleNeedingPool, Shadow->NextHandleNeedingPool,
                 (ULONG)KT_LOW_HANDLES) ||
        !KtEnsure(Context, level == KtExpectedLevel(t->NextHandleNeedingPool), "table_level", "after %s: TableCode "
                 "level %u with %u low-level tables, expected level %u (0: one table, 1: a mid-level table of up to %u, "
                 "2: a top-level table)", Step, level, t->NextHandleNeedingPool / (ULONG)KT_LOW_HANDLES,
                 KtExpectedLevel(t->NextHandleNeedingPool), (ULONG)MIDLEVEL_COUNT) ||
        !KtEnsure(Context, t->HandleCount == Shadow->HandleCount, "handle_count", "after %s: the table's HandleCount is "
                 "%d, expected %d", Step, t->HandleCount, Shadow->HandleCount))
        return FALSE;
    /* Every pointer of the mid- and top-level tables past the low-level tables in use is NULL. */
    ULONG lows = t->NextHandleNeedingPool / (ULONG)KT_LOW_HANDLES;
    ULONG_PTR top = t->TableCode & ~(ULONG_PTR)LEVEL_CODE_MASK;
    if (level == 1) {
        for (ULONG j = lows; j < MIDLEVEL_COUNT; j++)
            if (!KtEnsure(Context, ((PVOID *)top)[j] == NULL, "table_shape", "after %s: entry %u of the mid-level table "
                         "is %p with %u low-level tables in use (expected NULL: a new mid-level table is all NULL)",
                         Step, j, ((PVOID *)top)[j], lows))
                return FALSE;
    } else if (level == 2) {
        ULONG mids = (lows + MIDLEVEL_COUNT - 1) / MIDLEVEL_COUNT;
        for (ULONG m = mids; m < HIGHLEVEL_COUNT; m++)
            if (!KtEnsure(Context, ((PVOID *)top)[m] == NULL, "table_shape", "after %s: entry %u of the top-level table "
                         "is %p with %u mid-level tables in use (expected NULL: a new top-level table is all NULL)",
                         Step, m, ((PVOID *)top)[m], mids))
                return FALSE;
        PVOID *last = ((PVOID **)top)[mids - 1];
        for (ULONG j = lows - (mids - 1) * MIDLEVEL_COUNT; last && j < MIDLEVEL_COUNT; j++)
            if (!KtEnsure(Context, last[j] == NULL, "table_shape", "after %s: entry %u of the last mid-level table is %p "
                         "(expected NULL: a new mid-level table is all NULL)", Step, j, last[j]))
                return FALSE;
    }
    for (ULONG v = 0; v < t->NextHandleNeedingPool; v += HANDLE_VALUE_INC) {
        PHANDLE_TABLE_ENTRY e = KtHandleEntry(t, v);
        ULONG i = v / HANDLE_VALUE_INC;
        if (!KtEnsure(Context, e != NULL, "table_shape", "after %s: handle 0x%x has no low-level table (TableCode %p)",
                     Step, v, (PVOID)t->TableCode))
            return FALSE;
        if (i % LOWLEVEL_COUNT == 0) {
            if (!KtEnsure(Context, e->ObAttributes == 0 && e->NextFreeTableEntry == 0, "index_zero_unused", "after %s: "
                         "entry 0 of low-level table %u (handle 0x%x) holds ObAttributes %p, NextFreeTableEntry 0x%x: "
                         "index 0 of each low-level table is never handed out and stays zero", Step,
                         i / (ULONG)LOWLEVEL_COUNT, v, (PVOID)e->ObAttributes, e->NextFreeTableEntry))
                return FALSE;
            continue;
        }
        ULONG_PTR want = i < KT_SHADOW_INDICES ? Shadow->ObAttributes[i] : 0;
        if (!KtEnsure(Context, e->ObAttributes == want, "entry_object", "after %s: handle 0x%x's entry holds %p, "
                     "expected %p (%s)", Step, v, (PVOID)e->ObAttributes, (PVOID)want,
                     want ? "the object header | attribute bits" : "0: a free entry"))
            return FALSE;
        if (want && !KtEnsure(Context, e->GrantedAccess == Shadow->Access[i], "entry_access", "after %s: handle 0x%x "
                             "has GrantedAccess 0x%x, expected 0x%x", Step, v, e->GrantedAccess, Shadow->Access[i]))
            return FALSE;
        if (!KtEnsure(Context, e->Spare == 0, "entry_spare", "after %s: handle 0x%x's entry has Spare 0x%x, expected 0 "
                     "(ExCreateHandle and ExDestroyHandle set it to 0)", Step, v, e->Spare))
            return FALSE;
    }
    /* The free list, from the head, exactly the shadow's (LIFO). */
    ULONG v = t->FirstFree;
    for (ULONG n = 0; n < Shadow->FreeCount; n++) {
        ULONG want = Shadow->Free[Shadow->FreeCount - 1 - n];
        if (!KtEnsure(Context, v == want, "free_list", "after %s: free list position %u is handle 0x%x, expected 0x%x "
                     "(freed entries go on the head and are reused first; a new low-level table's entries in order)",
                     Step, n, v, want))
            return FALSE;
        PHANDLE_TABLE_ENTRY e = KtHandleEntry(t, v);
        v = e->NextFreeTableEntry;
    }
    return KtEnsure(Context, v == 0, "free_list", "after %s: the free list goes on past its %u entries (to 0x%x); it "
                   "ends with 0", Step, Shadow->FreeCount, v);
}

/* ---- Directories ---- */
BOOLEAN KtAuditDirectory(PKTEST_CONTEXT Context, PCSTR Step, POBJECT_DIRECTORY Directory, PVOID *Expected,
                         ULONG Count)
{
    ULONG n = 0;
    for (ULONG b = 0; b < NUMBER_HASH_BUCKETS; b++) {
        ULONG guard = 0;
        for (POBJECT_DIRECTORY_ENTRY e = Directory->HashBuckets[b]; e; e = e->ChainLink) {
            if (!KtCheck(Context, ++guard < 4096, "directory_chain", "after %s: bucket %u's chain does not end", Step, b))
                return FALSE;
            POBJECT_HEADER h = OBJECT_TO_OBJECT_HEADER(e->Object);
            POBJECT_HEADER_NAME_INFO ni = OBJECT_HEADER_TO_NAME_INFO(h);
            if (!KtCheck(Context, h->Signature == OB_HEADER_SIGNATURE && ni, "directory_entry", "after %s: bucket %u "
                         "holds %p, not a live named object (signature 0x%x)", Step, b, e->Object, h->Signature))
                return FALSE;
            ULONG hash = ObpHashName(ni->Name.Buffer, ni->Name.Length);
            if (!KtCheck(Context, e->HashValue == hash && hash % NUMBER_HASH_BUCKETS == b, "directory_hash", "after %s: "
                         "'%.*s' is in bucket %u with HashValue 0x%x; expected HashValue 0x%x in bucket %u", Step,
                         (int)ni->Name.Length, ni->Name.Buffer, b, e->HashValue, hash, hash % NUMBER_HASH_BUCKETS) ||
                !KtCheck(Context, ni->Directory == Directory, "name_directory", "after %s: '%.*s' is in directory %p "
                         "but its name info says %p", Step, (int)ni->Name.Length, ni->Name.Buffer, Directory,
                         ni->Directory))
                return FALSE;
            n++;
        }
    }
    if (!KtCheck(Context, Directory->EntryCount == n, "entry_count", "after %s: EntryCount %u, entries %u", Step,
                 Directory->EntryCount, n))
        return FALSE;
    for (ULONG i = 0; i < Count; i++) {
        BOOLEAN found = FALSE;
        for (ULONG b = 0; b < NUMBER_HASH_BUCKETS && !found; b++)
            for (POBJECT_DIRECTORY_ENTRY e = Directory->HashBuckets[b]; e && !found; e = e->ChainLink)
                found = e->Object == Expected[i];
        if (!KtCheck(Context, found, "directory_member", "after %s: object %p is not in its directory", Step,
                     Expected[i]))
            return FALSE;
    }
    return TRUE;
}

PVOID KtFindByPath(PCSTR Path)
{
    PVOID cur = ObpRootDirectoryObject;
    PCSTR p = Path;
    if (!cur || *p != '\\')
        return NULL;
    p++;
    while (*p) {
        PCSTR end = p;
        while (*end && *end != '\\')
            end++;
        if (OBJECT_TO_OBJECT_HEADER(cur)->Type != ObpDirectoryObjectType)
            return NULL;
        POBJECT_DIRECTORY d = cur;
        PVOID next = NULL;
        for (ULONG b = 0; b < NUMBER_HASH_BUCKETS && !next; b++)
            for (POBJECT_DIRECTORY_ENTRY e = d->HashBuckets[b]; e && !next; e = e->ChainLink) {
                POBJECT_HEADER_NAME_INFO ni = OBJECT_HEADER_TO_NAME_INFO(OBJECT_TO_OBJECT_HEADER(e->Object));
                if (ni && ObpEqualNames(ni->Name.Buffer, ni->Name.Length, p, (ULONG)(end - p), FALSE))
                    next = e->Object;
            }
        if (!next)
            return NULL;
        cur = next;
        p = *end ? end + 1 : end;
    }
    return cur;
}

NTSTATUS KtLookup(PCSTR Path, ULONG Attributes, POBJECT_TYPE Type, PVOID *Object)
{
    STRING s;
    RtlInitString(&s, Path);
    *Object = (PVOID)0x1;
    return ObReferenceObjectByName(&s, Attributes, 0, Type, KernelMode, Object);
}
