/* ntexcept.h - user-mode exception dispatch (lab 09, w16x): NT's EXCEPTION_RECORD and CONTEXT
 * in both layouts - the native one (NT x64, "64") and the i386 one a WOW64 thread's 32-bit
 * code sees ("32") - and the 32-bit SEH registration record. Only fixed-width types: the
 * kernel, the wow64 layer, both ntdlls and the test programs (user/include/ntexcept.h)
 * include this one file. Offsets in the comments are NT's; the static asserts hold them.
 *
 * The path of one exception (handouts/09-wow64.md):
 *   kernel  (kernel/ke/exceptn.c) an exception in user mode: EXCEPTION_RECORD64 + CONTEXT64
 *           copied onto the user stack, the thread resumed at ntdll64's KiUserExceptionDispatcher
 *           with RSP -> [CONTEXT64 (0x4D0)][EXCEPTION_RECORD64 (0x98)];
 *   ntdll64 (user/ntdll/except.c) the thread was in compatibility mode (SegCs 0x23): the wow64
 *           layer's Wow64PrepareForException, else NtRaiseException second chance;
 *   wow64   (user/wow64/wow64except.c, the student's labs/09-wow64/exception.c) converts to
 *           EXCEPTION_RECORD32 + CONTEXT32, lays them on the 32-bit stack below the faulting
 *           ESP as NT x86's kernel does - ESP -> [&record32][&context32][EXCEPTION_RECORD32]
 *           [CONTEXT32] - and far-returns to ntdll32's KiUserExceptionDispatcher at CS 0x23;
 *   ntdll32 walks the FS:[0] chain; a handler's ExceptionContinueExecution -> NtContinue(CONTEXT32)
 *           (the thunk converts it back: CS 0x23), the end of the chain -> NtRaiseException
 *           second chance: the process ends with the code. */
#pragma once

#define EXCEPTION_MAXIMUM_PARAMETERS 15
#define EXCEPTION_NONCONTINUABLE 0x01
#define EXCEPTION_UNWINDING 0x02
#define EXCEPTION_NESTED_CALL 0x10
#define EXCEPTION_CHAIN_END32 0xFFFFFFFFu

/* A handler's answer (EXCEPTION_DISPOSITION). */
#define ExceptionContinueExecution 0
#define ExceptionContinueSearch 1
#define ExceptionNestedException 2
#define ExceptionCollidedUnwind 3

/* ContextFlags */
#define CONTEXT_AMD64 0x00100000u
#define CONTEXT_AMD64_CONTROL (CONTEXT_AMD64 | 0x1u)    /* SegSs, Rsp, SegCs, Rip, EFlags */
#define CONTEXT_AMD64_INTEGER (CONTEXT_AMD64 | 0x2u)    /* Rax..R15 but Rsp */
#define CONTEXT_AMD64_SEGMENTS (CONTEXT_AMD64 | 0x4u)   /* SegDs, SegEs, SegFs, SegGs */
#define CONTEXT_AMD64_FULL (CONTEXT_AMD64_CONTROL | CONTEXT_AMD64_INTEGER | CONTEXT_AMD64_SEGMENTS)
#define CONTEXT_i386 0x00010000u
#define CONTEXT_i386_CONTROL (CONTEXT_i386 | 0x1u)      /* SegSs, Esp, SegCs, Eip, EFlags, Ebp */
#define CONTEXT_i386_INTEGER (CONTEXT_i386 | 0x2u)      /* Edi, Esi, Ebx, Edx, Ecx, Eax */
#define CONTEXT_i386_SEGMENTS (CONTEXT_i386 | 0x4u)     /* SegDs, SegEs, SegFs, SegGs */
#define CONTEXT_i386_FULL (CONTEXT_i386_CONTROL | CONTEXT_i386_INTEGER | CONTEXT_i386_SEGMENTS)

/* The user selectors (the GDT of kernel/arch/x86_64/gdt.c, RPL 3). */
#define KGDT64_R3_CMCODE_SEL 0x23   /* 32-bit code: compatibility mode */
#define KGDT64_R3_DATA_SEL 0x2B     /* flat data, also SS */
#define KGDT64_R3_CODE_SEL 0x33     /* 64-bit code */
#define KGDT64_R3_CMTEB_SEL 0x53    /* FS of 32-bit code: its TEB32 */

typedef struct _EXCEPTION_RECORD64 {     /* NT x64's EXCEPTION_RECORD: 0x98 bytes */
    ULONG ExceptionCode;                 /* 0x00 NTSTATUS */
    ULONG ExceptionFlags;                /* 0x04 EXCEPTION_NONCONTINUABLE... */
    ULONG64 ExceptionRecord;             /* 0x08 the nested record, or 0 */
    ULONG64 ExceptionAddress;            /* 0x10 the faulting instruction */
    ULONG NumberParameters;              /* 0x18 valid entries of ExceptionInformation (<= 15) */
    ULONG __unusedAlignment;             /* 0x1C */
    ULONG64 ExceptionInformation[EXCEPTION_MAXIMUM_PARAMETERS]; /* 0x20 AV: access (0/1/8), address */
} EXCEPTION_RECORD64, *PEXCEPTION_RECORD64;

typedef struct _EXCEPTION_RECORD32 {     /* NT x86's EXCEPTION_RECORD: 0x50 bytes */
    ULONG ExceptionCode;                 /* 0x00 */
    ULONG ExceptionFlags;                /* 0x04 */
    ULONG ExceptionRecord;               /* 0x08 a 32-bit pointer */
    ULONG ExceptionAddress;              /* 0x0C */
    ULONG NumberParameters;              /* 0x10 */
    ULONG ExceptionInformation[EXCEPTION_MAXIMUM_PARAMETERS]; /* 0x14 */
} EXCEPTION_RECORD32, *PEXCEPTION_RECORD32;

typedef struct __attribute__((aligned(16))) _CONTEXT64 { /* NT x64's CONTEXT: 0x4D0 bytes */
    ULONG64 P1Home, P2Home, P3Home, P4Home, P5Home, P6Home; /* 0x00 */
    ULONG ContextFlags;                  /* 0x30 */
    ULONG MxCsr;                         /* 0x34 */
    USHORT SegCs;                        /* 0x38 0x33, or 0x23 in compatibility mode */
    USHORT SegDs, SegEs, SegFs, SegGs;   /* 0x3A 0x3C 0x3E 0x40 */
    USHORT SegSs;                        /* 0x42 */
    ULONG EFlags;                        /* 0x44 */
    ULONG64 Dr0, Dr1, Dr2, Dr3, Dr6, Dr7; /* 0x48 */
    ULONG64 Rax, Rcx, Rdx, Rbx;          /* 0x78 0x80 0x88 0x90 */
    ULONG64 Rsp, Rbp, Rsi, Rdi;          /* 0x98 0xA0 0xA8 0xB0 */
    ULONG64 R8, R9, R10, R11, R12, R13, R14, R15; /* 0xB8 .. 0xF0 */
    ULONG64 Rip;                         /* 0xF8 */
    UCHAR FltSave[512];                  /* 0x100 XMM_SAVE_AREA32 (not captured here) */
    UCHAR VectorRegister[26 * 16];       /* 0x300 */
    ULONG64 VectorControl;               /* 0x4A0 */
    ULONG64 DebugControl, LastBranchToRip, LastBranchFromRip, LastExceptionToRip, LastExceptionFromRip; /* 0x4A8 */
} CONTEXT64, *PCONTEXT64;

typedef struct _CONTEXT32 {              /* NT x86's CONTEXT (WOW64_CONTEXT): 0x2CC bytes */
    ULONG ContextFlags;                  /* 0x00 CONTEXT_i386 | ... */
    ULONG Dr0, Dr1, Dr2, Dr3, Dr6, Dr7;  /* 0x04 */
    UCHAR FloatSave[112];                /* 0x1C FLOATING_SAVE_AREA (not captured here) */
    ULONG SegGs, SegFs, SegEs, SegDs;    /* 0x8C 0x90 0x94 0x98 */
    ULONG Edi, Esi, Ebx, Edx, Ecx, Eax;  /* 0x9C 0xA0 0xA4 0xA8 0xAC 0xB0 */
    ULONG Ebp, Eip, SegCs, EFlags, Esp, SegSs; /* 0xB4 0xB8 0xBC 0xC0 0xC4 0xC8 */
    UCHAR ExtendedRegisters[512];        /* 0xCC */
} CONTEXT32, *PCONTEXT32;

/* One record of the 32-bit SEH chain (FS:[0] holds the first; EXCEPTION_CHAIN_END32 ends it). */
typedef struct _EXCEPTION_REGISTRATION_RECORD32 {
    ULONG Next;                          /* the next record, or 0xFFFFFFFF */
    ULONG Handler;                       /* ULONG __cdecl Handler(EXCEPTION_RECORD32 *, PVOID EstablisherFrame,
                                            CONTEXT32 *, PVOID DispatcherContext) */
} EXCEPTION_REGISTRATION_RECORD32, *PEXCEPTION_REGISTRATION_RECORD32;

/* The start of the 32-bit TEB (NT_TIB32), what FS:[0..0x18] reads. */
typedef struct _NT_TIB32_W {
    ULONG ExceptionList;                 /* 0x00 FS:[0] */
    ULONG StackBase;                     /* 0x04 */
    ULONG StackLimit;                    /* 0x08 */
    ULONG SubSystemTib, FiberData, ArbitraryUserPointer; /* 0x0C */
    ULONG Self;                          /* 0x18 */
} NT_TIB32_W;

_Static_assert(sizeof(EXCEPTION_RECORD64) == 0x98, "EXCEPTION_RECORD64 is NT x64's 0x98 bytes");
_Static_assert(sizeof(EXCEPTION_RECORD32) == 0x50, "EXCEPTION_RECORD32 is NT x86's 0x50 bytes");
_Static_assert(sizeof(CONTEXT64) == 0x4D0, "CONTEXT64 is NT x64's 0x4D0 bytes");
_Static_assert(sizeof(CONTEXT32) == 0x2CC, "CONTEXT32 is NT x86's 0x2CC bytes");
_Static_assert(__builtin_offsetof(CONTEXT64, SegCs) == 0x38 && __builtin_offsetof(CONTEXT64, EFlags) == 0x44 &&
               __builtin_offsetof(CONTEXT64, Rax) == 0x78 && __builtin_offsetof(CONTEXT64, Rsp) == 0x98 &&
               __builtin_offsetof(CONTEXT64, Rip) == 0xF8, "NT x64 CONTEXT offsets");
_Static_assert(__builtin_offsetof(CONTEXT32, SegGs) == 0x8C && __builtin_offsetof(CONTEXT32, Edi) == 0x9C &&
               __builtin_offsetof(CONTEXT32, Eip) == 0xB8 && __builtin_offsetof(CONTEXT32, SegSs) == 0xC8,
               "NT x86 CONTEXT offsets");
_Static_assert(__builtin_offsetof(EXCEPTION_RECORD64, ExceptionInformation) == 0x20 &&
               __builtin_offsetof(EXCEPTION_RECORD32, ExceptionInformation) == 0x14, "record offsets");

/* The native names, for the code built for one mode. */
#ifdef __x86_64__
typedef EXCEPTION_RECORD64 EXCEPTION_RECORD, *PEXCEPTION_RECORD;
typedef CONTEXT64 CONTEXT, *PCONTEXT;
#else
typedef EXCEPTION_RECORD32 EXCEPTION_RECORD, *PEXCEPTION_RECORD;
typedef CONTEXT32 CONTEXT, *PCONTEXT;
#endif

/* ---- The services (user/services.def, block w16x; kernel/ke/exceptn.c) ----
 * NtContinue: the thread resumes with every register of Context (sanitised: CS 0x33, or 0x23
 * for compatibility mode; SS 0x2B; IF set, no IOPL; a 64-bit RIP/RSP outside user space is
 * refused with STATUS_INVALID_PARAMETER). Does not return on success.
 * NtRaiseException: FirstChance TRUE - dispatched as if raised at Context->Rip (to
 * KiUserExceptionDispatcher); FALSE - the process ends with ExceptionCode. NumberParameters
 * above 15: STATUS_INVALID_PARAMETER. Does not return on success. */
NTSTATUS NtContinue(PCONTEXT Context, BOOLEAN TestAlert);
NTSTATUS NtRaiseException(PEXCEPTION_RECORD ExceptionRecord, PCONTEXT Context, BOOLEAN FirstChance);

#ifdef __x86_64__
/* ---- Lab 09, exceptions in 32-bit code (student code: labs/09-wow64/exception.c) ----
 * The wow64 layer's conversions between the native layouts and the i386 ones (see the
 * contracts there). Each returns STATUS_SUCCESS, or an error with its output untouched. */
NTSTATUS Wow64ExceptionRecordTo32(const EXCEPTION_RECORD64 *Record, PEXCEPTION_RECORD32 Record32);
NTSTATUS Wow64ContextTo32(const CONTEXT64 *Context, PCONTEXT32 Context32);
NTSTATUS Wow64ContextFrom32(const CONTEXT32 *Context32, PCONTEXT64 Context);
NTSTATUS Wow64ExceptionRecordFrom32(const EXCEPTION_RECORD32 *Record32, PEXCEPTION_RECORD64 Record);
#endif
