; syscall.asm - KiSystemCall64, where `syscall` from 64-bit user mode enters the kernel.
; The CPU leaves the user RIP in RCX and RFLAGS in R11, masks IF (SFMASK) and keeps the
; user RSP. We swap GS to the KPCR, switch to the thread's kernel stack (KPCR.RspBase,
; the same top TSS.Rsp0 holds), and build the same KTRAP_FRAME an interrupt from user
; mode would (ke.h), with Vector KI_SYSCALL_VECTOR, so that it lands exactly at
; KTHREAD.TrapFrame. KiSystemServiceEntry (ke/service.c) runs the service with interrupts
; on and stores its status in the frame's RAX. The return restores every register from the
; frame (nothing of the kernel's leaks to user mode) and leaves by sysret, or by iretq when
; the frame no longer fits sysret (another CS, a non-canonical or kernel RIP).

%include "kernel/arch/x86_64/ktrapframe.inc"

KI_SYSCALL_VECTOR equ 0x100
KGDT64_R3_DATA equ 0x2B
KGDT64_R3_CODE equ 0x33

section .text
bits 64
extern KiSystemServiceEntry, KiTrapExit, KiSystemCall32Entry

global KiSystemCall64:function (KiSystemCall64.end - KiSystemCall64)
KiSystemCall64:
    swapgs
    mov [gs:0x10], rsp                     ; KPCR.UserRsp
    mov rsp, [gs:0x18]                     ; KPCR.RspBase
    push qword KGDT64_R3_DATA              ; SS
    push qword [gs:0x10]                   ; RSP
    push r11                               ; RFLAGS
    push qword KGDT64_R3_CODE              ; CS
    push rcx                               ; RIP
    push qword 0                           ; error code
    push qword KI_SYSCALL_VECTOR
    KI_PUSH_GPRS
    sub rsp, 16                            ; PreviousIrql, PreviousMode
    mov qword [rsp], 0
    xor ebp, ebp                           ; backtraces end at the user boundary
    cld
    mov rdi, rsp
    sti
    call KiSystemServiceEntry
    cli
    cmp qword [rsp + 16 + 15 * 8], KI_SYSCALL_VECTOR
    jne .iret                              ; NtContinue/NtRaiseException rewrote the frame (RCX, R11 too)
    mov rax, [rsp + 16 + 15 * 8 + 16 + 8]  ; CS
    cmp rax, KGDT64_R3_CODE
    jne .iret
    mov rax, [rsp + 16 + 15 * 8 + 16]      ; RIP: a user address (canonical) for sysret
    shr rax, 47
    jnz .iret
    add rsp, 16
    KI_POP_GPRS
    add rsp, 16                            ; vector, error code
    mov rcx, [rsp]                         ; RIP
    mov r11, [rsp + 16]                    ; RFLAGS
    mov rsp, [rsp + 24]                    ; the user RSP
    swapgs
    o64 sysret
.iret:
    jmp KiTrapExit
.end:

; A syscall from compatibility mode: not a way into the kernel here (lab 09's 32-bit code
; reaches the kernel through its 64-bit layer); the process ends with an illegal instruction.
global KiSystemCall32:function (KiSystemCall32.end - KiSystemCall32)
KiSystemCall32:
    swapgs
    mov [gs:0x10], rsp
    mov rsp, [gs:0x18]
    push qword KGDT64_R3_DATA | 0          ; SS (the 32-bit code's own is 0x2B too)
    push qword [gs:0x10]
    push r11
    push qword 0x23
    push rcx
    push qword 0
    push qword KI_SYSCALL_VECTOR
    KI_PUSH_GPRS
    sub rsp, 16
    mov qword [rsp], 0
    xor ebp, ebp
    cld
    mov rdi, rsp
    sti
    call KiSystemCall32Entry
    ud2
.end:
