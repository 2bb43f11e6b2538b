/* wow64cpu.S - the switch between the modes (wow64cpu.dll's role), 64-bit code of the wow64
 * layer, linked below 4 GiB so that 32-bit code can name it in a far pointer.
 *
 * Wow64SystemServiceEntry: a 32-bit ntdll stub's `lcall *Wow64Transition` lands here in
 * 64-bit mode (CS 0x33) with EAX = the service number and EDX = its argument slots on the
 * 32-bit stack, which holds the far return address (EIP, CS 0x23). We switch to the thread's
 * 64-bit stack (its TEB's TLS slot WOW64_TLS_STACKPTR64, GS:[0x200]: each thread has its own),
 * keep the 32-bit ESP on it, call Wow64SystemServiceDispatch (Microsoft x64 convention: RCX,
 * RDX), go back to the 32-bit stack and far-return to compatibility mode with the status in
 * EAX. EBX, ESI, EDI, EBP survive: the 64-bit convention preserves RBX, RSI, RDI, RBP.
 *
 * Wow64SwitchTo32(Entry32, Stack32): the thread's first entry to 32-bit code: the current
 * 64-bit stack becomes the one its system calls come back to, DS and ES get the flat user data
 * selector, FS the 32-bit TEB's (0x53: its base is this thread's TEB32, set by the kernel's
 * context switch), and a far return enters Entry32 at CS 0x23 on Stack32. */
	.text
	.code64

	.globl Wow64SystemServiceEntry
	.p2align 4
Wow64SystemServiceEntry:
	movl %esp, %esp                       /* RSP = the 32-bit ESP (the upper half is not defined) */
	movq %rsp, %r8
	movq %gs:0x200, %rsp                  /* TlsSlots[WOW64_TLS_STACKPTR64] */
	pushq %r8                             /* the 32-bit stack, on the thread's own 64-bit stack */
	movl %eax, %ecx                       /* the service number */
	movl %edx, %edx                       /* the slots: a 32-bit pointer, zero-extended */
	subq $32, %rsp                        /* home space, 16-byte alignment at the call */
	call Wow64SystemServiceDispatch
	addq $32, %rsp
	popq %rsp
	lretl                                 /* EIP, CS (32-bit each): back to compatibility mode */

	.globl Wow64SwitchTo32
	.p2align 4
Wow64SwitchTo32:
	movq %rsp, %gs:0x200                  /* TlsSlots[WOW64_TLS_STACKPTR64] */
	movl $0x2B, %eax
	movl %eax, %ds
	movl %eax, %es
	movl $0x53, %eax                      /* FS: the 32-bit TEB's selector */
	movl %eax, %fs
	movl %edx, %esp                       /* the 32-bit stack: [0 (return)] [argument] */
	subl $8, %esp
	movl %ecx, (%rsp)                     /* EIP */
	movl $0x23, 4(%rsp)                   /* CS: 32-bit user code */
	lretl

/* w16x: Wow64JumpTo32(Eip32, Esp32): a far return into 32-bit code at Eip32 with ESP = Esp32
 * (the 64-bit stack the system calls use is left as it is): how the exception path enters
 * ntdll32's KiUserExceptionDispatcher. */
	.globl Wow64JumpTo32
	.p2align 4
Wow64JumpTo32:
	movl $0x2B, %eax
	movl %eax, %ds
	movl %eax, %es
	movl $0x53, %eax
	movl %eax, %fs
	movl %edx, %esp
	subl $8, %esp
	movl %ecx, (%rsp)                     /* EIP */
	movl $0x23, 4(%rsp)                   /* CS */
	lretl
