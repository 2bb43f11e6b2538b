/* gate.c - the framework's own wait (a gate, like NT's KGATE): one waiter released per
 * signal, a signal without a waiter kept. Used by the framework (thread join, framework
 * ktests); it goes through the lab 05 hooks KiReadyThread and KiSelectNextThread. */
#include "kewait.h"
#include "ki.h"

VOID KeInitializeGate(PKGATE Gate)
{
    Gate->Header.Type = GateObject;
    Gate->Header.SignalState = 0;
    InitializeListHead(&Gate->Header.WaitListHead);
}

VOID KeSignalGate(PKGATE Gate)
{
    KIRQL old = KeRaiseIrqlToDpcLevel();
    if (!IsListEmpty(&Gate->Header.WaitListHead)) {
        PLIST_ENTRY e = Gate->Header.WaitListHead.Flink;
        RemoveEntryList(e);
        PKWAIT_BLOCK wb = CONTAINING_RECORD(e, KWAIT_BLOCK, WaitListEntry);
        PKTHREAD t = wb->Thread;
        t->WaitStatus = STATUS_SUCCESS;
        t->WaitBlockList = NULL;
        KiReadyThread(t);
    } else {
        Gate->Header.SignalState = 1;
    }
    KeLowerIrql(old);
}

VOID KeWaitForGate(PKGATE Gate, KWAIT_REASON WaitReason)
{
    KIRQL old = KeRaiseIrqlToDpcLevel();
again:
    if (Gate->Header.SignalState) {
        Gate->Header.SignalState = 0;
    } else {
        PKTHREAD t = KeGetCurrentThread();
        PKWAIT_BLOCK wb = &t->WaitBlock[THREAD_WAIT_OBJECTS];
        wb->Thread = t;
        wb->Object = Gate;
        wb->WaitKey = 0;
        wb->WaitType = WaitFramework;
        wb->NextWaitBlock = wb;
        InsertTailList(&Gate->Header.WaitListHead, &wb->WaitListEntry);
        t->WaitBlockList = wb;
        t->WaitStatus = STATUS_KERNEL_APC;
        t->WaitReason = (UCHAR)WaitReason;
        t->State = Waiting;
        KiSwapThread();
        /* Woken by a kernel APC (KiUnwaitThread, lab 05) rather than a signal: let the APC
         * run at the caller's IRQL, then wait again. */
        if (t->WaitStatus == STATUS_KERNEL_APC) {
            KeLowerIrql(old);
            old = KeRaiseIrqlToDpcLevel();
            goto again;
        }
    }
    KeLowerIrql(old);
}
