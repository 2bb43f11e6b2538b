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

; KtUserFuzz(FUZZ *F (RCX)): F->Iterations random system calls, counted by their status in
; F->Results, then NtTerminateProcess(-1, 0). Everything it needs is in F (read-only to it)
; and its registers; it writes only F->Results (a page of its own).
;   FUZZ: +0x00 Iterations, +0x08 Seed (xorshift64, not 0), +0x10 the table's Limit,
;         +0x18 AllowedCount, +0x20 Results (user address), +0x28 ValueMask (2^k - 1),
;         +0x30 RspMask (2^k - 1), +0x38 the NtTerminateProcess number,
;         +0x40 Allowed[64] (service numbers), +0x240 Values[64], +0x440 RspValues[16]
;   Results: +0x00 calls, +0x08 STATUS_SUCCESS, +0x10 STATUS_ACCESS_VIOLATION,
;         +0x18 STATUS_INVALID_SYSTEM_SERVICE, +0x20 STATUS_DATATYPE_MISALIGNMENT,
;         +0x28 other statuses, +0x30 RAX with bits above 31 (must stay 0), +0x38 the last
;         number called, +0x40 calls from a user RSP of the table, +0x48 invalid numbers tried,
;         +0x50 the seed at the end, +0x58 done (1)
KtUserFuzz:
    mov r13, rcx                           ; FUZZ
    mov r12, [r13 + 0x20]                  ; Results
    mov r15, [r13 + 0x08]                  ; rng
    xor r14d, r14d                         ; calls made
    mov rbx, rsp
    and rsp, -16
    sub rsp, 0x100                         ; our own argument area
    mov rbp, rsp
.loop:
    cmp r14, [r13]
    jae .end
    ; xorshift64
    mov rax, r15
    shl rax, 13
    xor r15, rax
    mov rax, r15
    shr rax, 7
    xor r15, rax
    mov rax, r15
    shl rax, 17
    xor r15, rax
    ; the number: 1 in 4 invalid
    mov rax, r15
    test al, 3
    jnz .valid
    inc qword [r12 + 0x48]
    mov rcx, r15
    shr rcx, 2
    and ecx, 3
    jz .inv_near
    cmp ecx, 1
    je .inv_random
    cmp ecx, 2
    je .inv_high
    mov eax, 0xFFFFFFFF
    jmp .number_done
.inv_near:
    mov rax, r15
    shr rax, 8
    and eax, 0xFFF
    add rax, [r13 + 0x10]
    jmp .number_done
.inv_random:
    mov rax, r15
    shr rax, 20
    mov ecx, eax
    or ecx, 0x10000                        ; past any table
    mov eax, ecx
    jmp .number_done
.inv_high:
    mov rax, r15
    shr rax, 9
    shl rax, 32
    add rax, [r13 + 0x10]
    jmp .number_done
.valid:
    mov rax, r15
    shr rax, 8
    and eax, 0xFFFF
    xor edx, edx
    div qword [r13 + 0x18]                 ; rdx = index
    mov rax, [r13 + 0x40 + rdx * 8]
    test r15, 0x400                        ; sometimes with garbage in RAX's upper half
    jz .number_done
    mov rcx, r15
    shl rcx, 32
    or rax, rcx
.number_done:
    mov [rbp + 0xF8], rax                  ; the number, kept across the argument loop
    ; sixteen arguments: 1 in 4 fully random, else one of the interesting values
    xor ecx, ecx
.arg:
    mov rax, r15
    shl rax, 13
    xor r15, rax
    mov rax, r15
    shr rax, 7
    xor r15, rax
    mov rax, r15
    shl rax, 17
    xor r15, rax
    mov rax, r15
    test al, 3
    jz .arg_store
    shr rax, 2
    and rax, [r13 + 0x28]
    mov rax, [r13 + 0x240 + rax * 8]
.arg_store:
    mov [rbp + 0x28 + rcx * 8 - 32], rax   ; args 0..3 at rbp+0x08.., 4.. at rbp+0x28..
    inc ecx
    cmp ecx, 16
    jb .arg
    ; RSP: 1 in 8 calls from one of the table's stack pointers
    mov rsi, rbp
    mov rax, r15
    shr rax, 30
    test al, 7
    jnz .rsp_done
    shr rax, 3
    and rax, [r13 + 0x30]
    mov rsi, [r13 + 0x440 + rax * 8]
    inc qword [r12 + 0x40]
.rsp_done:
    mov r10, [rbp + 0x08]
    mov rdx, [rbp + 0x10]
    mov r8, [rbp + 0x18]
    mov r9, [rbp + 0x20]
    mov rax, [rbp + 0xF8]
    mov [r12 + 0x38], rax
    mov rdi, rsp
    mov rsp, rsi
    syscall
    mov rsp, rdi
    inc r14
    mov [r12], r14
    mov rcx, rax
    shr rcx, 32
    jz .low
    inc qword [r12 + 0x30]
.low:
    cmp eax, 0
    je .c_success
    cmp eax, 0xC0000005
    je .c_av
    cmp eax, 0xC000001C
    je .c_invalid
    cmp eax, 0x80000002
    je .c_misaligned
    inc qword [r12 + 0x28]
    jmp .loop
.c_success:
    inc qword [r12 + 0x08]
    jmp .loop
.c_av:
    inc qword [r12 + 0x10]
    jmp .loop
.c_invalid:
    inc qword [r12 + 0x18]
    jmp .loop
.c_misaligned:
    inc qword [r12 + 0x20]
    jmp .loop
.end:
    mov [r12 + 0x50], r15
    mov qword [r12 + 0x58], 1
    mov rsp, rbx
    mov r10, -1
    xor edx, edx
    mov rax, [r13 + 0x38]
    sub rsp, 0x28
    syscall
    ud2

; KtUserBench(BENCH *B (RCX)): B->Count system calls with RAX = B->Number (arguments: zeros
; in registers, the stack's argument slots zero), then NtTerminateProcess(-1, 0).
;   BENCH: +0x00 Count, +0x08 Number, +0x10 the NtTerminateProcess number
KtUserBench:
    mov r13, rcx
    mov r14, [r13]
    and rsp, -16
    sub rsp, 0x28 + 12 * 8 + 8
    mov rdi, rsp
    xor eax, eax
    mov ecx, (0x28 + 12 * 8) / 8
    rep stosq
.loop:
    test r14, r14
    jz .end
    xor r10d, r10d
    xor edx, edx
    xor r8d, r8d
    xor r9d, r9d
    mov rax, [r13 + 0x08]
    syscall
    dec r14
    jmp .loop
.end:
    mov r10, -1
    xor edx, edx
    mov rax, [r13 + 0x10]
    syscall
    ud2

KtUserCodeEnd:

section .rodata
align 8
KtUserRunOffset: dq KtUserRun - KtUserCodeStart
KtUserFuzzOffset: dq KtUserFuzz - KtUserCodeStart
global KtUserBenchOffset
KtUserBenchOffset: dq KtUserBench - KtUserCodeStart
