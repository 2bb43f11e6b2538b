/* mutant.c - lab 05: mutants (NT's mutexes). A mutant has an owner thread and a recursion
 * count: SignalState 1 is free, 0 owned once, -n owned n + 1 times. Its owner may acquire
 * it again without blocking and must release it as many times; an owner that ends still
 * owning it abandons it (the next owner's wait says so). States change at DISPATCH_LEVEL. */
#include "kesched.h"

/*
 * KeInitializeMutant - a free mutant (InitialOwner FALSE: SignalState 1, OwnerThread NULL)
 * or one owned once by the current thread (TRUE: SignalState 0, OwnerThread the current
 * thread, on its MutantListHead).
 * Contract: IRQL <= DISPATCH_LEVEL; the memory may hold anything before. Header.Type
 * MutantObject, an empty WaitListHead, Abandoned FALSE, ApcDisable 0.
 */
VOID KeInitializeMutant(PRKMUTANT Mutant, BOOLEAN InitialOwner)
{
    Mutant->Header.Type = MutantObject;
    Mutant->Header.Reserved[0] = Mutant->Header.Reserved[1] = Mutant->Header.Reserved[2] = 0;
    InitializeListHead(&Mutant->Header.WaitListHead);
    Mutant->Abandoned = FALSE;
    Mutant->ApcDisable = 0;
    if (InitialOwner) {
        PKTHREAD thread = KeGetCurrentThread();
        KIRQL oldIrql;
        KeRaiseIrql(DISPATCH_LEVEL, &oldIrql);
        Mutant->Header.SignalState = 0;
        Mutant->OwnerThread = thread;
        InsertTailList(&thread->MutantListHead, &Mutant->MutantListEntry);
        KeLowerIrql(oldIrql);
    } else {
        Mutant->Header.SignalState = 1;
        Mutant->OwnerThread = NULL;
        Mutant->MutantListEntry.Flink = Mutant->MutantListEntry.Blink = NULL;
    }
}

/*
 * KeReleaseMutant - give up one level of ownership; returns the previous SignalState.
 * Contract: IRQL <= DISPATCH_LEVEL (works at DISPATCH_LEVEL).
 *  - Not Abandoned: the caller must be OwnerThread, else nothing changes and the result
 *    is STATUS_MUTANT_NOT_OWNED. SignalState grows by one.
 *  - Abandoned (thread rundown): SignalState becomes 1 whatever the recursion, and the
 *    mutant is marked Abandoned.
 *  - When SignalState reaches 1 the mutant is free: off its owner's MutantListHead,
 *    OwnerThread NULL, and its first waiter (wait order) acquires it (KiWaitTest with
 *    Increment).
 */
LONG KeReleaseMutant(PRKMUTANT Mutant, KPRIORITY Increment, BOOLEAN Abandoned, BOOLEAN Wait)
{
    UNREFERENCED_PARAMETER(Wait);
    KIRQL oldIrql;
    KeRaiseIrql(DISPATCH_LEVEL, &oldIrql);
    LONG previous = Mutant->Header.SignalState;
    if (Abandoned) {
        Mutant->Header.SignalState = 1;
        Mutant->Abandoned = TRUE;
    } else {
        if (Mutant->OwnerThread != KeGetCurrentThread() || previous > 0) {
            KeLowerIrql(oldIrql);
            return STATUS_MUTANT_NOT_OWNED;
        }
        Mutant->Header.SignalState = previous + 1;
    }
    if (Mutant->Header.SignalState == 1 && previous <= 0) {
        RemoveEntryList(&Mutant->MutantListEntry);
        Mutant->MutantListEntry.Flink = Mutant->MutantListEntry.Blink = NULL;
        Mutant->OwnerThread = NULL;
        if (!IsListEmpty(&Mutant->Header.WaitListHead))
            KiWaitTest(Mutant, Increment);
    }
    KeLowerIrql(oldIrql);
    return previous;
}

/* KeReadStateMutant - the SignalState (1 free, <= 0 owned). Any IRQL. */
LONG KeReadStateMutant(PRKMUTANT Mutant)
{
    return Mutant->Header.SignalState;
}

/* KeInitializeMutex - a free mutant (Level is accepted and not used). */
VOID KeInitializeMutex(PRKMUTEX Mutex, ULONG Level)
{
    UNREFERENCED_PARAMETER(Level);
    KeInitializeMutant(Mutex, FALSE);
}

/* KeReleaseMutex - KeReleaseMutant(Mutex, MUTANT_INCREMENT, FALSE, Wait). */
LONG KeReleaseMutex(PRKMUTEX Mutex, BOOLEAN Wait)
{
    return KeReleaseMutant(Mutex, MUTANT_INCREMENT, FALSE, Wait);
}

/* KeReadStateMutex - the SignalState. */
LONG KeReadStateMutex(PRKMUTEX Mutex)
{
    return KeReadStateMutant(Mutex);
}

/*
 * KeRundownThread - the current thread is ending: release every mutant it still owns as
 * abandoned (KeReleaseMutant with Abandoned TRUE), first owned first.
 * Contract: called by the framework (PsTerminateSystemThread) at PASSIVE_LEVEL, only when
 * the thread's MutantListHead is not empty; it is empty afterwards.
 */
VOID KeRundownThread(VOID)
{
    PKTHREAD thread = KeGetCurrentThread();
    while (!IsListEmpty(&thread->MutantListHead)) {
        PKMUTANT mutant = CONTAINING_RECORD(thread->MutantListHead.Flink, KMUTANT, MutantListEntry);
        KeReleaseMutant(mutant, MUTANT_INCREMENT, TRUE, FALSE);
    }
}
