/* handle.c - lab 06: the handle table, NT's three levels. A handle is an index times 4;
 * entries live in page-sized low-level tables, found through a mid-level table (level 1)
 * and a top-level table (level 2) added as the table grows. Free entries form a LIFO
 * list threaded through NextFreeTableEntry; index 0 of each low-level table is never
 * handed out. Lookup, insert and free cost the same however many handles are open. */
#include "ob.h"
#include "rtl.h"

/*
 * ExCreateHandleTable - a new handle table owned by Process (may be NULL).
 * Contract: IRQL <= APC_LEVEL. The HANDLE_TABLE (nonpaged, HANDLE_TABLE_TAG) gets level 0:
 * TableCode is one low-level table (a page, HANDLE_TABLE_TAG) whose entry 0 is all zero
 * and whose entries 1..LOWLEVEL_COUNT-1 are free, chained in order (NextFreeTableEntry =
 * the next handle value, the last 0); FirstFree = 4, NextHandleNeedingPool =
 * LOWLEVEL_COUNT * 4, HandleCount 0, QuotaProcess = Process, Spare and Lock 0. NULL (and
 * nothing allocated) when the pool is empty.
 */
PHANDLE_TABLE ExCreateHandleTable(struct _EPROCESS *Process)
{
    /* LAB 06: ExCreateHandleTable - see the contract above. */
    UNREFERENCED_PARAMETER(Process);
    KeNotImplemented("ExCreateHandleTable", "lab 06");
    return NULL;
}

/*
 * ExDestroyHandleTable - free every page of the table (low-level, mid-level and top-level
 * tables) and the HANDLE_TABLE itself. IRQL <= APC_LEVEL. The entries' objects are not
 * touched: the caller closed the handles first.
 */
VOID ExDestroyHandleTable(PHANDLE_TABLE HandleTable)
{
    /* LAB 06: ExDestroyHandleTable - see the contract above. */
    UNREFERENCED_PARAMETER(HandleTable);
    KeNotImplemented("ExDestroyHandleTable", "lab 06");
}

/*
 * ExCreateHandle - take a free entry, copy HandleTableEntry into it (ObAttributes and
 * GrantedAccess; Spare 0) and return its handle value. Contract: IRQL <= APC_LEVEL. The
 * entry is the head of the free list (FirstFree; the most recently freed handle comes
 * back first). With the free list empty the table grows by one low-level table at
 * NextHandleNeedingPool (its entries 1..LOWLEVEL_COUNT-1 chained in order onto the free
 * list, NextHandleNeedingPool += LOWLEVEL_COUNT * 4): from level 0 to 1 a mid-level table
 * takes the old low-level table as its entry 0; from level 1 to 2 (the mid-level table
 * full) a top-level table takes the old mid-level table as its entry 0 and a new
 * mid-level table as entry 1; at level 2 a new mid-level table is added when needed.
 * Existing handles stay valid. HandleCount grows by 1. NULL (the table unchanged) when
 * the pool is empty or the table holds MAX_HANDLE_INDEX entries.
 */
HANDLE ExCreateHandle(PHANDLE_TABLE HandleTable, PHANDLE_TABLE_ENTRY HandleTableEntry)
{
    /* LAB 06: ExCreateHandle - see the contract above. */
    UNREFERENCED_PARAMETER(HandleTable);
    UNREFERENCED_PARAMETER(HandleTableEntry);
    KeNotImplemented("ExCreateHandle", "lab 06");
    return NULL;
}

/*
 * ExMapHandleToPointer - the entry Handle names, or NULL. Any IRQL <= DISPATCH_LEVEL.
 * The two low bits of Handle are tag bits and are ignored. NULL for a handle value of 0,
 * at or past NextHandleNeedingPool, at index 0 of a low-level table, or naming a free
 * entry (ObAttributes 0). Changes nothing.
 */
PHANDLE_TABLE_ENTRY ExMapHandleToPointer(PHANDLE_TABLE HandleTable, HANDLE Handle)
{
    /* LAB 06: ExMapHandleToPointer - see the contract above. */
    UNREFERENCED_PARAMETER(HandleTable);
    UNREFERENCED_PARAMETER(Handle);
    KeNotImplemented("ExMapHandleToPointer", "lab 06");
    return NULL;
}

/*
 * ExDestroyHandle - free Handle's entry. Contract: IRQL <= APC_LEVEL. HandleTableEntry is
 * the entry (from ExMapHandleToPointer) or NULL to look it up. The entry becomes free
 * (ObAttributes 0, Spare 0) and the new head of the free list (NextFreeTableEntry = the old
 * FirstFree, FirstFree = the handle value without tag bits); HandleCount drops by 1; the
 * table never shrinks. FALSE (nothing changed) if Handle names no entry in use.
 */
BOOLEAN ExDestroyHandle(PHANDLE_TABLE HandleTable, HANDLE Handle, PHANDLE_TABLE_ENTRY HandleTableEntry)
{
    /* LAB 06: ExDestroyHandle - see the contract above. */
    UNREFERENCED_PARAMETER(HandleTable);
    UNREFERENCED_PARAMETER(Handle);
    UNREFERENCED_PARAMETER(HandleTableEntry);
    KeNotImplemented("ExDestroyHandle", "lab 06");
    return FALSE;
}
