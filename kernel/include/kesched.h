/* kesched.h - what lab 05's dispatcher and wait code uses beyond kewait.h (KTHREAD, the
 * KPRCB's ready queues and the student prototypes live in kethread.h and kewait.h): the
 * framework's switch, the DISPATCH_LEVEL software interrupt request, and the stand-in
 * dispatcher the lab's stubs fall back on. */
#pragma once

#include "arch.h"
#include "kewait.h"

/* Framework (ke/swint.c): requests the APC_LEVEL or DISPATCH_LEVEL software interrupt,
 * delivered at once when the IRQL is below it, otherwise when the IRQL drops below it. */
VOID KiRequestSoftwareInterrupt(KIRQL Irql);

/* Framework (ke/thread.c): at DISPATCH_LEVEL, switches away from the current thread (it is
 * Waiting, Ready or Terminated) to Prcb->NextThread, else KiSelectNextThread's choice, else
 * the idle thread; returns when the thread runs again. */
VOID KiSwapThread(VOID);

/* Framework (ke/schedstub.c): what lab 05's stubbed dispatcher falls back on - one FIFO
 * queue, no priorities, no preemption, round robin at quantum end - so a kernel whose lab
 * 05 is a stub still runs threads and never hangs. The solution never calls these. */
VOID KiStubReadyThread(PKTHREAD Thread);
PKTHREAD KiStubSelectNextThread(PKPRCB Prcb);
VOID KiStubQuantumEnd(VOID);
