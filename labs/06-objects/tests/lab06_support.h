/* lab06_support.h - what lab 06's tests share: setting up the namespace, a test object
 * type whose methods log every call, header and count checks, and whole-table auditors
 * for handle tables (every entry of every low-level table, the free list in order, the
 * counts) and directories (every bucket and entry). Framework test code: it walks the
 * structures itself and never calls student code to judge student code. */
#pragma once

#include "bugcodes.h"
#include "ktest.h"
#include "ps.h"
#include "rtl.h"

#define KT_LAB06_BUDGET_MS 20000

/* The namespace and the system process (lab 06's routines): FALSE, with the failing
 * check "implemented", while lab 06 is a stub. Also creates the test types once. */
BOOLEAN KtObSetup(PKTEST_CONTEXT Context);
/* The end of every lab 06 test (KTEST_OB): the namespace and the system process are
 * freed by the framework (ObpResetObjectManager), and - if the test passed so far -
 * nothing tagged by the object manager or the test types may be left in the pool
 * (check "nothing_leaked": every object deleted, every table page and directory entry
 * freed). */
VOID KtObTeardown(PKTEST_CONTEXT Context);
#define KTEST_OB(name, routine)                                                            \
    static VOID routine##Body(PKTEST_CONTEXT Context);                                     \
    KTEST(name, routine)                                                                   \
    {                                                                                      \
        routine##Body(Context);                                                            \
        KtObTeardown(Context);                                                             \
    }                                                                                      \
    static VOID routine##Body(PKTEST_CONTEXT Context)
/* TRUE if a lab 06 stub reported itself during the test. */
BOOLEAN KtObStubbed(PKTEST_CONTEXT Context);

/* ---- The test types: "KtObject" (open, close, delete methods) and "KtParse" (a parse
 * method), each body a KT_OB_BODY. ---- */
#define KT_OB_MAGIC 0x4B744F62
#define KT_OB_MAX_IDS 1024
typedef struct {
    ULONG Magic;
    ULONG Id;
} KT_OB_BODY, *PKT_OB_BODY;
extern POBJECT_TYPE KtObType, KtParseType;
typedef struct {
    ULONG Opens, Closes, Deletes, Parses;
    OB_OPEN_REASON LastReason;
    ULONG LastOpenCount, LastCloseCount;     /* the HandleCount argument */
    LONG_PTR HandleCountAtOpen;              /* the header's HandleCount seen inside the method */
    LONG_PTR HandleCountAtClose;
    PEPROCESS LastProcess;
    ACCESS_MASK LastAccess;
    NTSTATUS OpenStatus;                     /* what the open method returns (STATUS_SUCCESS) */
    BOOLEAN DeleteSawSignature;              /* the header still valid inside the delete method */
} KT_OB_CALLS;
extern KT_OB_CALLS KtObCalls;
extern ULONG KtObDeletesById[KT_OB_MAX_IDS];
VOID KtObResetCalls(VOID);

/* Parse method behaviour for KtParseType. */
extern ULONG KtParseMode;          /* 0: return KtParseResult referenced; 1: STATUS_REPARSE to KtParseTarget */
extern PVOID KtParseResult;
extern PCSTR KtParseTarget;
extern CHAR KtParseRemaining[128]; /* the RemainingName of the last call */

/* ObCreateObject of a KtObType (or Type) object with Id and optional Name/Attributes,
 * checked field by field on the poisoned pool: FALSE (failed check) if anything is wrong. */
BOOLEAN KtObCreate(PKTEST_CONTEXT Context, POBJECT_TYPE Type, ULONG Id, PCSTR Name, ULONG Attributes, PVOID *Body);
/* The object's PointerCount and HandleCount are the expected ones (and PointerCount >=
 * HandleCount). */
BOOLEAN KtObCheckCounts(PKTEST_CONTEXT Context, PCSTR Step, PVOID Body, LONG_PTR Pointers, LONG_PTR Handles);
/* The allocations outstanding under Tag (all pool types), from the pool's tag table. */
LONG KtPoolOutstanding(ULONG Tag);

/* ---- Handle table shadow: what the contract says the table holds ---- */
#define KT_SHADOW_INDICES 4096
typedef struct {
    PHANDLE_TABLE Table;
    ULONG_PTR ObAttributes[KT_SHADOW_INDICES]; /* by index; 0 free */
    ACCESS_MASK Access[KT_SHADOW_INDICES];
    ULONG Free[KT_SHADOW_INDICES];              /* the free list, Free[FreeCount-1] the head */
    ULONG FreeCount;
    ULONG NextHandleNeedingPool;
    LONG HandleCount;
} KT_TABLE_SHADOW, *PKT_TABLE_SHADOW;
/* A fresh table's shadow (one low-level table). */
VOID KtShadowInit(PKT_TABLE_SHADOW Shadow, PHANDLE_TABLE Table);
/* The handle value the next create must return (grows the shadow if the list is empty). */
ULONG KtShadowCreate(PKT_TABLE_SHADOW Shadow, ULONG_PTR ObAttributes, ACCESS_MASK Access);
VOID KtShadowFree(PKT_TABLE_SHADOW Shadow, ULONG Value);
/* The whole table against the shadow: level and TableCode shape, every entry of every
 * low-level table (index 0 all zero, in-use entries, free entries), the free list in
 * order, FirstFree, NextHandleNeedingPool, HandleCount. */
BOOLEAN KtAuditHandleTable(PKTEST_CONTEXT Context, PCSTR Step, PKT_TABLE_SHADOW Shadow);
/* The entry for a handle value, walked by the test's own hands (NULL past the end). */
PHANDLE_TABLE_ENTRY KtHandleEntry(PHANDLE_TABLE Table, ULONG Value);
/* The level TableCode must have for NextHandleNeedingPool. */
ULONG KtExpectedLevel(ULONG NextHandleNeedingPool);

/* ---- Directories ---- */
/* Every bucket's chain: each entry's HashValue = ObpHashName(its object's name) and in
 * the right bucket, the object's name info Directory == Directory, EntryCount = entries;
 * Expected[0..Count) are all present (by object). */
BOOLEAN KtAuditDirectory(PKTEST_CONTEXT Context, PCSTR Step, POBJECT_DIRECTORY Directory, PVOID *Expected,
                         ULONG Count);
/* The object Path names, by the test's own walk (directories only, no links), or NULL. */
PVOID KtFindByPath(PCSTR Path);

/* A kernel-mode reference by name (ObReferenceObjectByName), status checked. */
NTSTATUS KtLookup(PCSTR Path, ULONG Attributes, POBJECT_TYPE Type, PVOID *Object);
