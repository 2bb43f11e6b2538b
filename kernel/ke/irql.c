/* irql.c - IRQL kept in CR8 (the local APIC's task priority): raise, lower, query.
 * Raising to a lower level or lowering to a higher one is a bugcheck, as on NT. Lowering
 * below APC_LEVEL or DISPATCH_LEVEL delivers the software interrupts pending there. */
#include "bugcodes.h"
#include "ki.h"

KIRQL KeGetCurrentIrql(VOID)
{
    return (KIRQL)__readcr8();
}

VOID KeRaiseIrql(KIRQL NewIrql, PKIRQL OldIrql)
{
    KIRQL old = KeGetCurrentIrql();
    if (NewIrql < old || NewIrql > HIGH_LEVEL)
        KeBugCheckEx(IRQL_NOT_GREATER_OR_EQUAL, old, NewIrql, 0, 0);
    __writecr8(NewIrql);
    *OldIrql = old;
}

VOID KeLowerIrql(KIRQL NewIrql)
{
    KIRQL old = KeGetCurrentIrql();
    if (NewIrql > old)
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, old, NewIrql, 0, 0);
    __writecr8(NewIrql);
    /* With interrupts disabled (a framework lock at the caller's IRQL) they stay pending:
     * the lock's release or the next interrupt's exit delivers them. */
    if (NewIrql < DISPATCH_LEVEL && (KeGetCurrentPrcb()->SoftwareInterruptPending >> NewIrql) > 1 &&
        (__readeflags() & EFLAGS_IF))
        KiDeliverSoftwareInterrupts(NewIrql);
}

KIRQL KeRaiseIrqlToDpcLevel(VOID)
{
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    return old;
}
