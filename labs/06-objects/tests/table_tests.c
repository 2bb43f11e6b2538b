/* table_tests.c - lab 06 public tests of the handle table itself (ExCreateHandleTable,
 * ExCreateHandle, ExMapHandleToPointer, ExDestroyHandle): handle values are multiples of
 * 4 from 4, index 0 of every low-level table is never handed out, tag bits are ignored,
 * freed slots are reused last-in first-out, the table grows past one and two levels with
 * every earlier handle still valid; a whole-table audit after every step. */
#include "lab06_support.h"

static KT_TABLE_SHADOW KtShadow;
#define KT_FAKE(i) ((ULONG_PTR)0xFFFF900000000000ULL | ((ULONG_PTR)(i) << 4))

static BOOLEAN KtRawCreate(PKTEST_CONTEXT Context, PKT_TABLE_SHADOW Shadow, ULONG Tag, PCSTR Step)
{
    HANDLE_TABLE_ENTRY e;
    e.ObAttributes = KT_FAKE(Tag) | (Tag & 1 ? OBJ_HANDLE_INHERIT : 0);
    e.GrantedAccess = 0x10000 | Tag;
    e.Spare = 0x5A5A;
    ULONG want = KtShadowCreate(Shadow, e.ObAttributes, e.GrantedAccess);
    HANDLE h = ExCreateHandle(Shadow->Table, &e);
    if (KtObStubbed(Context))
        return FALSE;
    return KtCheck(Context, (ULONG_PTR)h == want, "handle_value", "%s: ExCreateHandle returned 0x%llx, expected 0x%x "
                   "(the head of the free list; multiples of 4 from 4, index 0 of each low-level table skipped, the "
                   "last freed handle reused first)", Step, (ULONG64)(ULONG_PTR)h, want);
}

KTEST_OB("handle.table", KtTestHandleTable)
{
    KtSetBudget(Context, KT_LAB06_BUDGET_MS);
    LONG tagBefore = KtPoolOutstanding(HANDLE_TABLE_TAG);
    PEPROCESS owner = (PEPROCESS)(ULONG_PTR)(0xFFFF880000001000ULL + KtRandomRange(Context, 0, 255) * 16);
    PHANDLE_TABLE t = ExCreateHandleTable(owner);
    if (KtObStubbed(Context))
        return;
    if (!KtCheck(Context, t != NULL, "create_table", "ExCreateHandleTable returned NULL"))
        return;
    if (!KtCheck(Context, t->QuotaProcess == owner && t->HandleCount == 0 && t->FirstFree == HANDLE_VALUE_INC &&
                 t->NextHandleNeedingPool == LOWLEVEL_COUNT * HANDLE_VALUE_INC && (t->TableCode & LEVEL_CODE_MASK) == 0,
                 "create_table", "a new table: QuotaProcess %p (%p), HandleCount %d (0), FirstFree 0x%x (0x4), "
                 "NextHandleNeedingPool 0x%x (0x%x), level %u (0)", t->QuotaProcess, owner, t->HandleCount, t->FirstFree,
                 t->NextHandleNeedingPool, (ULONG)(LOWLEVEL_COUNT * HANDLE_VALUE_INC),
                 (ULONG)(t->TableCode & LEVEL_CODE_MASK)))
        goto out;
    KtShadowInit(&KtShadow, t);
    if (!KtAuditHandleTable(Context, "ExCreateHandleTable", &KtShadow))
        goto out;
    /* Level 0: exactly NextHandleNeedingPool (one past the low-level table) maps to nothing. */
    for (ULONG tag = 0; tag < 4; tag += 3) {
        PHANDLE_TABLE_ENTRY e = ExMapHandleToPointer(t, (HANDLE)(ULONG_PTR)(t->NextHandleNeedingPool | tag));
        if (!KtCheck(Context, e == NULL, "map_invalid", "ExMapHandleToPointer(0x%x) of a new table returned %p, "
                     "expected NULL (at or past NextHandleNeedingPool 0x%x: past the table)",
                     t->NextHandleNeedingPool | tag, e, t->NextHandleNeedingPool))
            goto out;
    }
    /* Fill the first low-level table and go a seeded way into the second and third. */
    ULONG n = LOWLEVEL_COUNT - 1 + (ULONG)KtRandomRange(Context, 1, 2 * LOWLEVEL_COUNT);
    ULONG handles[3 * LOWLEVEL_COUNT];
    for (ULONG i = 0; i < n; i++) {
        CHAR step[64];
        RtlFormatString(step, sizeof(step), "create #%u", i);
        if (!KtRawCreate(Context, &KtShadow, i, step) || !KtAuditHandleTable(Context, step, &KtShadow))
            goto out;
        handles[i] = KtShadow.Free[KtShadow.FreeCount]; /* the value just popped */
    }
    /* Lookups: the first, a middle and the last handle; tag bits ignored; the edges NULL. */
    ULONG probe[3] = {handles[0], handles[n / 2], handles[n - 1]};
    for (ULONG k = 0; k < 3; k++)
        for (ULONG tag = 0; tag < 4; tag++) {
            PHANDLE_TABLE_ENTRY e = ExMapHandleToPointer(t, (HANDLE)(ULONG_PTR)(probe[k] | tag));
            if (!KtCheck(Context, e == KtHandleEntry(t, probe[k]), "map_handle", "ExMapHandleToPointer(0x%x) returned "
                         "%p, expected the entry %p%s", probe[k] | tag, e, KtHandleEntry(t, probe[k]),
                         tag ? " (the two low bits are tag bits, ignored)" : ""))
                goto out;
        }
    ULONG bad[] = {0, 1, 2, 3, LOWLEVEL_COUNT * HANDLE_VALUE_INC, LOWLEVEL_COUNT * HANDLE_VALUE_INC + 2,
                   t->NextHandleNeedingPool, t->NextHandleNeedingPool + 4, 0x7FFFFFFC,
                   KtShadow.FreeCount ? KtShadow.Free[KtShadow.FreeCount - 1] : 0};
    for (ULONG k = 0; k < ARRAYSIZE(bad); k++) {
        PHANDLE_TABLE_ENTRY e = ExMapHandleToPointer(t, (HANDLE)(ULONG_PTR)bad[k]);
        if (!KtCheck(Context, e == NULL, "map_invalid", "ExMapHandleToPointer(0x%x) returned %p, expected NULL (%s)",
                     bad[k], e, bad[k] < 4 ? "handle 0" : bad[k] >= t->NextHandleNeedingPool ? "past the table" :
                     (bad[k] / 4) % LOWLEVEL_COUNT == 0 ? "index 0 of a low-level table" : "a free entry"))
            goto out;
    }
    /* Free the first, a middle, the last and seeded others (one through its tag bits);
     * each freed handle is invalid, a second free fails, and creates reuse them LIFO. */
    ULONG frees = (ULONG)KtRandomRange(Context, 4, 24);
    for (ULONG k = 0; k < frees; k++) {
        ULONG i = k == 0 ? 0 : k == 1 ? n - 1 : k == 2 ? n / 2 : (ULONG)KtRandomRange(Context, 0, n - 1);
        if (!handles[i])
            continue;
        ULONG v = handles[i];
        HANDLE arg = (HANDLE)(ULONG_PTR)(v | (k == 3 ? 3 : 0));
        BOOLEAN r = ExDestroyHandle(t, arg, k & 1 ? NULL : KtHandleEntry(t, v));
        KtShadowFree(&KtShadow, v);
        handles[i] = 0;
        CHAR step[64];
        RtlFormatString(step, sizeof(step), "ExDestroyHandle(0x%llx)", (ULONG64)(ULONG_PTR)arg);
        if (!KtCheck(Context, r, "destroy_handle", "%s returned FALSE for a handle in use", step) ||
            !KtAuditHandleTable(Context, step, &KtShadow) ||
            !KtCheck(Context, ExMapHandleToPointer(t, (HANDLE)(ULONG_PTR)v) == NULL, "closed_invalid", "a freed handle "
                     "0x%x still maps to an entry", v) ||
            !KtCheck(Context, !ExDestroyHandle(t, (HANDLE)(ULONG_PTR)v, NULL), "destroy_twice", "a second "
                     "ExDestroyHandle(0x%x) returned TRUE", v) ||
            !KtAuditHandleTable(Context, "a second ExDestroyHandle (nothing changes)", &KtShadow))
            goto out;
    }
    ULONG again = (ULONG)KtRandomRange(Context, 1, frees);
    for (ULONG k = 0; k < again; k++)
        if (!KtRawCreate(Context, &KtShadow, 1000 + k, "reusing freed slots") ||
            !KtAuditHandleTable(Context, "reusing freed slots", &KtShadow))
            goto out;
    KtValue(Context, "next_handle_needing_pool", "0x%x", t->NextHandleNeedingPool);
out:
    if (t)
        ExDestroyHandleTable(t);
    if (!KtObStubbed(Context))
        KtCheck(Context, KtPoolOutstanding(HANDLE_TABLE_TAG) == tagBefore, "table_freed", "after ExDestroyHandleTable "
                "%d blocks tagged Obtt are still allocated, expected %d", KtPoolOutstanding(HANDLE_TABLE_TAG), tagBefore);
}

/* The n-th handle (from 0) of a table that never freed one. */
static ULONG KtDenseHandle(ULONG n)
{
    return ((n / (LOWLEVEL_COUNT - 1)) * LOWLEVEL_COUNT + n % (LOWLEVEL_COUNT - 1) + 1) * HANDLE_VALUE_INC;
}

/* Every entry of a table holding exactly the first Used dense handles (entry i: KT_FAKE(i)). */
static BOOLEAN KtAuditDense(PKTEST_CONTEXT Context, PCSTR Step, PHANDLE_TABLE t, ULONG Used)
{
    ULONG lows = (Used + LOWLEVEL_COUNT - 2) / (LOWLEVEL_COUNT - 1);
    if (!KtCheck(Context, t->NextHandleNeedingPool == lows * LOWLEVEL_COUNT * HANDLE_VALUE_INC, "table_grows_on_demand",
                 "%s: NextHandleNeedingPool 0x%x, expected 0x%x", Step, t->NextHandleNeedingPool,
                 (ULONG)(lows * LOWLEVEL_COUNT * HANDLE_VALUE_INC)) ||
        !KtCheck(Context, (t->TableCode & LEVEL_CODE_MASK) == KtExpectedLevel(t->NextHandleNeedingPool), "table_level",
                 "%s: level %u with %u low-level tables, expected %u", Step, (ULONG)(t->TableCode & LEVEL_CODE_MASK),
                 lows, KtExpectedLevel(t->NextHandleNeedingPool)) ||
        !KtCheck(Context, t->HandleCount == (LONG)Used, "handle_count", "%s: HandleCount %d, expected %u", Step,
                 t->HandleCount, Used))
        return FALSE;
    ULONG n = 0;
    for (ULONG v = 0; v < t->NextHandleNeedingPool; v += HANDLE_VALUE_INC) {
        PHANDLE_TABLE_ENTRY e = KtHandleEntry(t, v);
        if (!KtCheck(Context, e != NULL, "table_shape", "%s: handle 0x%x has no low-level table (level %u)", Step, v,
                     (ULONG)(t->TableCode & LEVEL_CODE_MASK)))
            return FALSE;
        if ((v / HANDLE_VALUE_INC) % LOWLEVEL_COUNT == 0) {
            if (!KtCheck(Context, e->ObAttributes == 0 && e->NextFreeTableEntry == 0, "index_zero_unused", "%s: entry 0 "
                         "of low-level table %u is not zero", Step, v / (ULONG)(LOWLEVEL_COUNT * HANDLE_VALUE_INC)))
                return FALSE;
            continue;
        }
        ULONG_PTR want = n < Used ? (KT_FAKE(n) | (n & 1 ? OBJ_HANDLE_INHERIT : 0)) : 0;
        if (!KtCheck(Context, e->ObAttributes == want && (!want || e->GrantedAccess == (0x10000 | n)), "entry_object",
                     "%s: handle 0x%x holds %p / access 0x%x, expected %p / 0x%x", Step, v, (PVOID)e->ObAttributes,
                     e->GrantedAccess, (PVOID)want, 0x10000 | n))
            return FALSE;
        if (n >= Used && !KtCheck(Context, t->FirstFree == (n == Used ? v : t->FirstFree), "free_list", "%s: FirstFree "
                                  "0x%x, expected 0x%x (the first unused entry)", Step, t->FirstFree, v))
            return FALSE;
        n++;
    }
    return TRUE;
}

/* Past one level and past two: 255 * 512 handles fill level 1; a seeded number more
 * needs the top-level table. Every handle is checked as created, the whole table at each
 * level change and at the end, and seeded early handles still map to their entries. */
KTEST_OB("handle.levels", KtTestHandleLevels)
{
    KtSetBudget(Context, 60000);
    LONG tagBefore = KtPoolOutstanding(HANDLE_TABLE_TAG);
    PHANDLE_TABLE t = ExCreateHandleTable(NULL);
    if (KtObStubbed(Context) || !KtCheck(Context, t != NULL, "create_table", "ExCreateHandleTable returned NULL"))
        return;
    ULONG level1 = (LOWLEVEL_COUNT - 1) * MIDLEVEL_COUNT;
    ULONG total = level1 + (ULONG)KtRandomRange(Context, 1, 2 * LOWLEVEL_COUNT);
    for (ULONG n = 0; n < total; n++) {
        HANDLE_TABLE_ENTRY e;
        e.ObAttributes = KT_FAKE(n) | (n & 1 ? OBJ_HANDLE_INHERIT : 0);
        e.GrantedAccess = 0x10000 | n;
        e.Spare = 0;
        HANDLE h = ExCreateHandle(t, &e);
        if (KtObStubbed(Context))
            goto out;
        if ((ULONG_PTR)h != KtDenseHandle(n)) {
            KtFail(Context, "handle_value", "create #%u returned 0x%llx, expected 0x%x (multiples of 4, index 0 of each "
                   "low-level table skipped; level %u)", n, (ULONG64)(ULONG_PTR)h, KtDenseHandle(n),
                   (ULONG)(t->TableCode & LEVEL_CODE_MASK));
            goto out;
        }
        if (n == LOWLEVEL_COUNT - 1 || n == level1 || n == total - 1) {
            CHAR step[64];
            RtlFormatString(step, sizeof(step), "handle #%u (level %u)", n, (ULONG)(t->TableCode & LEVEL_CODE_MASK));
            if (!KtAuditDense(Context, step, t, n + 1))
                goto out;
        }
    }
    KtCheck(Context, (t->TableCode & LEVEL_CODE_MASK) == 2, "table_level", "%u handles: level %u, expected 2", total,
            (ULONG)(t->TableCode & LEVEL_CODE_MASK));
    for (ULONG k = 0; k < 64; k++) {
        ULONG n = k == 0 ? 0 : k == 1 ? total - 1 : k == 2 ? level1 - 1 : (ULONG)KtRandomRange(Context, 0, total - 1);
        ULONG v = KtDenseHandle(n);
        PHANDLE_TABLE_ENTRY e = ExMapHandleToPointer(t, (HANDLE)(ULONG_PTR)v);
        if (!KtCheck(Context, e == KtHandleEntry(t, v) && e && e->GrantedAccess == (0x10000 | n), "stays_valid",
                     "after growing to level 2, ExMapHandleToPointer(0x%x) (handle #%u) returned %p, expected its "
                     "entry %p", v, n, e, KtHandleEntry(t, v)))
            goto out;
    }
    KtValue(Context, "handles", "%u", total);
out:
    ExDestroyHandleTable(t);
    if (!KtObStubbed(Context))
        KtCheck(Context, KtPoolOutstanding(HANDLE_TABLE_TAG) == tagBefore, "table_freed", "after ExDestroyHandleTable "
                "of a level-2 table %d blocks tagged Obtt are still allocated, expected %d (every low-level, mid-level "
                "and top-level table)", KtPoolOutstanding(HANDLE_TABLE_TAG), tagBefore);
}
