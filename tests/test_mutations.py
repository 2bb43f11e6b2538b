"""Every checkpoint catches real bugs: each case breaks the reference solution the way
a student plausibly would, and checks that the named checkpoints fail with a message that
points at the mistake (that the bug is not free of cost to other checkpoints is not required).

The runner: cases share a prebuilt copy of build/all, so each rebuilds one file; each case
boots only the checkpoints it names (each alone on a fresh kernel, with the grader's own
runner), and two cases run at a time (the selected ones, computed once per session)."""
import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from kernel_harness import ROOT, boot_checkpoints, copy_tree, has_solutions, make

pytestmark = pytest.mark.skipif(not has_solutions(), reason="needs the instructor tree (solutions/)")
CASE_JOBS = 2

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
]


@pytest.fixture(scope="module")
def prebuilt():
    proc = make(ROOT, "SOL=all", "images")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def run_case(case, workdir: str) -> list[str]:
    """Break the solution as the case says, build, boot the checkpoints it names; the problems
    (empty: every named checkpoint failed and its output has the words)."""
    name, lab, path, old, new, expect = case
    root = copy_tree(workdir)
    try:
        target = os.path.join(root, "solutions", path)
        with open(target) as f:
            text = f.read()
        if text.count(old) != 1:
            return [f"{name}: the text to break is not (uniquely) in solutions/{path}"]
        with open(target, "w") as f:
            f.write(text.replace(old, new))
        wanted = [f"{lab:02d}.{checkpoint}" for checkpoint in expect]
        # one boot or two: GRUB's core image is quicker than saving a state to restore
        verdicts = boot_checkpoints(root, "all", wanted, jobs=1, mode="kernel" if len(wanted) <= 2 else None)
        problems = []
        for checkpoint, words in expect.items():
            v = verdicts[f"{lab:02d}.{checkpoint}"]
            if v.passed:
                problems.append(f"{name}: checkpoint {checkpoint} did not catch the bug\n{v.text}")
            elif words not in v.details:
                problems.append(f"{name}: {checkpoint} failed without pointing at it ({words!r})\n{v.details}")
        return problems
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def outcomes(request, prebuilt, tmp_path_factory):
    """{case id: problems} for every case this session runs, CASE_JOBS cases at a time."""
    chosen = [item.callspec.params["case"] for item in request.session.items
              if getattr(item, "originalname", "") == "test_mutation_is_caught" and hasattr(item, "callspec")]
    base = tmp_path_factory.mktemp("mutations")
    with ThreadPoolExecutor(max_workers=CASE_JOBS) as pool:
        results = pool.map(lambda c: (c[0], run_case(c, str(base / c[0]))), chosen)
        return dict(results)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_mutation_is_caught(case, outcomes):
    problems = outcomes[case[0]]
    assert not problems, "\n\n".join(problems)


def test_every_checkpoint_has_a_mutation():
    """A new checkpoint needs a case above that proves it catches a real bug."""
    from grader import labconfig
    covered = {(case[1], name) for case in CASES for name in case[5]}
    missing = [f"{lab.number:02d}.{cp.name}" for lab in labconfig.load_labs(ROOT) for cp in lab.checkpoints
               if (lab.number, cp.name) not in covered]
    assert not missing, f"checkpoints that no mutation case breaks: {', '.join(missing)}"
