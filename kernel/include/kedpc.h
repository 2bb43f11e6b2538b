/* kedpc.h - what lab 04's DPC code uses beyond kethread.h (KDPC, the KPRCB queue and the
 * student prototypes live there): importance, and the DISPATCH_LEVEL software interrupt
 * request a queued DPC makes. */
#pragma once

#include "arch.h"
#include "ke.h"

VOID KeSetImportanceDpc(PKDPC Dpc, UCHAR Importance);

/* Framework (ke/swint.c): requests the APC_LEVEL or DISPATCH_LEVEL software interrupt,
 * delivered at once when the IRQL is below it, otherwise when the IRQL drops below it. */
VOID KiRequestSoftwareInterrupt(KIRQL Irql);
