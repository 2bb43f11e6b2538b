; usercopy.asm - copying to and from user memory, and the exception-fixup table (the
; stand-in for NT's __try/__except around user accesses). Each instruction that touches
; a user address is listed in KiFixupTable with where to resume if it faults: the trap
; handler (ke/trap.c) looks a kernel-mode page fault or general protection fault up there
; before it bugchecks, and resumes at the fixup, which returns STATUS_ACCESS_VIOLATION.
; The routines are leaves (no frame of their own), so the fixup returns to their caller.

STATUS_ACCESS_VIOLATION equ 0xC0000005

section .text
bits 64

; NTSTATUS KeCopyFromUser(PVOID Destination, const VOID *UserSource, SIZE_T Length)
; NTSTATUS KeCopyToUser(VOID *UserDestination, const VOID *Source, SIZE_T Length)
global KeCopyFromUser:function (KeCopyFromUser.end - KeCopyFromUser)
KeCopyFromUser:
    mov rcx, rdx
.copy:
    rep movsb
    xor eax, eax
    ret
.end:

global KeCopyToUser:function (KeCopyToUser.end - KeCopyToUser)
KeCopyToUser:
    mov rcx, rdx
.copy:
    rep movsb
    xor eax, eax
    ret
.end:

; NTSTATUS KeTouchUserByteForWrite(volatile VOID *Address): read a byte, write it back.
global KeTouchUserByteForWrite:function (KeTouchUserByteForWrite.end - KeTouchUserByteForWrite)
KeTouchUserByteForWrite:
.read:
    mov al, [rdi]
.write:
    mov [rdi], al
    xor eax, eax
    ret
.end:

; NTSTATUS KeTouchUserByteForRead(const volatile VOID *Address)
global KeTouchUserByteForRead:function (KeTouchUserByteForRead.end - KeTouchUserByteForRead)
KeTouchUserByteForRead:
.read:
    mov al, [rdi]
    xor eax, eax
    ret
.end:

; Where every faulting user access resumes: the status in EAX, back to the caller.
global KiUserAccessFixup:function (KiUserAccessFixup.end - KiUserAccessFixup)
KiUserAccessFixup:
    mov eax, STATUS_ACCESS_VIOLATION
    ret
.end:

section .rodata
align 8
global KiFixupTable, KiFixupTableEnd
KiFixupTable:
    dq KeCopyFromUser.copy, KiUserAccessFixup
    dq KeCopyToUser.copy, KiUserAccessFixup
    dq KeTouchUserByteForWrite.read, KiUserAccessFixup
    dq KeTouchUserByteForWrite.write, KiUserAccessFixup
    dq KeTouchUserByteForRead.read, KiUserAccessFixup
KiFixupTableEnd:
