; trap.asm - interrupt and exception entry stubs.
; Every vector pushes (error code or 0) and its number, then KiTrapCommon saves the
; general registers and makes room for PreviousIrql and PreviousMode to form a KTRAP_FRAME
; (see ke.h), and calls KiDispatchTrap(frame). The frame is a multiple of 16 bytes, so
; the call is made with the stack aligned as the ABI wants. A trap from user mode (the
; saved CS has RPL 3) arrives on the thread's kernel stack (TSS.Rsp0) and swaps GS to the
; KPCR on entry and back to the TEB on exit (swapgs). KiTrapExit is also how a new user
; thread first enters ring 3 (KiStartUserThread).

%include "kernel/arch/x86_64/ktrapframe.inc"

section .text
bits 64
extern KiDispatchTrap

%macro TRAP_NOERR 1
KiTrap%1:
    push qword 0
    push qword %1
    jmp KiTrapCommon
%endmacro

%macro TRAP_ERR 1
KiTrap%1:
    push qword %1
    jmp KiTrapCommon
%endmacro

; exceptions that push an error code: 8, 10-14, 17, 21, 29, 30
%assign i 0
%rep 256
%if i = 8 || (i >= 10 && i <= 14) || i = 17 || i = 21 || i = 29 || i = 30
TRAP_ERR i
%else
TRAP_NOERR i
%endif
%assign i i + 1
%endrep

global KiTrapCommon:function (KiTrapCommon.end - KiTrapCommon)
KiTrapCommon:
    test byte [rsp + 24], 3                ; CS of the interrupted code
    jz .kernel_entry
    swapgs
.kernel_entry:
    KI_PUSH_GPRS
    sub rsp, 16                            ; PreviousIrql, Reserved
    cld
    mov rdi, rsp
    call KiDispatchTrap
.exit:
    add rsp, 16
    KI_POP_GPRS
    add rsp, 16
    test byte [rsp + 8], 3
    jz .kernel_exit
    swapgs
.kernel_exit:
    iretq
.end:

; KiStartUserThread(PKTRAP_FRAME Frame): a new user thread leaves for ring 3 through the
; frame prepared at the top of its kernel stack (interrupts off until iretq loads RFLAGS).
global KiTrapExit
KiTrapExit equ KiTrapCommon.exit

global KiStartUserThread:function (KiStartUserThread.end - KiStartUserThread)
KiStartUserThread:
    cli
    mov rsp, rdi
    jmp KiTrapExit
.end:

section .rodata
global KiTrapStubs
align 8
KiTrapStubs:
%assign i 0
%rep 256
    dq KiTrap %+ i
%assign i i + 1
%endrep
