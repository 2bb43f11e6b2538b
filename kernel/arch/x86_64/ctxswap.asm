; ctxswap.asm - KiSwapContext: switch the processor from one thread's kernel stack to
; another's, and KiThreadStartup: where a new thread begins.
;
; KiSwapContext(Old, New) runs with interrupts disabled. It pushes the callee-saved
; registers on Old's stack, saves Old's FXSAVE image and RSP (KTHREAD.KernelStack),
; loads New's, and returns on New's stack: into New's own KiSwapContext call, or, for a
; new thread, into KiThreadStartup (see KiInitializeThreadStack in ke/thread.c).
; The switch frame, from the saved RSP up: r15 r14 r13 r12 rbx rbp, return address.

section .text
bits 64
extern KiStartThread
extern KiSwapContextOffsets

%define KTHREAD_KernelStack  [rel KiSwapContextOffsets + 0]
%define KTHREAD_FxSaveArea   [rel KiSwapContextOffsets + 8]

global KiSwapContext:function (KiSwapContext.end - KiSwapContext)
KiSwapContext:
    push rbp
    mov rbp, rsp
    push rbx
    push r12
    push r13
    push r14
    push r15
    mov rax, KTHREAD_FxSaveArea
    fxsave64 [rdi + rax]
    mov rax, KTHREAD_KernelStack
    mov [rdi + rax], rsp
    mov rsp, [rsi + rax]
    mov rax, KTHREAD_FxSaveArea
    fxrstor64 [rsi + rax]
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret
.end:

; A new thread's first return lands here with r12 = StartRoutine, r13 = StartContext,
; at DISPATCH_LEVEL with interrupts disabled. The zero frame pointer ends its backtrace.
global KiThreadStartup:function (KiThreadStartup.end - KiThreadStartup)
KiThreadStartup:
    xor ebp, ebp
    mov rdi, r12
    mov rsi, r13
    push rbp                               ; a zero return address: the chain ends here
    push rbp
    mov rbp, rsp
    call KiStartThread
    ud2
.end:
