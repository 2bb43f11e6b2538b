; usercode.asm - ring-3 code for the tests of lab 08 (the framework's own user programs:
; the PE programs of user/ come through the loader). Each routine is position-independent
; (relative jumps only, no absolute address): a test copies the bytes between
; KtUserCodeStart and KtUserCodeEnd to a user page and starts a thread at a routine's
; offset. They reach the kernel only through `syscall` with numbers the test writes into
; the parameter block (never a number written here), as ntdll's stubs do:
;   mov r10, rcx / mov eax, number / syscall.
;
; KtUserRun(PARAMS *P (RCX)): runs P->Count steps, then NtTerminateProcess(-1, P->ExitStatus).
;   PARAMS: +0x00 Count, +0x08 ExitStatus, +0x10 the NtTerminateProcess number,
;           +0x40 the steps, KT_STEP_SIZE bytes each:
;     +0x00 Rax      the service number (all 64 bits go to RAX)
;     +0x08 Rsp      0: call from our own stack, arguments 4.. copied above the home slots;
;                    else RSP is set to this value for the syscall (the test filled it)
;     +0x10 Args[16]
;     +0x90 Result   RAX after the syscall (written by the step)
;     +0x98 Kind     0 syscall; 1 write a byte at Args[0]; 2 read a byte at Args[0];
;                    3 call Args[0]; 4 ud2; 5 int3; 6 hlt; 7 divide by zero; 8 int 0x2E;
;                    9 read Args[1] bytes at Args[0] one per page (each byte summed in Result)
;     +0xA0 Done     1 once the step finished (a step that faults never sets it)
;     +0xA8 Preserved 1 if rbx, rbp, rsi, rdi, r12-r15 survived the syscall
KT_STEP_SIZE equ 0xC0

section .rodata
align 4096
global KtUserCodeStart, KtUserCodeEnd, KtUserRunOffset, KtUserFuzzOffset
KtUserCodeStart:

KtUserRun:
    mov r15, rcx                           ; PARAMS
    xor r14d, r14d                         ; step index
.next:
    cmp r14, [r15]
    jae .finish
    mov r13, r14
    imul r13, r13, KT_STEP_SIZE
    lea r13, [r15 + 0x40 + r13]            ; the step
    mov rax, [r13 + 0x98]
    test rax, rax
    jz .syscall
    cmp rax, 1
    je .write
    cmp rax, 2
    je .read
    cmp rax, 3
    je .call
    cmp rax, 4
    je .ud2
    cmp rax, 5
    je .int3
    cmp rax, 6
    je .hlt
    cmp rax, 7
    je .div
    cmp rax, 8
    je .int2e
    cmp rax, 9
    je .readpages
    jmp .done
.write:
    mov rdi, [r13 + 0x10]
    mov byte [rdi], 0x5A
    jmp .done
.read:
    mov rdi, [r13 + 0x10]
    movzx eax, byte [rdi]
    mov [r13 + 0x90], rax
    jmp .done
.call:
    mov rax, [r13 + 0x10]
    call rax
    jmp .done
.ud2:
    ud2
.int3:
    int3
    jmp .done
.hlt:
    hlt
    jmp .done
.div:
    xor edx, edx
    xor eax, eax
    xor ecx, ecx
    div rcx
    jmp .done
.int2e:
    int 0x2E
    jmp .done
.readpages:
    mov rdi, [r13 + 0x10]
    mov rcx, [r13 + 0x18]
    xor edx, edx
.rp_loop:
    test rcx, rcx
    jz .rp_end
    movzx eax, byte [rdi]
    add rdx, rax
    add rdi, 4096
    sub rcx, 4096
    ja .rp_loop
.rp_end:
    mov [r13 + 0x90], rdx
    jmp .done
.syscall:
    ; marks in the nonvolatile registers, checked after the call
    mov rbx, 0x1111111111111111
    mov rbp, 0x2222222222222222
    mov rsi, 0x3333333333333333
    mov rdi, 0x4444444444444444
    mov r12, rsp
    cmp qword [r13 + 0x08], 0
    jne .own_rsp
    sub rsp, 0x28 + 12 * 8 + 8             ; home slots + arguments 4..15, 16-aligned + 8 as after a call
    xor ecx, ecx
.copy_args:
    mov rax, [r13 + 0x10 + 32 + rcx * 8]
    mov [rsp + 0x28 + rcx * 8], rax
    inc ecx
    cmp ecx, 12
    jb .copy_args
    jmp .load
.own_rsp:
    mov rsp, [r13 + 0x08]
.load:
    mov r10, [r13 + 0x10]
    mov rdx, [r13 + 0x18]
    mov r8, [r13 + 0x20]
    mov r9, [r13 + 0x28]
    mov rax, [r13 + 0x00]
    syscall
    mov rsp, r12
    mov [r13 + 0x90], rax
    xor eax, eax
    mov rcx, 0x1111111111111111
    cmp rbx, rcx
    jne .clobbered
    mov rcx, 0x2222222222222222
    cmp rbp, rcx
    jne .clobbered
    mov rcx, 0x3333333333333333
    cmp rsi, rcx
    jne .clobbered
    mov rcx, 0x4444444444444444
    cmp rdi, rcx
    jne .clobbered
    mov eax, 1
.clobbered:
    mov [r13 + 0xA8], rax
.done:
    mov qword [r13 + 0xA0], 1
    inc r14
    jmp .next
.finish:
    mov r10, -1
    mov rdx, [r15 + 0x08]
    mov rax, [r15 + 0x10]
    sub rsp, 0x28
    syscall
    ud2                                    ; NtTerminateProcess(-1) does not return

KtUserCodeEnd:

section .rodata
align 8
KtUserRunOffset: dq KtUserRun - KtUserCodeStart
KtUserFuzzOffset: dq 0
