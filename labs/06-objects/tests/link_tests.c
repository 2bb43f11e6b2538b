/* link_tests.c - lab 06 public tests of symbolic links, the parse method and object
 * lifetime in the namespace: \DosDevices leads to \??; a seeded chain of links is
 * followed (the last one too, unless OBJ_OPENLINK), a chain of exactly the reparse limit
 * resolves and one more fails, a loop fails with STATUS_REPARSE_POINT_NOT_RESOLVED; a
 * parse method gets the rest of the path, its STATUS_REPARSE restarts the lookup; a
 * temporary named object leaves the namespace with its last handle, a permanent one
 * outlives it until ObMakeTemporaryObject. */
#include "lab06_support.h"

#define KT_LINKS (OBJ_MAX_REPARSE_ATTEMPTS + 2)
static POBJECT_SYMBOLIC_LINK KtLinks[KT_LINKS];

/* A permanent link; removed again by KtRemovePermanent. */
static BOOLEAN KtMakeLink(PKTEST_CONTEXT Context, PCSTR Name, PCSTR Target, POBJECT_SYMBOLIC_LINK *Link)
{
    NTSTATUS status = ObpCreateSymbolicLink(Name, Target, 0, Link);
    return KtRequireImplemented(Context, status, "ObInsertObject", "lab 06") &&
           KtCheck(Context, status == STATUS_SUCCESS, "create_link", "creating the link %s -> %s returned 0x%08x", Name,
                   Target, (ULONG)status);
}

static VOID KtRemovePermanent(PVOID Object)
{
    if (!Object)
        return;
    ObReferenceObject(Object);
    ObMakeTemporaryObject(Object);
    ObDereferenceObject(Object);
}

KTEST_OB("name.links", KtTestNameLinks)
{
    if (!KtObSetup(Context))
        return;
    RtlZeroMemory(KtLinks, sizeof(KtLinks));
    PVOID target = NULL, obj;
    HANDLE th = NULL;
    ULONG tag = (ULONG)KtRandomRange(Context, 0, 0xFFFF);
    CHAR tname[OB_MAX_NAME], name[OB_MAX_NAME], next[OB_MAX_NAME];
    RtlFormatString(tname, sizeof(tname), "\\??\\KtTarget%x", tag);
    if (!KtObCreate(Context, KtObType, 300, tname, 0, &target))
        return;
    NTSTATUS status = ObInsertObject(target, 1, 0, &th);
    if (!KtRequireImplemented(Context, status, "ObInsertObject", "lab 06") ||
        !KtCheck(Context, status == STATUS_SUCCESS, "insert_named", "ObInsertObject(%s) returned 0x%08x", tname,
                 (ULONG)status))
        goto out;
    /* \DosDevices -> \?? */
    RtlFormatString(name, sizeof(name), "\\DosDevices\\KtTarget%x", tag);
    status = KtLookup(name, 0, KtObType, &obj);
    if (!KtCheck(Context, status == STATUS_SUCCESS && obj == target, "follow_link", "looking up %s (\\DosDevices is a "
                 "link to \\?""?, a directory) returned 0x%08x, %p; expected %p", name, (ULONG)status, obj, target))
        goto out;
    ObDereferenceObject(obj);
    /* A chain: link i -> link i+1 -> ... -> the target; exactly the limit resolves. */
    ULONG chain = OBJ_MAX_REPARSE_ATTEMPTS;
    for (ULONG i = chain; i-- > 0;) {
        RtlFormatString(name, sizeof(name), "\\??\\KtLink%x_%u", tag, i);
        if (i == chain - 1)
            RtlFormatString(next, sizeof(next), "%s", tname);
        else
            RtlFormatString(next, sizeof(next), "\\??\\KtLink%x_%u", tag, i + 1);
        if (!KtMakeLink(Context, name, next, &KtLinks[i]))
            goto out;
    }
    ULONG start = (ULONG)KtRandomRange(Context, 1, chain - 1);
    RtlFormatString(name, sizeof(name), "\\??\\KtLink%x_%u", tag, start);
    status = KtLookup(name, 0, KtObType, &obj);
    if (!KtCheck(Context, status == STATUS_SUCCESS && obj == target, "follow_chain", "a chain of %u links returned "
                 "0x%08x, %p; expected the target %p", chain - start, (ULONG)status, obj, target))
        goto out;
    ObDereferenceObject(obj);
    RtlFormatString(name, sizeof(name), "\\??\\KtLink%x_0", tag);
    status = KtLookup(name, OBJ_CASE_INSENSITIVE, KtObType, &obj);
    if (!KtCheck(Context, status == STATUS_SUCCESS && obj == target, "reparse_limit", "a chain of exactly "
                 "OBJ_MAX_REPARSE_ATTEMPTS (%u) links returned 0x%08x; it resolves", chain, (ULONG)status))
        goto out;
    ObDereferenceObject(obj);
    /* Through \DosDevices as well: one more link than the limit. */
    RtlFormatString(name, sizeof(name), "\\DosDevices\\KtLink%x_0", tag);
    status = KtLookup(name, 0, KtObType, &obj);
    if (!KtCheck(Context, status == STATUS_REPARSE_POINT_NOT_RESOLVED && obj == NULL, "reparse_limit", "a chain of %u "
                 "links (one past OBJ_MAX_REPARSE_ATTEMPTS) returned 0x%08x; expected STATUS_REPARSE_POINT_NOT_RESOLVED "
                 "(0xc0000280)", chain + 1, (ULONG)status))
        goto out;
    /* OBJ_OPENLINK: the link itself. */
    RtlFormatString(name, sizeof(name), "\\??\\KtLink%x_%u", tag, start);
    status = KtLookup(name, OBJ_OPENLINK, NULL, &obj);
    if (!KtCheck(Context, status == STATUS_SUCCESS && obj == KtLinks[start], "open_link", "looking up %s with "
                 "OBJ_OPENLINK returned 0x%08x, %p; expected the link %p", name, (ULONG)status, obj, KtLinks[start]))
        goto out;
    ObDereferenceObject(obj);
    /* A loop: two links that name each other; a link in the middle of a path. */
    CHAR a[OB_MAX_NAME], b[OB_MAX_NAME];
    RtlFormatString(a, sizeof(a), "\\??\\KtLoopA%x", tag);
    RtlFormatString(b, sizeof(b), "\\??\\KtLoopB%x", tag);
    if (!KtMakeLink(Context, a, b, &KtLinks[chain]) || !KtMakeLink(Context, b, a, &KtLinks[chain + 1]))
        goto out;
    status = KtLookup(KtRandomRange(Context, 0, 1) ? a : b, 0, NULL, &obj);
    if (!KtCheck(Context, status == STATUS_REPARSE_POINT_NOT_RESOLVED && obj == NULL, "link_loop", "a loop of two "
                 "links returned 0x%08x, %p; expected STATUS_REPARSE_POINT_NOT_RESOLVED", (ULONG)status, obj))
        goto out;
    RtlFormatString(name, sizeof(name), "\\DosDevices\\KtLoopA%x\\x", tag);
    status = KtLookup(name, 0, NULL, &obj);
    KtCheck(Context, status == STATUS_REPARSE_POINT_NOT_RESOLVED && obj == NULL, "link_loop", "a loop in the middle of "
            "a path returned 0x%08x, expected STATUS_REPARSE_POINT_NOT_RESOLVED", (ULONG)status);
out:
    for (ULONG i = 0; i < KT_LINKS; i++)
        KtRemovePermanent(KtLinks[i]);
    if (th)
        ObCloseHandle(th, UserMode);
    if (!KtObStubbed(Context)) {
        KtCheck(Context, KtFindByPath(tname) == NULL && KtObDeletesById[300] == 1, "temporary_leaves", "the target %s "
                "was deleted %u times after its last handle closed (once) and is %s in the namespace", tname,
                KtObDeletesById[300], KtFindByPath(tname) ? "still" : "not");
        RtlFormatString(name, sizeof(name), "\\??\\KtLink%x_0", tag);
        KtCheck(Context, KtFindByPath(name) == NULL, "make_temporary", "link %s is still in the namespace after "
                "ObMakeTemporaryObject with no handle open", name);
    }
}

/* A parse method gets the rest of the path; its STATUS_REPARSE restarts the lookup. */
KTEST_OB("name.parse", KtTestNameParse)
{
    if (!KtObSetup(Context))
        return;
    PVOID dev = NULL, result = NULL;
    HANDLE dh = NULL, rh = NULL;
    ULONG tag = (ULONG)KtRandomRange(Context, 0, 0xFFFF);
    CHAR dname[OB_MAX_NAME], rname[OB_MAX_NAME], path[128], rest[64];
    RtlFormatString(dname, sizeof(dname), "\\Device\\KtParse%x", tag);
    RtlFormatString(rname, sizeof(rname), "\\BaseNamedObjects\\KtParsed%x", tag);
    if (!KtObCreate(Context, KtParseType, 400, dname, 0, &dev))
        return;
    NTSTATUS status = ObInsertObject(dev, 1, 0, &dh);
    if (!KtRequireImplemented(Context, status, "ObInsertObject", "lab 06") ||
        !KtCheck(Context, status == STATUS_SUCCESS, "insert_named", "ObInsertObject(%s) returned 0x%08x", dname,
                 (ULONG)status))
        goto out;
    if (!KtObCreate(Context, KtObType, 401, rname, 0, &result))
        goto out;
    status = ObInsertObject(result, 1, 0, &rh);
    if (!KtCheck(Context, status == STATUS_SUCCESS, "insert_named", "ObInsertObject(%s) returned 0x%08x", rname,
                 (ULONG)status))
        goto out;
    RtlFormatString(rest, sizeof(rest), "dir%u\\file%u.txt", (ULONG)KtRandomRange(Context, 0, 99),
                    (ULONG)KtRandomRange(Context, 0, 99));
    RtlFormatString(path, sizeof(path), "%s\\%s", dname, rest);
    KtParseMode = 0;
    KtParseResult = result;
    KtObCalls.Parses = 0;
    PVOID obj;
    status = KtLookup(path, 0, NULL, &obj);
    if (!KtCheck(Context, status == STATUS_SUCCESS && obj == result, "parse", "looking up %s (the device's type has a "
                 "parse method) returned 0x%08x, %p; expected the object the parse method returned %p", path,
                 (ULONG)status, obj, result) ||
        !KtCheck(Context, KtObCalls.Parses == 1 && strcmp(KtParseRemaining, rest) == 0, "parse_remaining", "the parse "
                 "method ran %u times (once) with the remaining name '%s', expected '%s'", KtObCalls.Parses,
                 KtParseRemaining, rest))
        goto out;
    ObDereferenceObject(obj);
    /* The name of the parse object alone: no parse, the object itself. */
    status = KtLookup(dname, 0, NULL, &obj);
    if (!KtCheck(Context, status == STATUS_SUCCESS && obj == dev && KtObCalls.Parses == 1, "parse_last", "looking up "
                 "%s itself returned 0x%08x, %p (expected %p) after %u parse calls (expected none: nothing is left to "
                 "parse)", dname, (ULONG)status, obj, dev, KtObCalls.Parses - 1))
        goto out;
    ObDereferenceObject(obj);
    /* STATUS_REPARSE: the lookup restarts from the root with the new name. */
    KtParseMode = 1;
    KtParseTarget = rname;
    status = KtLookup(path, 0, NULL, &obj);
    if (!KtCheck(Context, status == STATUS_SUCCESS && obj == result && KtObCalls.Parses == 2, "parse_reparse",
                 "a parse method returning STATUS_REPARSE to %s: the lookup returned 0x%08x, %p; expected %p", rname,
                 (ULONG)status, obj, result))
        goto out;
    ObDereferenceObject(obj);
    /* A parse method that always reparses to itself: the reparse limit. */
    KtParseTarget = path;
    status = KtLookup(path, 0, NULL, &obj);
    KtCheck(Context, status == STATUS_REPARSE_POINT_NOT_RESOLVED && obj == NULL &&
            KtObCalls.Parses == 2 + OBJ_MAX_REPARSE_ATTEMPTS + 1, "parse_reparse_limit", "a parse method reparsing to "
            "the same name forever: status 0x%08x after %u parse calls; expected STATUS_REPARSE_POINT_NOT_RESOLVED "
            "after %u", (ULONG)status, KtObCalls.Parses - 2, OBJ_MAX_REPARSE_ATTEMPTS + 1);
out:
    KtParseMode = 0;
    KtParseResult = NULL;
    if (dh)
        ObCloseHandle(dh, UserMode);
    if (rh)
        ObCloseHandle(rh, UserMode);
}

/* Counts and lifetimes in the namespace: a pointer reference outlives the handles; a
 * temporary object's name goes with its last handle; a permanent one stays. */
KTEST_OB("name.lifetime", KtTestNameLifetime)
{
    if (!KtObSetup(Context))
        return;
    ULONG tag = (ULONG)KtRandomRange(Context, 0, 0xFFFF);
    CHAR tname[OB_MAX_NAME], pname[OB_MAX_NAME];
    RtlFormatString(tname, sizeof(tname), "\\BaseNamedObjects\\KtTemp%x", tag);
    RtlFormatString(pname, sizeof(pname), "\\BaseNamedObjects\\KtPerm%x", tag);
    PVOID t = NULL, p = NULL, obj;
    HANDLE th = NULL, ph = NULL;
    if (!KtObCreate(Context, KtObType, 500, tname, 0, &t))
        return;
    NTSTATUS status = ObInsertObject(t, 1, 0, &th);
    if (!KtRequireImplemented(Context, status, "ObInsertObject", "lab 06") ||
        !KtCheck(Context, status == STATUS_SUCCESS, "insert_named", "ObInsertObject(%s) returned 0x%08x", tname,
                 (ULONG)status) ||
        !KtObCheckCounts(Context, "inserting a temporary named object (a handle and the directory entry)", t, 2, 1))
        goto out;
    /* Hold a pointer reference, close the handle: the name goes, the object stays. */
    ObReferenceObject(t);
    status = ObCloseHandle(th, UserMode);
    th = NULL;
    if (!KtCheck(Context, status == STATUS_SUCCESS, "close", "ObCloseHandle returned 0x%08x", (ULONG)status) ||
        !KtCheck(Context, KtFindByPath(tname) == NULL, "temporary_leaves", "%s is still in the namespace after its "
                 "last handle closed (a temporary object's name goes with its last handle)", tname) ||
        !KtCheck(Context, KtObDeletesById[500] == 0, "delete_last", "the object was deleted while a pointer reference "
                 "was held") ||
        !KtObCheckCounts(Context, "the last handle of a temporary named object closed, one reference held", t, 1, 0) ||
        !KtCheck(Context, OBJECT_HEADER_TO_NAME_INFO(OBJECT_TO_OBJECT_HEADER(t))->Directory == NULL, "name_directory",
                 "%s left the namespace but its name info's Directory is still %p (expected NULL)", tname,
                 OBJECT_HEADER_TO_NAME_INFO(OBJECT_TO_OBJECT_HEADER(t))->Directory))
        goto out;
    status = KtLookup(tname, 0, NULL, &obj);
    if (!KtCheck(Context, status == STATUS_OBJECT_NAME_NOT_FOUND, "temporary_leaves", "looking up %s after its last "
                 "handle closed returned 0x%08x", tname, (ULONG)status))
        goto out;
    ObDereferenceObject(t);
    if (!KtCheck(Context, KtObDeletesById[500] == 1, "delete_on_last_reference", "after the last reference went the "
                 "delete method ran %u times, expected once", KtObDeletesById[500]))
        goto out;
    t = NULL;
    /* A permanent object outlives its last handle, until made temporary. */
    if (!KtObCreate(Context, KtObType, 501, pname, OBJ_PERMANENT, &p))
        goto out;
    status = ObInsertObject(p, 1, 0, &ph);
    if (!KtCheck(Context, status == STATUS_SUCCESS, "insert_named", "ObInsertObject(%s) returned 0x%08x", pname,
                 (ULONG)status))
        goto out;
    ObCloseHandle(ph, UserMode);
    ph = NULL;
    if (!KtCheck(Context, KtFindByPath(pname) == p && KtObDeletesById[501] == 0, "permanent_stays", "a permanent "
                 "object's last handle closed: it is %s in the namespace and was deleted %u times (it stays, undeleted)",
                 KtFindByPath(pname) ? "still" : "not", KtObDeletesById[501]) ||
        !KtObCheckCounts(Context, "the last handle of a permanent object closed", p, 1, 0))
        goto out;
    status = KtLookup(pname, 0, KtObType, &obj);
    if (!KtCheck(Context, status == STATUS_SUCCESS && obj == p, "permanent_stays", "looking up the permanent %s returned "
                 "0x%08x", pname, (ULONG)status))
        goto out;
    /* Made temporary while we hold a reference: the name goes at once (no handle). */
    ObMakeTemporaryObject(p);
    if (!KtCheck(Context, KtFindByPath(pname) == NULL && !(OBJECT_TO_OBJECT_HEADER(p)->Flags & OB_FLAG_PERMANENT),
                 "make_temporary", "after ObMakeTemporaryObject with no handle open, %s is %s in the namespace and "
                 "Flags is 0x%x", pname, KtFindByPath(pname) ? "still" : "not", OBJECT_TO_OBJECT_HEADER(p)->Flags) ||
        !KtCheck(Context, KtObDeletesById[501] == 0, "delete_last", "ObMakeTemporaryObject deleted an object the caller "
                 "still references") ||
        !KtObCheckCounts(Context, "ObMakeTemporaryObject", p, 1, 0))
        goto out;
    ObDereferenceObject(obj);
    KtCheck(Context, KtObDeletesById[501] == 1, "delete_on_last_reference", "after the last reference went the "
            "permanent-then-temporary object was deleted %u times, expected once", KtObDeletesById[501]);
    p = NULL;
    /* Made temporary while a handle is open: the name stays until that handle closes. */
    if (!KtObCreate(Context, KtObType, 502, pname, OBJ_PERMANENT, &p))
        goto out;
    status = ObInsertObject(p, 1, 0, &ph);
    if (!KtCheck(Context, status == STATUS_SUCCESS, "insert_named", "ObInsertObject(%s) returned 0x%08x", pname,
                 (ULONG)status))
        goto out;
    ObMakeTemporaryObject(p);
    if (!KtCheck(Context, KtFindByPath(pname) == p, "make_temporary", "ObMakeTemporaryObject with a handle open took "
                 "%s out of the namespace: the name goes only when no handle is left (ObpDeleteNameCheck: "
                 "HandleCount 0)", pname) ||
        !KtObCheckCounts(Context, "ObMakeTemporaryObject with a handle open", p, 2, 1))
        goto out;
    status = ObCloseHandle(ph, UserMode);
    ph = NULL;
    KtCheck(Context, status == STATUS_SUCCESS && KtFindByPath(pname) == NULL && KtObDeletesById[502] == 1,
            "temporary_leaves", "closing the last handle of the object made temporary: status 0x%08x, %s is %s in the "
            "namespace, deleted %u times (expected: gone, deleted once)", (ULONG)status, pname,
            KtFindByPath(pname) ? "still" : "not", KtObDeletesById[502]);
    p = NULL;
out:
    if (th)
        ObCloseHandle(th, UserMode);
    if (ph)
        ObCloseHandle(ph, UserMode);
}
