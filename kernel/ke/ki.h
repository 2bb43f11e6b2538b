/* ki.h - private to the kernel core (kernel/ke, kernel/arch): processor setup, the
 * thread table, software interrupt delivery, context switching. */
#pragma once

#include "arch.h"
#include "ke.h"
#include "kesched.h"

#define SWINT_APC (1U << APC_LEVEL)
#define SWINT_DISPATCH (1U << DISPATCH_LEVEL)

extern KPCR KiPcr;
extern KTHREAD KiInitialThread, KiIdleThread;
extern LIST_ENTRY KiThreadListHead;
extern volatile ULONG KiThreadCount;

VOID KiInitializePcr(VOID);
VOID KiInitializeThreads(VOID);
VOID KiInitializeClock(VOID);

/* Requests a software interrupt at Irql (APC_LEVEL or DISPATCH_LEVEL). */
VOID KiRequestSoftwareInterrupt(KIRQL Irql);
/* Delivers the pending software interrupts above NewIrql (enabling interrupts while each
 * runs); returns with the interrupt flag it found. */
VOID KiDeliverSoftwareInterrupts(KIRQL NewIrql);
VOID KiDispatchInterrupt(VOID);
VOID KiInterruptDispatch(PKTRAP_FRAME TrapFrame);
/* The framework's own interrupt objects (the clock), without lab 04's code. */
BOOLEAN KiConnectFrameworkInterrupt(PKINTERRUPT Interrupt, PKSERVICE_ROUTINE ServiceRoutine, PVOID ServiceContext,
                                    ULONG Vector);

/* Switches away from the current thread (at DISPATCH_LEVEL; it is Waiting, Ready or
 * Terminated): to Prcb->NextThread, else KiSelectNextThread's choice, else idle. */
VOID KiSwapThread(VOID);
/* Switches to New (interrupts are disabled around the switch). */
VOID KiSwitchTo(PKTHREAD New);
VOID KiSwapContext(PKTHREAD Old, PKTHREAD New);

/* The thread whose guard page holds Va (NULL if none). */
PKTHREAD KiFindGuardPageOwner(ULONG_PTR Va);
/* The thread whose stack (or guard page) holds Va. */
PKTHREAD KiFindStackOwner(ULONG_PTR Va);

