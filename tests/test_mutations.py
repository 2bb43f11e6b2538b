"""Every checkpoint catches real bugs: each case breaks the reference solution the way
a student plausibly would, grades that lab, and checks that the named checkpoints fail
with a message that points at the mistake (and that the bug is not free of cost to
other checkpoints is not required). Cases share a prebuilt copy of build/all, so each
rebuilds one file."""
import os

import pytest

from kernel_harness import ROOT, copy_tree, has_solutions, make

pytestmark = pytest.mark.skipif(not has_solutions(), reason="needs the instructor tree (solutions/)")

# (id, lab, file under solutions/, old text, new text, {checkpoint: words its output must contain})
CASES = [
    ("walk-skips-first-frame", 0, "00-bugcheck/stackwalk.c",
     "ULONG_PTR frame = FramePointer;", "ULONG_PTR frame = *(const ULONG_PTR *)FramePointer;",
     {"stack_chain": "frame_order"}),
    ("walk-ignores-count", 0, "00-bugcheck/stackwalk.c",
     "while (n < Count) {", "while (n <= Count) {",
     {"stack_chain": "count_limit"}),
    ("walk-no-bounds-check", 0, "00-bugcheck/stackwalk.c",
     "if (frame == 0 || (frame & 7) != 0 || frame < StackLow || frame + 16 > StackHigh)",
     "if (frame == 0 || StackLow > StackHigh)",
     {"corrupt_chain": "the walk captured"}),
    ("walk-follows-loops", 0, "00-bugcheck/stackwalk.c",
     "        if (next <= frame)\n            break;\n", "",
     {"corrupt_chain": "loop"}),
    ("walk-swaps-slots", 0, "00-bugcheck/stackwalk.c",
     "ULONG_PTR returnAddress = slot[1];\n        ULONG_PTR next = slot[0];",
     "ULONG_PTR returnAddress = slot[0];\n        ULONG_PTR next = slot[1];",
     {"stack_chain": "frame", "bugcheck_stop": "backtrace", "kernel_page_fault": "backtrace"}),
    ("lookup-end-inclusive", 0, "00-bugcheck/symbols.c",
     "if (Address - sym->Address >= sym->Size)", "if (Address - sym->Address > sym->Size)",
     {"symbol_lookup": "STATUS_NOT_FOUND", "symbol_edges": "past_end"}),
    ("lookup-strict-compare", 0, "00-bugcheck/symbols.c",
     "if (KiSymbolTable[mid].Address <= Address)", "if (KiSymbolTable[mid].Address < Address)",
     {"symbol_lookup": "inside", "symbol_edges": "edges"}),
    ("lookup-wrong-offset", 0, "00-bugcheck/symbols.c",
     "*Offset = Address - sym->Address;", "*Offset = Address - sym->Address - 1;",
     {"symbol_lookup": "inside"}),
    ("db-ignores-reserved", 1, "01-pfn/pfndb.c",
     "if (MiIsBootReserved(Boot, pfn) || (pfn >= databaseBase", "if ((pfn >= databaseBase",
     {"never_reserved": "reserved", "list_totals": "reserved range"}),
    ("db-frees-itself", 1, "01-pfn/pfndb.c",
     "if (MiIsBootReserved(Boot, pfn) || (pfn >= databaseBase && pfn < databaseBase + databasePages))",
     "if (MiIsBootReserved(Boot, pfn))",
     {"list_totals": "PFN database", "never_reserved": "PFN database"}),
    ("unlink-forgets-blink", 1, "01-pfn/pfnlist.c",
     "        MI_PFN_ELEMENT(pfn->Flink)->Blink = pfn->Blink;\n", "        (void)0;\n",
     {"list_totals": "Blink", "contiguous": "PFN_LIST_CORRUPT"}),
    ("unlink-keeps-total", 1, "01-pfn/pfnlist.c",
     "    list->Total--;\n", "",
     {"list_totals": "Total", "exhaust_and_refill": "MiUnlinkPageFromList"}),
    ("insert-forgets-available", 1, "01-pfn/pfnlist.c",
     "    if (ListName == ZeroedPageList || ListName == FreePageList)\n        MmAvailablePages++;\n", "",
     {"list_totals": "MmAvailablePages"}),
    ("zeroed-fallback-dirty", 1, "01-pfn/pfnalloc.c",
     "RtlZeroMemory(MiPfnToVirtual(pfn), PAGE_SIZE);\n    *Pfn", "(void)0;\n    *Pfn",
     {"zeroed_pages": "fallback_zeroed"}),
    ("double-free-unchecked", 1, "01-pfn/pfnalloc.c",
     "if (entry->PageLocation != ActiveAndValid || entry->Reserved)", "if (entry->Reserved)",
     {"double_free": "expected STOP"}),
    ("free-accepts-reserved", 1, "01-pfn/pfnalloc.c",
     "if (entry->PageLocation != ActiveAndValid || entry->Reserved)", "if (entry->PageLocation != ActiveAndValid)",
     {"free_reserved": "expected STOP"}),
    ("db-sized-for-64mib", 1, "01-pfn/pfndb.c",
     "        if (last > highest)\n            highest = last;\n    }\n    if (Boot->UsableCount == 0)",
     "        if (last > highest)\n            highest = last < 0x3FFF ? last : 0x3FFF;\n    }\n"
     "    if (Boot->UsableCount == 0)",
     {"larger_memory": "MmHighestPhysicalPage"}),
    ("contiguous-unaligned", 1, "01-pfn/pfnalloc.c",
     "base = ALIGN_UP(base + i + 1, AlignmentPages);", "base = base + i + 1;",
     {"contiguous": "not aligned"}),
    ("contiguous-gives-up-early", 1, "01-pfn/pfnalloc.c",
     "        base = ALIGN_UP(base + i + 1, AlignmentPages);\n    }\n    return STATUS_NO_MEMORY;",
     "        break;\n    }\n    return STATUS_NO_MEMORY;",
     {"contiguous": "finds_run"}),
    ("unmap-no-invlpg", 2, "02-paging/map.c",
     "    if (Pml4 == MiCurrentPml4())\n        __invlpg((PVOID)Va);\n", "    (void)MiCurrentPml4;\n",
     {"tlb_flush": "still in the TLB", "fault_after_unmap": "instead of faulting"}),
    ("unmap-never-frees-tables", 2, "02-paging/map.c",
     "if (!MiIsTableEmpty(holder))", "if (!MiIsTableEmpty(holder) || level >= MM_LEVEL_PT)",
     {"free_tables": "an empty table was not freed"}),
    ("freed-table-still-referenced", 2, "02-paging/map.c",
     "        entries[level + 1]->Long = 0;\n", "",
     {"free_tables": "still referenced"}),
    ("tables-without-owner", 2, "02-paging/pagewalk.c",
     "next.Hard.Owner = Va <= MM_HIGHEST_USER_ADDRESS;", "next.Hard.Owner = 0;",
     {"owner_and_nx": "Owner"}),
    ("large-offset-4k", 2, "02-paging/translate.c",
     "(Va & (span - 1))", "(Va & (span - 1) & (PAGE_SIZE - 1))",
     {"large_pages": "translate_large"}),
    ("large-without-ps-bit", 2, "02-paging/map.c",
     "    entry.Hard.LargePage = large;\n", "",
     {"large_pages": "LargePage", "kernel_space": "did not switch"}),
    ("nx-ignored", 2, "02-paging/map.c",
     "entry.Hard.NoExecute = (Protect & MM_PROTECT_EXECUTE) == 0;", "entry.Hard.NoExecute = 0;",
     {"owner_and_nx": "NoExecute", "kernel_space": "NoExecute 0"}),
    ("pool-no-coalesce-next", 3, "03-pool/pool.c",
     "    if (hasNext && next->PoolType == 0) {", "    if (hasNext && next->PoolType == 0 && units == 0) {",
     {"coalesce": "not merged with the free block after it", "page_layout": "neighbours"}),
    ("pool-stale-previous-size", 3, "03-pool/pool.c",
     "    if ((ULONG_PTR)next < POOL_PAGE_END(Header))\n        next->PreviousSize = Units;\n",
     "    if ((ULONG_PTR)next < POOL_PAGE_END(Header))\n        (void)Units;\n",
     {"page_layout": "BAD_POOL_HEADER"}),
    ("pool-paged-at-dispatch", 3, "03-pool/pool.c",
     "    if (irql > (PoolType == PagedPool ? APC_LEVEL : DISPATCH_LEVEL))\n        KeBugCheckEx(BAD_POOL_CALLER, "
     "BAD_POOL_CALLER_ALLOCATE_IRQL",
     "    if (irql > DISPATCH_LEVEL)\n        KeBugCheckEx(BAD_POOL_CALLER, BAD_POOL_CALLER_ALLOCATE_IRQL",
     {"paged_above_apc": "instead of bugchecking"}),
    ("pool-no-tag-check", 3, "03-pool/pool.c",
     "    if (Tag && Tag != header->PoolTag)\n", "    if (Tag && Tag != header->PoolTag && !Tag)\n",
     {"wrong_tag": "expected STOP"}),
    ("pool-no-overrun-check", 3, "03-pool/pool.c",
     "    if (hasNext && next->PreviousSize != header->BlockSize)", "    if (hasNext && !next)",
     {"overrun": "did not bugcheck"}),
    ("pool-double-free-unchecked", 3, "03-pool/pool.c",
     "    if (header->PoolType == 0)\n        KeBugCheckEx(BAD_POOL_CALLER, BAD_POOL_CALLER_DOUBLE_FREE, 0, "
     "*(PULONG64)header",
     "    if (header->PoolType == 0 && !header)\n        KeBugCheckEx(BAD_POOL_CALLER, BAD_POOL_CALLER_DOUBLE_FREE, 0, "
     "*(PULONG64)header",
     {"double_free": "0x7"}),
    ("tracker-keeps-bytes", 3, "03-pool/pooltrack.c",
     "    t->Bytes[PoolType] -= Bytes;\n", "    (void)Bytes;\n",
     {"tag_accounting": "bytes_zero"}),
    ("bigpages-null-on-remove", 3, "03-pool/bigpages.c",
     "            slot->Va = POOL_BIG_TABLE_FREED;", "            slot->Va = NULL;",
     {"big_table_churn": "BAD_POOL_CALLER"}),
    ("translate-frame-not-shifted", 2, "02-paging/translate.c",
     "*Physical = ((ULONG64)entry.Hard.PageFrameNumber << PAGE_SHIFT) + (Va & (span - 1));",
     "*Physical = (ULONG64)entry.Hard.PageFrameNumber + (Va & (span - 1));",
     {"translate": "MmTranslateAddress"}),
    ("walk-accepts-level-0", 2, "02-paging/pagewalk.c",
     "Level < MM_LEVEL_PT || Level > MM_LEVEL_PML4", "Level > MM_LEVEL_PML4",
     {"error_cases": "bad_level"}),
    ("unmap-checks-half-table", 2, "02-paging/map.c",
     "for (ULONG i = 0; i < MM_PTES_PER_TABLE; i++)", "for (ULONG i = 0; i < MM_PTES_PER_TABLE / 2; i++)",
     {"map_storm": "verdict", "free_tables": "MmUnmapPage"}),
    ("bigpages-wrong-size", 3, "03-pool/bigpages.c",
     "slot->NumberOfPages = Pages;", "slot->NumberOfPages = Pages ? 1 : 0;",
     {"big_allocations": "recorded with the wrong tag, size or type"}),
    ("pool-irql-too-strict", 3, "03-pool/pool.c",
     "if (irql > (PoolType == PagedPool ? APC_LEVEL : DISPATCH_LEVEL))",
     "if (irql > (PoolType == PagedPool ? PASSIVE_LEVEL : APC_LEVEL))",
     {"irql_allowed": "BAD_POOL_CALLER"}),
    ("pool-nonpaged-irql-unchecked", 3, "03-pool/pool.c",
     "if (irql > (PoolType == PagedPool ? APC_LEVEL : DISPATCH_LEVEL))",
     "if (PoolType == PagedPool && irql > APC_LEVEL)",
     {"nonpaged_above_dispatch": "instead of bugchecking"}),
    ("pool-free-irql-unchecked", 3, "03-pool/pool.c",
     "    if (irql > (type == PagedPool ? APC_LEVEL : DISPATCH_LEVEL))\n        KeBugCheckEx(BAD_POOL_CALLER, "
     "BAD_POOL_CALLER_FREE_IRQL, irql, type, (ULONG_PTR)Block);\n    if (Tag && Tag != header->PoolTag)",
     "    if (irql > HIGH_LEVEL)\n        KeBugCheckEx(BAD_POOL_CALLER, "
     "BAD_POOL_CALLER_FREE_IRQL, irql, type, (ULONG_PTR)Block);\n    if (Tag && Tag != header->PoolTag)",
     {"free_paged_at_dispatch": "did not bugcheck"}),
    # ---- lab 04: DPCs ----
    ("dpc-init-keeps-dpcdata", 4, "04-irql-dpc/dpc.c",
     "    Dpc->DpcData = NULL;\n    Dpc->DpcListEntry.Flink = NULL;", "    Dpc->DpcListEntry.Flink = NULL;",
     {"dpc_queue": "initialize", "dpc_remove": "initialize"}),
    ("dpc-high-at-tail", 4, "04-irql-dpc/dpc.c",
     "if (Dpc->Importance == HighImportance)", "if (Dpc->Importance > HighImportance)",
     {"dpc_queue": "dpc_order"}),
    ("dpc-insert-twice", 4, "04-irql-dpc/dpc.c",
     "    if (Dpc->DpcData != NULL) {\n        __restoreflags(flags);\n        return FALSE;\n    }\n"
     "    Dpc->SystemArgument1",
     "    Dpc->SystemArgument1",
     {"dpc_queue": "insert_queued", "dpc_requeue": "insert_queued"}),
    ("dpc-insert-no-depth", 4, "04-irql-dpc/dpc.c",
     "    prcb->DpcQueueDepth++;\n", "",
     {"dpc_queue": "dpc_depth"}),
    ("dpc-insert-no-request", 4, "04-irql-dpc/dpc.c",
     "    KiRequestSoftwareInterrupt(DISPATCH_LEVEL);\n    return TRUE;", "    return TRUE;",
     {"dpc_queue": "run_once", "dpc_remove": "runs_at_passive"}),
    ("dpc-insert-runs-now", 4, "04-irql-dpc/dpc.c",
     "    KiRequestSoftwareInterrupt(DISPATCH_LEVEL);\n    return TRUE;", "    KiRetireDpcList(prcb);\n    return TRUE;",
     {"dpc_irql": "held_at_dispatch", "dpc_from_isr": "after_isr", "dpc_queue": "held_at_dispatch"}),
    ("dpc-remove-no-depth", 4, "04-irql-dpc/dpc.c",
     "    Dpc->DpcData = NULL;\n    prcb->DpcQueueDepth--;\n", "    Dpc->DpcData = NULL;\n",
     {"dpc_remove": "dpc_depth"}),
    ("dpc-remove-keeps-dpcdata", 4, "04-irql-dpc/dpc.c",
     "    RemoveEntryList(&Dpc->DpcListEntry);\n    Dpc->DpcData = NULL;\n", "    RemoveEntryList(&Dpc->DpcListEntry);\n",
     {"dpc_remove": "dpc_fields"}),
    ("dpc-cleared-after-run", 4, "04-irql-dpc/dpc.c",
     "        dpc->DpcData = NULL;\n        Prcb->DpcQueueDepth--;\n        Prcb->DpcCount++;\n        _enable();\n"
     "        routine(dpc, context, argument1, argument2);\n",
     "        Prcb->DpcQueueDepth--;\n        Prcb->DpcCount++;\n        _enable();\n"
     "        routine(dpc, context, argument1, argument2);\n        dpc->DpcData = NULL;\n",
     {"dpc_requeue": "requeue_self", "dpc_queue": "dequeued_first"}),
    ("dpc-drain-lifo", 4, "04-irql-dpc/dpc.c",
     "PLIST_ENTRY entry = Prcb->DpcListHead.Flink;", "PLIST_ENTRY entry = Prcb->DpcListHead.Blink;",
     {"dpc_queue": "run_order"}),
    ("dpc-drain-interrupts-off", 4, "04-irql-dpc/dpc.c",
     "        _enable();\n        routine(dpc, context, argument1, argument2);",
     "        routine(dpc, context, argument1, argument2);",
     {"dpc_queue": "run_irql", "dpc_from_isr": "run_irql"}),
    ("dpc-drain-one", 4, "04-irql-dpc/dpc.c",
     "        routine(dpc, context, argument1, argument2);\n    }", "        routine(dpc, context, argument1, argument2);\n"
     "        return;\n    }",
     {"dpc_queue": "run_once", "dpc_requeue": "run_once"}),
    ("dpc-drain-no-depth", 4, "04-irql-dpc/dpc.c",
     "        Prcb->DpcQueueDepth--;\n        Prcb->DpcCount++;\n", "        Prcb->DpcCount++;\n",
     {"dpc_queue": "dpc_depth"}),
    # ---- lab 04: timers ----
    ("timer-init-no-waitlist", 4, "04-irql-dpc/timer.c",
     "    InitializeListHead(&Timer->Header.WaitListHead);\n", "",
     {"timer_order": "initialize", "timer_cancel": "initialize"}),
    ("timer-hash-floor", 4, "04-irql-dpc/timer.c",
     "ULONG index = KiTimerIndex(Timer->DueTime);",
     "ULONG index = (ULONG)(Timer->DueTime / KeTimeIncrement % TIMER_TABLE_SIZE);",
     {"timer_order": "timer_hash", "timer_cancel": "timer_hash"}),
    ("timer-insert-at-tail", 4, "04-irql-dpc/timer.c",
     "    while (after != head && CONTAINING_RECORD(after, KTIMER, TimerListEntry)->DueTime > Timer->DueTime)\n"
     "        after = after->Blink;\n", "",
     {"timer_order": "timer_sorted"}),
    ("timer-equal-lifo", 4, "04-irql-dpc/timer.c",
     "TimerListEntry)->DueTime > Timer->DueTime)", "TimerListEntry)->DueTime >= Timer->DueTime)",
     {"timer_order": "due_order"}),
    ("timer-expire-whole-list", 4, "04-irql-dpc/timer.c",
     "            if (timer->DueTime > InterruptTime)\n                break;\n", "",
     {"timer_order": "fire_once"}),
    ("timer-expire-strict", 4, "04-irql-dpc/timer.c",
     "if (timer->DueTime > InterruptTime)", "if (timer->DueTime >= InterruptTime)",
     {"timer_boundaries": "fire_once"}),
    ("timer-absolute-as-relative", 4, "04-irql-dpc/timer.c",
     "due = (ULONG64)DueTime.QuadPart - KeBootSystemTime;", "due = now + (ULONG64)DueTime.QuadPart - KeBootSystemTime;",
     {"timer_order": "timer_due", "timer_cancel": "timer_due"}),
    ("timer-reset-not-removed", 4, "04-irql-dpc/timer.c",
     "    BOOLEAN wasSet = Timer->Inserted;\n    if (wasSet) {\n        RemoveEntryList(&Timer->TimerListEntry);\n"
     "        Timer->Inserted = FALSE;\n    }\n    ULONG64 now",
     "    BOOLEAN wasSet = Timer->Inserted;\n    ULONG64 now",
     {"timer_cancel": "timer_"}),
    ("timer-set-returns-false", 4, "04-irql-dpc/timer.c",
     "    KeLowerIrql(oldIrql);\n    return wasSet;\n}\n\n/* KeSetTimer -", "    KeLowerIrql(oldIrql);\n    return FALSE;\n}\n\n/* KeSetTimer -",
     {"timer_cancel": "set_return"}),
    ("timer-cancel-returns-true", 4, "04-irql-dpc/timer.c",
     "    KeLowerIrql(oldIrql);\n    return wasSet;\n}\n\n/* KeReadStateTimer", "    KeLowerIrql(oldIrql);\n    return TRUE;\n}\n\n/* KeReadStateTimer",
     {"timer_cancel": "cancel_unset"}),
    ("timer-cancel-keeps-inserted", 4, "04-irql-dpc/timer.c",
     "        Timer->Inserted = FALSE;\n    }\n    KeLowerIrql(oldIrql);\n    return wasSet;\n}\n\n/* KeReadStateTimer",
     "    }\n    KeLowerIrql(oldIrql);\n    return wasSet;\n}\n\n/* KeReadStateTimer",
     {"timer_cancel": "timer_inserted"}),
    ("timer-periodic-one-shot", 4, "04-irql-dpc/timer.c",
     "    if (Timer->Period > 0) {", "    if (Timer->Period < 0) {",
     {"timer_periodic": "period"}),
    ("timer-periodic-from-now", 4, "04-irql-dpc/timer.c",
     "Timer->DueTime = Timer->DueTime + period > Now ? Timer->DueTime + period : Now + period;",
     "Timer->DueTime = Now + period;",
     {"timer_periodic": "timer_due"}),
    ("timer-expiry-not-signalled", 4, "04-irql-dpc/timer.c",
     "    Timer->Header.SignalState = 1;\n", "",
     {"timer_order": "signalled", "timer_boundaries": "past_due"}),
    ("timer-set-keeps-signal", 4, "04-irql-dpc/timer.c",
     "    Timer->Header.SignalState = 0;\n    Timer->Dpc = Dpc;", "    Timer->Dpc = Dpc;",
     {"timer_cancel": "signalled"}),
    ("timer-due-now-inserted", 4, "04-irql-dpc/timer.c",
     "    if (due <= now)\n", "    if (due < now)\n",
     {"timer_boundaries": "past_due"}),
    ("timer-dpc-no-time", 4, "04-irql-dpc/timer.c",
     "KeInsertQueueDpc(Timer->Dpc, (PVOID)(Now & 0xFFFFFFFF), (PVOID)(Now >> 32));",
     "KeInsertQueueDpc(Timer->Dpc, NULL, NULL);",
     {"timer_order": "expiry_time", "timer_periodic": "expiry_time"}),
    # ---- lab 04: spin locks and IRQL rules ----
    ("spin-raise-by-hand", 4, "04-irql-dpc/spinlock.c",
     "    KIRQL old;\n    KeRaiseIrql(DISPATCH_LEVEL, &old);\n    KeAcquireSpinLockAtDpcLevel(SpinLock);",
     "    KIRQL old = KeGetCurrentIrql();\n    __asm__ volatile(\"mov %0, %%cr8\" ::\"r\"((ULONG64)DISPATCH_LEVEL));\n"
     "    KeAcquireSpinLockAtDpcLevel(SpinLock);",
     {"acquire_above_dispatch": "STOP"}),
    ("spin-old-irql-current", 4, "04-irql-dpc/spinlock.c",
     "    KeAcquireSpinLockAtDpcLevel(SpinLock);\n    *OldIrql = old;", "    KeAcquireSpinLockAtDpcLevel(SpinLock);\n"
     "    *OldIrql = KeGetCurrentIrql();\n    (void)old;",
     {"spin_irql": "old_irql"}),
    ("spin-release-lowers-by-hand", 4, "04-irql-dpc/spinlock.c",
     "    KeReleaseSpinLockFromDpcLevel(SpinLock);\n    KeLowerIrql(NewIrql);",
     "    KeReleaseSpinLockFromDpcLevel(SpinLock);\n    __asm__ volatile(\"mov %0, %%cr8\" ::\"r\"((ULONG64)NewIrql));",
     {"spin_irql": "runs_when_lowered", "release_to_higher": "STOP"}),
    ("spin-owner-not-recorded", 4, "04-irql-dpc/spinlock.c",
     "    ULONG_PTR me = KiSpinLockOwnerValue();\n    for (;;) {", "    ULONG_PTR me = 1;\n    for (;;) {",
     {"spin_irql": "lock_word", "spin_contended": "lock_word"}),
    ("spin-plain-store", 4, "04-irql-dpc/spinlock.c",
     "    ULONG_PTR me = KiSpinLockOwnerValue();\n    for (;;) {",
     "    ULONG_PTR me = KiSpinLockOwnerValue();\n    *SpinLock = me;\n    return;\n    for (;;) {",
     {"spin_reacquire": "STOP", "spin_contended": "spin_wait"}),
    ("spin-dpc-level-unchecked", 4, "04-irql-dpc/spinlock.c",
     "    if (irql < DISPATCH_LEVEL)\n        KeBugCheckEx(IRQL_NOT_GREATER_OR_EQUAL", "    if (irql > HIGH_LEVEL)\n"
     "        KeBugCheckEx(IRQL_NOT_GREATER_OR_EQUAL",
     {"dpc_level_below": "STOP"}),
    ("spin-release-unchecked", 4, "04-irql-dpc/spinlock.c",
     "    if (word != KiSpinLockOwnerValue())", "    if (word == 0x1234)",
     {"release_free": "STOP"}),
    ("queued-no-handover", 4, "04-irql-dpc/spinlock.c",
     "        next->Lock = (PKSPIN_LOCK)((ULONG_PTR)lock | LOCK_QUEUE_OWNER);\n", "        (void)next;\n",
     {"queued_fifo": "queue_"}),
    ("queued-never-waits", 4, "04-irql-dpc/spinlock.c",
     "    entry->Lock = (PKSPIN_LOCK)((ULONG_PTR)SpinLock | LOCK_QUEUE_WAIT);\n", "",
     {"queued_fifo": "queue_flags", "queued_reacquire": "STOP"}),
    ("queued-old-irql", 4, "04-irql-dpc/spinlock.c",
     "    KeRaiseIrql(DISPATCH_LEVEL, &LockHandle->OldIrql);",
     "    KIRQL ignored;\n    KeRaiseIrql(DISPATCH_LEVEL, &ignored);\n    LockHandle->OldIrql = DISPATCH_LEVEL;",
     {"spin_irql": "old_irql"}),
    ("queued-release-keeps-next", 4, "04-irql-dpc/spinlock.c",
     "        entry->Next = NULL;\n        next->Lock", "        next->Lock",
     {"queued_fifo": "queue_release"}),
    ("queued-owner-flag-kept", 4, "04-irql-dpc/spinlock.c",
     "    entry->Lock = lock;\n    ULONG_PTR expected", "    ULONG_PTR expected",
     {"spin_irql": "queue_release"}),
]


@pytest.fixture(scope="module")
def prebuilt():
    proc = make(ROOT, "SOL=all", "iso")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_mutation_is_caught(case, tmp_path, prebuilt):
    from kernel_harness import grade
    name, lab, path, old, new, expect = case
    root = copy_tree(str(tmp_path / "tree"))
    target = os.path.join(root, "solutions", path)
    with open(target) as f:
        text = f.read()
    assert text.count(old) == 1, f"{name}: the text to break is not (uniquely) in solutions/{path}"
    with open(target, "w") as f:
        f.write(text.replace(old, new))
    data, proc = grade(root, "all", lab=lab)
    results = {t["name"].split(":")[0].split(".", 1)[1]: t for t in data["tests"]}
    for checkpoint, words in expect.items():
        t = results[checkpoint]
        assert t["status"] == "failed", f"{name}: checkpoint {checkpoint} did not catch the bug\n{t['output']}"
        assert words in t["output"], f"{name}: {checkpoint} failed without pointing at it ({words!r})\n{t['output']}"


def test_every_checkpoint_has_a_mutation():
    """A new checkpoint needs a case above that proves it catches a real bug."""
    from grader import labconfig
    covered = {(case[1], name) for case in CASES for name in case[5]}
    missing = [f"{lab.number:02d}.{cp.name}" for lab in labconfig.load_labs(ROOT) for cp in lab.checkpoints
               if (lab.number, cp.name) not in covered]
    assert not missing, f"checkpoints that no mutation case breaks: {', '.join(missing)}"
