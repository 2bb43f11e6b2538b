/* stopdata.h - what the kernel keeps of a STOP for a debugger (ke/stopdata.c). */
#pragma once

#include "ke.h"

/* KiBugCheckData[0] = the code, [1..4] = the parameters (as on NT); 0 until a STOP. */
extern ULONG64 KiBugCheckData[5];
/* The trap frame of a STOP raised by a trap, NULL otherwise. */
extern PKTRAP_FRAME KiBugCheckTrapFrame;
VOID KiRecordBugCheck(ULONG BugCheckCode, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3, ULONG_PTR P4,
                      PKTRAP_FRAME TrapFrame);
/* Ends the run after a STOP: through isa-debug-exit, or, with onstop=halt on the command
 * line, by halting for good (the host attaches GDB or saves a dump). */
DECLSPEC_NORETURN VOID KiEndRunAfterBugCheck(VOID);
