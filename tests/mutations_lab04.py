"""Lab 04 mutation cases (picked up by tests/test_mutations.py): plausible student bugs written
from handouts/04-irql-dpc.md and the contracts of labs/04-irql-dpc alone, each of which the
checkpoints missed before its check was added (the older lab 04 cases are in
tests/test_mutations.py). Same form as CASES there:
(id, lab, file under solutions/, old text, new text, {checkpoint: words})."""

D = "04-irql-dpc/dpc.c"
T = "04-irql-dpc/timer.c"
S = "04-irql-dpc/spinlock.c"

CASES = [
    # KeRemoveQueueDpc restores the caller's interrupt flag: also when it was on
    ("dpc-remove-leaves-interrupts-off", 4, D,
     "    prcb->DpcQueueDepth--;\n    __restoreflags(flags);\n    return TRUE;",
     "    prcb->DpcQueueDepth--;\n    (void)flags;\n    return TRUE;",
     {"dpc_remove": "interrupt_flag"}),
    # a periodic timer due at once is expired and goes back on the table one period later
    ("timer-past-due-not-periodic", 4, T,
     "    if (due <= now)\n        KiExpireTimer(Timer, now);",
     "    if (due <= now) {\n        Timer->Header.SignalState = 1;\n        if (Dpc)\n"
     "            KeInsertQueueDpc(Dpc, (PVOID)(now & 0xFFFFFFFF), (PVOID)(now >> 32));\n    }",
     {"timer_boundaries": "past_due_periodic"}),
    # the owner check comes before spinning (KiSpinWait on one's own lock spins forever on an MP)
    ("spin-reacquire-spins", 4, S,
     "        if (expected == me)\n            KeBugCheckEx(SPIN_LOCK_ALREADY_OWNED, (ULONG_PTR)SpinLock, expected, 0, 0);\n", "",
     {"spin_reacquire": "already_owned"}),
    # SPIN_LOCK_NOT_OWNED: P2 is the word found, not 0
    ("spin-not-owned-p2-zero", 4, S,
     "KeBugCheckEx(SPIN_LOCK_NOT_OWNED, (ULONG_PTR)SpinLock, word, 0, 0);",
     "KeBugCheckEx(SPIN_LOCK_NOT_OWNED, (ULONG_PTR)SpinLock, 0, 0, 0);",
     {"release_free": "KTEST VALUE spin.release_free word"}),
    # a release checks the word is the caller's owner value, not merely that it is held
    ("spin-release-any-owner", 4, S,
     "    if (word != KiSpinLockOwnerValue())", "    if (word == 0)",
     {"release_free": "SPIN_LOCK_NOT_OWNED"}),
    # the queued release checks LOCK_QUEUE_OWNER
    ("queued-release-unchecked", 4, S,
     "    if (!(field & LOCK_QUEUE_OWNER))\n        KeBugCheckEx", "    if (field == 0)\n        KeBugCheckEx",
     {"queued_release_twice": "expected STOP 0x00000010"}),
    # the queued release hands the lock over before lowering the IRQL
    ("queued-lower-then-release", 4, S,
     "    entry->Lock = lock;\n    ULONG_PTR expected = (ULONG_PTR)entry;",
     "    KeLowerIrql(LockHandle->OldIrql);\n    entry->Lock = lock;\n    ULONG_PTR expected = (ULONG_PTR)entry;",
     {"spin_irql": "release_then_lower"}),
    # a release with no linked successor frees the word only by compare-exchange (a waiter may be in
    # the word but not linked yet: wait for it)
    ("queued-release-plain-store", 4, S,
     "    if (!__atomic_compare_exchange_n(lock, &expected, 0, FALSE, __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {",
     "    if (entry->Next == NULL) {\n        *lock = 0;\n        (void)expected;\n    } else {",
     {"queued_fifo": "late_link"}),
    # a periodic timer whose DueTime + Period has passed at expiry is set again at now + Period
    ("timer-periodic-no-catch-up", 4, T,
     "Timer->DueTime = Timer->DueTime + period > Now ? Timer->DueTime + period : Now + period;",
     "Timer->DueTime = Timer->DueTime + period;",
     {"timer_periodic": "period_catch_up"}),
    # every set stores its Dpc (also NULL), whatever the timer had
    ("timer-set-keeps-old-dpc", 4, T,
     "    Timer->Header.SignalState = 0;\n    Timer->Dpc = Dpc;",
     "    Timer->Header.SignalState = 0;\n    if (!Timer->Dpc)\n        Timer->Dpc = Dpc;",
     {"timer_cancel": "each KeSetTimer stores its Dpc"}),
]
