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
    /* LAB 05: free, or owned once by the current thread. */
    UNREFERENCED_PARAMETER(Mutant);
    UNREFERENCED_PARAMETER(InitialOwner);
    KeNotImplemented("KeInitializeMutant", "lab 05");
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
    /* LAB 05: the owner rule, recursion, abandonment, the next owner. */
    UNREFERENCED_PARAMETER(Mutant);
    UNREFERENCED_PARAMETER(Increment);
    UNREFERENCED_PARAMETER(Abandoned);
    UNREFERENCED_PARAMETER(Wait);
    KeNotImplemented("KeReleaseMutant", "lab 05");
    return 0;
}

/* KeReadStateMutant - the SignalState (1 free, <= 0 owned). Any IRQL. */
LONG KeReadStateMutant(PRKMUTANT Mutant)
{
    /* LAB 05: the signal state. */
    UNREFERENCED_PARAMETER(Mutant);
    KeNotImplemented("KeReadStateMutant", "lab 05");
    return 0;
}

/* KeInitializeMutex - a free mutant (Level is accepted and not used). */
VOID KeInitializeMutex(PRKMUTEX Mutex, ULONG Level)
{
    /* LAB 05: a free mutant. */
    UNREFERENCED_PARAMETER(Mutex);
    UNREFERENCED_PARAMETER(Level);
    KeNotImplemented("KeInitializeMutex", "lab 05");
}

/* KeReleaseMutex - KeReleaseMutant(Mutex, MUTANT_INCREMENT, FALSE, Wait). */
LONG KeReleaseMutex(PRKMUTEX Mutex, BOOLEAN Wait)
{
    /* LAB 05: a mutant release. */
    UNREFERENCED_PARAMETER(Mutex);
    UNREFERENCED_PARAMETER(Wait);
    KeNotImplemented("KeReleaseMutex", "lab 05");
    return 0;
}

/* KeReadStateMutex - the SignalState. */
LONG KeReadStateMutex(PRKMUTEX Mutex)
{
    /* LAB 05: the signal state. */
    UNREFERENCED_PARAMETER(Mutex);
    KeNotImplemented("KeReadStateMutex", "lab 05");
    return 0;
}

/*
 * KeRundownThread - the current thread is ending: release every mutant it still owns as
 * abandoned (KeReleaseMutant with Abandoned TRUE), first owned first.
 * Contract: called by the framework (PsTerminateSystemThread) at PASSIVE_LEVEL, only when
 * the thread's MutantListHead is not empty; it is empty afterwards.
 */
VOID KeRundownThread(VOID)
{
    /* LAB 05: abandon every mutant the thread still owns. */
    KeNotImplemented("KeRundownThread", "lab 05");
}
