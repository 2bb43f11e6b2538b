/* ke.h - kernel core: IRQL, trap frames, bugcheck, processor state. What only the kernel
 * core (kernel/ke, kernel/arch) uses is in kernel/ke/ki.h. */
#pragma once

#include "ntdef.h"

#define NTLAB_VERSION "0.1"

/* ---- IRQL (kept in CR8) ---- */
typedef UCHAR KIRQL, *PKIRQL;
#define PASSIVE_LEVEL 0
#define LOW_LEVEL 0
#define APC_LEVEL 1
#define DISPATCH_LEVEL 2
#define CLOCK_LEVEL 13
#define IPI_LEVEL 14
#define HIGH_LEVEL 15

KIRQL KeGetCurrentIrql(VOID);
VOID KeRaiseIrql(KIRQL NewIrql, PKIRQL OldIrql);
VOID KeLowerIrql(KIRQL NewIrql);
KIRQL KeRaiseIrqlToDpcLevel(VOID);

/* ---- Trap frame, as built by KiTrapCommon (trap.asm) and KiSystemCall64 (syscall.asm) ----
 * One layout for exceptions, interrupts and system services. PreviousIrql is the IRQL
 * (CR8) the interrupted code ran at; an interrupt restores it on exit. PreviousMode is the
 * thread's PreviousMode before this entry (restored on exit); the mode the trapped code
 * ran in is SegCs & 3 (3: user). Vector is KI_SYSCALL_VECTOR for a system service. A frame
 * taken from user mode sits at the top of the thread's kernel stack (KTHREAD.TrapFrame). */
#define KI_SYSCALL_VECTOR 0x100
typedef struct _KTRAP_FRAME {
    ULONG64 PreviousIrql;
    ULONG64 PreviousMode;
    ULONG64 R15, R14, R13, R12, R11, R10, R9, R8;
    ULONG64 Rbp, Rdi, Rsi, Rdx, Rcx, Rbx, Rax;
    ULONG64 Vector;
    ULONG64 ErrorCode;
    ULONG64 Rip, SegCs, EFlags, Rsp, SegSs;
} KTRAP_FRAME, *PKTRAP_FRAME;

/* ---- Bugcheck ---- */
DECLSPEC_NORETURN VOID KeBugCheckEx(ULONG BugCheckCode, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3, ULONG_PTR P4);
DECLSPEC_NORETURN VOID KeBugCheck(ULONG BugCheckCode);
PCSTR KeBugCheckCodeName(ULONG BugCheckCode);

/* The stack the current code runs on: [*Low, *High). */
VOID KeGetCurrentStackBounds(PULONG_PTR Low, PULONG_PTR High);
/* The bounds of the stack that contains StackPointer (boot stack, double-fault stack). */
VOID KeGetStackBoundsFor(ULONG_PTR StackPointer, PULONG_PTR Low, PULONG_PTR High);

#include "kethread.h"

/* The command line given through fw_cfg or multiboot2. */
extern CHAR KeLoaderCommandLine[512];

/* What the loader hands the kernel (built from multiboot2 by KiSystemStartup). */
struct _MM_BOOT_MEMORY;
struct _MM_BOOT_MODULE;
typedef struct _LOADER_PARAMETER_BLOCK {
    ULONG64 MultibootInfo;                 /* physical address of the multiboot2 information */
    struct _MM_BOOT_MEMORY *Memory;        /* usable and reserved physical ranges */
    ULONG ModuleCount;
    struct _MM_BOOT_MODULE *Modules;
    PCSTR CommandLine;                     /* fw_cfg opt/ntlab/cmdline, else multiboot2's */
} LOADER_PARAMETER_BLOCK, *PLOADER_PARAMETER_BLOCK;
extern LOADER_PARAMETER_BLOCK KeLoaderBlock;
