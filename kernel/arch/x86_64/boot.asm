; boot.asm - multiboot2 header and the 32-bit entry point.
; GRUB enters KiBootEntry32 in protected mode with paging off. We build boot page
; tables (identity map and physical map of the first 4 GiB, the kernel image at
; KERNEL_VMA), enable long mode, and jump to KiBootEntry64 in the higher half,
; which calls KiSystemStartup(magic, multiboot_info_physical).

KERNEL_VMA      equ 0xFFFFFFFF80000000
MB2_MAGIC       equ 0xE85250D6
MB2_BOOT_MAGIC  equ 0x36D76289
BOOT_STACK_SIZE equ 65536
DOUBLE_FAULT_STACK_SIZE equ 16384
extern KiBootStackGuardPhysical, KiDoubleFaultStackGuardPhysical

section .multiboot2 progbits alloc noexec nowrite align=8
mb2_header:
    dd MB2_MAGIC
    dd 0                                   ; architecture: i386 protected mode
    dd mb2_header_end - mb2_header
    dd -(MB2_MAGIC + 0 + (mb2_header_end - mb2_header))
    dw 0, 0                                ; end tag
    dd 8
mb2_header_end:

section .boot.bss nobits alloc noexec write align=4096
boot_pml4:      resb 4096
boot_pdpt_low:  resb 4096                  ; PML4[0] and PML4[256]: 4 GiB of 2 MiB pages
boot_pdpt_high: resb 4096                  ; PML4[511]: -2 GiB -> physical 0
boot_pd:        resb 4096 * 4
boot_pd_high:   resb 4096                  ; -2 GiB: the image's 8 MiB in 4 KiB pages, then 2 MiB pages
boot_pt_image:  resb 4096 * 4              ; physical 0 .. 8 MiB, 4 KiB pages (the stacks' guard pages unmapped)
boot_stack32:   resb 4096
boot_stack32_top:

section .boot.data progbits alloc noexec nowrite align=16   ; read-only in the ELF; the CPU may still set accessed bits
boot_gdt:
    dq 0
    dq 0x00AF9A000000FFFF                  ; 0x08: 64-bit code
    dq 0x00CF92000000FFFF                  ; 0x10: data
boot_gdt_end:
boot_gdt_ptr:
    dw boot_gdt_end - boot_gdt - 1
    dd boot_gdt

section .boot.text progbits alloc exec nowrite align=16
bits 32
global KiBootEntry32
KiBootEntry32:
    cli
    mov esp, boot_stack32_top
    mov edi, eax                           ; multiboot2 magic
    mov esi, ebx                           ; physical address of the boot information
    cmp edi, MB2_BOOT_MAGIC
    jne .fail_magic
    ; long mode available?
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb .fail_lm
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 29
    jz .fail_lm

    ; zero the boot page tables
    push edi
    mov edi, boot_pml4
    mov ecx, (4096 * 10) / 4
    xor eax, eax
    rep stosd
    pop edi

    ; 2048 PDEs of 2 MiB each: physical 0 .. 4 GiB (present, writable, large)
    xor ecx, ecx
.fill_pd:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83
    mov [boot_pd + ecx * 8], eax
    mov eax, ecx
    shr eax, 11
    mov [boot_pd + ecx * 8 + 4], eax
    inc ecx
    cmp ecx, 2048
    jb .fill_pd

    ; PDPT low: four page directories
    mov eax, boot_pd + 0x3
    mov [boot_pdpt_low + 0], eax
    add eax, 4096
    mov [boot_pdpt_low + 8], eax
    add eax, 4096
    mov [boot_pdpt_low + 16], eax
    add eax, 4096
    mov [boot_pdpt_low + 24], eax
    ; PDPT high: entry 510 maps -2 GiB to physical 0 .. 1 GiB through its own page directory:
    ; the first 8 MiB (the image) in 4 KiB pages, so that the guard pages below the boot
    ; stack and the double-fault stack can be left unmapped; the rest in 2 MiB pages.
    xor ecx, ecx
.fill_pt:
    mov eax, ecx
    shl eax, 12
    or eax, 0x3
    mov [boot_pt_image + ecx * 8], eax
    inc ecx
    cmp ecx, 2048
    jb .fill_pt
    mov eax, KiBootStackGuardPhysical
    shr eax, 12
    mov dword [boot_pt_image + eax * 8], 0
    mov eax, KiDoubleFaultStackGuardPhysical
    shr eax, 12
    mov dword [boot_pt_image + eax * 8], 0
    mov dword [boot_pd_high + 0], boot_pt_image + 0x3
    mov dword [boot_pd_high + 8], boot_pt_image + 4096 + 0x3
    mov dword [boot_pd_high + 16], boot_pt_image + 2 * 4096 + 0x3
    mov dword [boot_pd_high + 24], boot_pt_image + 3 * 4096 + 0x3
    mov ecx, 4
.fill_pd_high:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83
    mov [boot_pd_high + ecx * 8], eax
    inc ecx
    cmp ecx, 512
    jb .fill_pd_high
    mov dword [boot_pdpt_high + 510 * 8], boot_pd_high + 0x3
    ; PML4: identity (removed once in the higher half), physical map, kernel image
    mov eax, boot_pdpt_low + 0x3
    mov [boot_pml4 + 0], eax
    mov [boot_pml4 + 256 * 8], eax
    mov dword [boot_pml4 + 511 * 8], boot_pdpt_high + 0x3

    mov eax, cr4
    or eax, (1 << 5)                       ; PAE
    mov cr4, eax
    mov eax, boot_pml4
    mov cr3, eax
    mov ecx, 0xC0000080                    ; EFER
    rdmsr
    or eax, (1 << 8) | (1 << 11)           ; LME, NXE
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | (1 << 16)          ; PG, WP
    mov cr0, eax
    lgdt [boot_gdt_ptr]
    jmp 0x08:.long_mode

.fail_magic:
    mov al, 'M'
    jmp .fail
.fail_lm:
    mov al, 'L'
.fail:
    mov dx, 0x3F8
    out dx, al
    mov al, 10
    out dx, al
    mov dx, 0xF4
    mov eax, 0x12
    out dx, eax
.hang:
    hlt
    jmp .hang

bits 64
.long_mode:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor ax, ax
    mov fs, ax
    mov gs, ax
    mov rax, KiBootEntry64
    jmp rax

section .text
extern KiSystemStartup
global KiBootEntry64:function (KiBootEntry64.end - KiBootEntry64)
global KiBootStack, KiBootStackTop
KiBootEntry64:
    mov rsp, KiBootStackTop
    xor ebp, ebp                           ; the frame chain ends here
    mov edi, edi                           ; zero-extend magic and boot info address
    mov esi, esi
    push rbp
    call KiSystemStartup
.halt:
    cli
    hlt
    jmp .halt
.end:

; The kernel's own stacks, each above an unmapped guard page (boot page tables above; the
; kernel's own tables leave them out too, mm/addrspace.c): a run-away recursion faults on
; the guard page instead of writing over the image below.
section .kstacks nobits alloc noexec write align=4096
global KiDoubleFaultStackGuard, KiDoubleFaultStack, KiDoubleFaultStackEnd, KiBootStackGuard
KiDoubleFaultStackGuard:
    resb 4096
KiDoubleFaultStack:
    resb DOUBLE_FAULT_STACK_SIZE
KiDoubleFaultStackEnd:
KiBootStackGuard:
    resb 4096
KiBootStack:
    resb BOOT_STACK_SIZE
KiBootStackTop:
