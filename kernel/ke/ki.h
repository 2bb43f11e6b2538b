/* ki.h - private to the kernel core (kernel/ke, kernel/arch): processor setup, trap
 * dispatch, the thread table, software interrupt delivery, context switching, the clock's
 * side of the timer table. */
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

/* ---- Processor setup (arch/x86_64) and traps ---- */
VOID KiInitializeGdt(VOID);
VOID KiInitializeIdt(VOID);
VOID KiInitializeSyscall(VOID);
VOID KiSetKernelStackTop(ULONG64 Top);
#define KGDT64_R3_CMTEB 0x53 /* lab 09: the 32-bit TEB's data segment, RPL 3 (FS in compatibility mode) */
VOID KiSetTeb32Base(ULONG Base);
/* Lab 08: leaves for user mode through Frame (KiTrapExit's restore and iretq). */
DECLSPEC_NORETURN VOID KiStartUserThread(PKTRAP_FRAME Frame);
/* Lab 08: an exception taken in user mode ends the process with its code (ps/process.c). */
DECLSPEC_NORETURN VOID PspRaiseUserException(NTSTATUS Code, ULONG64 Address, ULONG64 Info0, ULONG64 Info1);
VOID KiDispatchTrap(PKTRAP_FRAME TrapFrame);
/* w16x (ke/exceptn.c): an exception taken in user mode goes to the process's ntdll
 * (KiUserExceptionDispatcher) with its EXCEPTION_RECORD and CONTEXT on the user stack; if the
 * process has no dispatcher or the stack cannot take them, the process ends with the code. */
VOID KiDispatchUserException(PKTRAP_FRAME TrapFrame, NTSTATUS Code, ULONG64 Address, ULONG NumberParameters,
                             ULONG64 Info0, ULONG64 Info1);
/* A frame NtContinue/NtRaiseException rewrote: it leaves by iretq with every register as
 * written (syscall.asm; KiSystemServiceEntry does not store the status in its RAX). */
#define KI_CONTEXT_VECTOR 0x101
DECLSPEC_NORETURN VOID KiBugCheckWithTrapFrame(ULONG BugCheckCode, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3,
                                               ULONG_PTR P4, PKTRAP_FRAME TrapFrame);

/* ---- The timer table (ke/timertab.c; its storage and lab 04's side are in ketimer.h) ---- */
/* The table's lists start empty. */
VOID KiInitializeTimerTable(VOID);
/* Called by the clock interrupt (CLOCK_LEVEL) each tick: if the table's list for this
 * tick holds a timer, queues the timer expiration DPC (KeInsertQueueDpc), whose routine
 * calls KiTimerExpiration at DISPATCH_LEVEL - as NT's clock interrupt does. An empty list
 * costs nothing (and never calls a stubbed lab 04). */
VOID KiCheckTimerTable(PKPRCB Prcb);
extern KDPC KiTimerExpirationDpc;

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
/* Lab 08: TSS.Rsp0/KPCR.RspBase, the user GS base and CR3 for New (before the switch). */
VOID KiPrepareAddressSpace(PKTHREAD New);
extern ULONG64 KiKernelDirectoryTableBase;

/* The thread whose guard page holds Va (NULL if none). */
PKTHREAD KiFindGuardPageOwner(ULONG_PTR Va);
/* The thread whose stack (or guard page) holds Va. */
PKTHREAD KiFindStackOwner(ULONG_PTR Va);

