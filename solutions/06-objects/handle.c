/* handle.c - lab 06: the handle table, NT's three levels. A handle is an index times 4;
 * entries live in page-sized low-level tables, found through a mid-level table (level 1)
 * and a top-level table (level 2) added as the table grows. Free entries form a LIFO
 * list threaded through NextFreeTableEntry; index 0 of each low-level table is never
 * handed out. Lookup, insert and free cost the same however many handles are open. */
#include "ob.h"
#include "rtl.h"

#define LOW_TABLE_HANDLES (LOWLEVEL_COUNT * HANDLE_VALUE_INC)

/* The entry for handle value V (< NextHandleNeedingPool, tag bits clear). */
static PHANDLE_TABLE_ENTRY ExpLookupEntry(PHANDLE_TABLE Table, ULONG_PTR V)
{
    ULONG_PTR i = V / HANDLE_VALUE_INC;
    ULONG_PTR top = Table->TableCode & ~(ULONG_PTR)LEVEL_CODE_MASK;
    switch (Table->TableCode & LEVEL_CODE_MASK) {
    case 0:
        return &((PHANDLE_TABLE_ENTRY)top)[i];
    case 1:
        return &((PHANDLE_TABLE_ENTRY *)top)[i / LOWLEVEL_COUNT][i % LOWLEVEL_COUNT];
    default: {
        PHANDLE_TABLE_ENTRY *mid = ((PHANDLE_TABLE_ENTRY **)top)[i / (LOWLEVEL_COUNT * MIDLEVEL_COUNT)];
        return &mid[(i / LOWLEVEL_COUNT) % MIDLEVEL_COUNT][i % LOWLEVEL_COUNT];
    }
    }
}

/* A new low-level table whose entries 1..LOWLEVEL_COUNT-1 are free, chained in order
 * from handle Base + 4 and ending in Next; entry 0 all zero. */
static PHANDLE_TABLE_ENTRY ExpAllocateLowLevelTable(ULONG Base, ULONG Next)
{
    PHANDLE_TABLE_ENTRY t = ExAllocatePoolWithTag(NonPagedPool, PAGE_SIZE, HANDLE_TABLE_TAG);
    if (!t)
        return NULL;
    RtlZeroMemory(&t[0], sizeof(t[0]));
    for (ULONG k = 1; k < LOWLEVEL_COUNT; k++) {
        t[k].ObAttributes = 0;
        t[k].NextFreeTableEntry = (k + 1 < LOWLEVEL_COUNT) ? Base + (k + 1) * HANDLE_VALUE_INC : Next;
        t[k].Spare = 0;
    }
    return t;
}

static PVOID ExpAllocatePointerTable(VOID)
{
    PVOID t = ExAllocatePoolWithTag(NonPagedPool, PAGE_SIZE, HANDLE_TABLE_TAG);
    if (t)
        RtlZeroMemory(t, PAGE_SIZE);
    return t;
}

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
    PHANDLE_TABLE table = ExAllocatePoolWithTag(NonPagedPool, sizeof(HANDLE_TABLE), HANDLE_TABLE_TAG);
    if (!table)
        return NULL;
    PHANDLE_TABLE_ENTRY low = ExpAllocateLowLevelTable(0, 0);
    if (!low) {
        ExFreePoolWithTag(table, HANDLE_TABLE_TAG);
        return NULL;
    }
    table->TableCode = (ULONG_PTR)low;
    table->QuotaProcess = Process;
    table->HandleCount = 0;
    table->NextHandleNeedingPool = LOW_TABLE_HANDLES;
    table->FirstFree = HANDLE_VALUE_INC;
    table->Spare = 0;
    table->Lock = 0;
    return table;
}

/*
 * ExDestroyHandleTable - free every page of the table (low-level, mid-level and top-level
 * tables) and the HANDLE_TABLE itself. IRQL <= APC_LEVEL. The entries' objects are not
 * touched: the caller closed the handles first.
 */
VOID ExDestroyHandleTable(PHANDLE_TABLE HandleTable)
{
    ULONG_PTR top = HandleTable->TableCode & ~(ULONG_PTR)LEVEL_CODE_MASK;
    ULONG lows = HandleTable->NextHandleNeedingPool / LOW_TABLE_HANDLES;
    switch (HandleTable->TableCode & LEVEL_CODE_MASK) {
    case 0:
        ExFreePoolWithTag((PVOID)top, HANDLE_TABLE_TAG);
        break;
    case 1:
        for (ULONG j = 0; j < lows; j++)
            ExFreePoolWithTag(((PVOID *)top)[j], HANDLE_TABLE_TAG);
        ExFreePoolWithTag((PVOID)top, HANDLE_TABLE_TAG);
        break;
    default: {
        PVOID **tops = (PVOID **)top;
        for (ULONG j = 0; j < lows; j++)
            ExFreePoolWithTag(tops[j / MIDLEVEL_COUNT][j % MIDLEVEL_COUNT], HANDLE_TABLE_TAG);
        for (ULONG m = 0; m * MIDLEVEL_COUNT < lows; m++)
            ExFreePoolWithTag(tops[m], HANDLE_TABLE_TAG);
        ExFreePoolWithTag((PVOID)top, HANDLE_TABLE_TAG);
    }
    }
    ExFreePoolWithTag(HandleTable, HANDLE_TABLE_TAG);
}

/* Adds one low-level table at NextHandleNeedingPool, adding a level first when the
 * current one is full. Everything or nothing. */
static BOOLEAN ExpGrowHandleTable(PHANDLE_TABLE Table)
{
    ULONG base = Table->NextHandleNeedingPool;
    ULONG j = base / LOW_TABLE_HANDLES; /* the new low-level table's number */
    if ((ULONG64)j >= (ULONG64)MIDLEVEL_COUNT * HIGHLEVEL_COUNT)
        return FALSE;
    ULONG_PTR top = Table->TableCode & ~(ULONG_PTR)LEVEL_CODE_MASK;
    ULONG level = Table->TableCode & LEVEL_CODE_MASK;
    PHANDLE_TABLE_ENTRY low = ExpAllocateLowLevelTable(base, Table->FirstFree);
    if (!low)
        return FALSE;
    if (level == 0) {
        PVOID *mid = ExpAllocatePointerTable();
        if (!mid)
            goto fail;
        mid[0] = (PVOID)top;
        mid[1] = low;
        Table->TableCode = (ULONG_PTR)mid | 1;
    } else if (level == 1 && j < MIDLEVEL_COUNT) {
        ((PVOID *)top)[j] = low;
    } else if (level == 1) {
        PVOID **high = ExpAllocatePointerTable();
        PVOID *mid = ExpAllocatePointerTable();
        if (!high || !mid) {
            if (high)
                ExFreePoolWithTag(high, HANDLE_TABLE_TAG);
            if (mid)
                ExFreePoolWithTag(mid, HANDLE_TABLE_TAG);
            goto fail;
        }
        high[0] = (PVOID *)top;
        high[1] = mid;
        mid[0] = low;
        Table->TableCode = (ULONG_PTR)high | 2;
    } else {
        PVOID **high = (PVOID **)top;
        if (j % MIDLEVEL_COUNT == 0) {
            PVOID *mid = ExpAllocatePointerTable();
            if (!mid)
                goto fail;
            high[j / MIDLEVEL_COUNT] = mid;
        }
        high[j / MIDLEVEL_COUNT][j % MIDLEVEL_COUNT] = low;
    }
    Table->NextHandleNeedingPool = base + LOW_TABLE_HANDLES;
    Table->FirstFree = base + HANDLE_VALUE_INC;
    return TRUE;
fail:
    ExFreePoolWithTag(low, HANDLE_TABLE_TAG);
    return FALSE;
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
    if (HandleTable->FirstFree == 0 && !ExpGrowHandleTable(HandleTable))
        return NULL;
    ULONG v = HandleTable->FirstFree;
    PHANDLE_TABLE_ENTRY e = ExpLookupEntry(HandleTable, v);
    HandleTable->FirstFree = e->NextFreeTableEntry;
    e->ObAttributes = HandleTableEntry->ObAttributes;
    e->GrantedAccess = HandleTableEntry->GrantedAccess;
    e->Spare = 0;
    HandleTable->HandleCount++;
    return (HANDLE)(ULONG_PTR)v;
}

/*
 * ExMapHandleToPointer - the entry Handle names, or NULL. Any IRQL <= DISPATCH_LEVEL.
 * The two low bits of Handle are tag bits and are ignored. NULL for a handle value of 0,
 * at or past NextHandleNeedingPool, at index 0 of a low-level table, or naming a free
 * entry (ObAttributes 0). Changes nothing.
 */
PHANDLE_TABLE_ENTRY ExMapHandleToPointer(PHANDLE_TABLE HandleTable, HANDLE Handle)
{
    ULONG_PTR v = (ULONG_PTR)Handle & ~(ULONG_PTR)(HANDLE_VALUE_INC - 1);
    if (v == 0 || v >= HandleTable->NextHandleNeedingPool || (v / HANDLE_VALUE_INC) % LOWLEVEL_COUNT == 0)
        return NULL;
    PHANDLE_TABLE_ENTRY e = ExpLookupEntry(HandleTable, v);
    return e->ObAttributes ? e : NULL;
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
    PHANDLE_TABLE_ENTRY e = ExMapHandleToPointer(HandleTable, Handle);
    if (!e || (HandleTableEntry && HandleTableEntry != e))
        return FALSE;
    ULONG v = (ULONG)((ULONG_PTR)Handle & ~(ULONG_PTR)(HANDLE_VALUE_INC - 1));
    e->ObAttributes = 0;
    e->NextFreeTableEntry = HandleTable->FirstFree;
    e->Spare = 0;
    HandleTable->FirstFree = v;
    HandleTable->HandleCount--;
    return TRUE;
}
