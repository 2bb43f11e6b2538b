/* ntuser.h - what user programs see of the native API: NT's base types, the structures the
 * kernel hands a new process (PEB, process parameters with the command line, NT x64 layout)
 * and the prototypes of the system services ntdll's generated stubs enter
 * (user/services.def). Freestanding: no C library, the Microsoft x64 calling convention. */
#pragma once

typedef unsigned char UCHAR, BOOLEAN, *PUCHAR;
typedef char CHAR, *PCHAR;
typedef const char *PCSTR;
typedef unsigned short USHORT, WCHAR, *PWCHAR;
typedef int LONG;
typedef unsigned int ULONG, *PULONG;
typedef long long LONG64;
typedef unsigned long long ULONG64, *PULONG64;
#ifdef __x86_64__
typedef unsigned long long ULONG_PTR, SIZE_T, *PSIZE_T;
#else /* lab 09: the same programs built 32-bit (user/wow64.mk) */
typedef unsigned long ULONG_PTR, SIZE_T, *PSIZE_T;
#endif
typedef void VOID, *PVOID, **PPVOID;
typedef PVOID HANDLE, *PHANDLE;
typedef LONG NTSTATUS;
typedef __SIZE_TYPE__ size_t;

#define TRUE 1
#define FALSE 0
#define NULL ((void *)0)
#define NT_SUCCESS(s) ((NTSTATUS)(s) >= 0)
#define STATUS_SUCCESS ((NTSTATUS)0x00000000)
#define STATUS_UNSUCCESSFUL ((NTSTATUS)0xC0000001)
#define STATUS_INVALID_PARAMETER ((NTSTATUS)0xC000000D)
#define NtCurrentProcess() ((HANDLE)(ULONG_PTR)-1)
#define NtCurrentThread() ((HANDLE)(ULONG_PTR)-2)

typedef struct _UNICODE_STRING {
    USHORT Length;          /* bytes, without a terminator */
    USHORT MaximumLength;
    PWCHAR Buffer;
} UNICODE_STRING, *PUNICODE_STRING;

/* NT x64's layout up to the fields used here (offsets in the comments). */
typedef struct _RTL_USER_PROCESS_PARAMETERS {
    ULONG MaximumLength, Length;            /* 0x00 */
    ULONG Flags, DebugFlags;                /* 0x08 */
    PVOID ConsoleHandle;                    /* 0x10 */
    ULONG ConsoleFlags;                     /* 0x18 */
    HANDLE StandardInput, StandardOutput, StandardError; /* 0x20 */
    UNICODE_STRING CurrentDirectoryPath;    /* 0x38 */
    HANDLE CurrentDirectoryHandle;          /* 0x48 */
    UNICODE_STRING DllPath;                 /* 0x50 */
    UNICODE_STRING ImagePathName;           /* 0x60 */
    UNICODE_STRING CommandLine;             /* 0x70 */
} RTL_USER_PROCESS_PARAMETERS, *PRTL_USER_PROCESS_PARAMETERS;

typedef struct _PEB {
    UCHAR InheritedAddressSpace, ReadImageFileExecOptions, BeingDebugged, BitField; /* 0x00 */
#ifdef __x86_64__
    UCHAR Padding0[4];
#endif
    HANDLE Mutant;                          /* 0x08 */
    PVOID ImageBaseAddress;                 /* 0x10 */
    PVOID Ldr;                              /* 0x18 */
    PRTL_USER_PROCESS_PARAMETERS ProcessParameters; /* 0x20 */
} PEB, *PPEB;

/* ---- System services (stubs generated from user/services.def) ---- */
NTSTATUS NtTerminateProcess(HANDLE ProcessHandle, NTSTATUS ExitStatus);
/* The checkpoint harness's record service (kernel/ps/usertest.c): Kind is one of
 * KTEST_RECORD_*, Text Length bytes of "key value" (VALUE), "check detail" (CHECK_OK /
 * CHECK_FAIL) or a line (PRINT). STATUS_INVALID_PARAMETER for a bad kind or length,
 * STATUS_ACCESS_VIOLATION for a bad buffer, STATUS_NOT_SUPPORTED outside a checkpoint. */
NTSTATUS NtKtestRecord(ULONG Kind, PCSTR Text, ULONG Length);
#define KTEST_RECORD_PRINT 0
#define KTEST_RECORD_VALUE 1
#define KTEST_RECORD_CHECK_OK 2
#define KTEST_RECORD_CHECK_FAIL 3
#define KTEST_RECORD_MAX_LENGTH 200
extern const ULONG NtServiceCount; /* the number of services (ntdll's generated table) */

/* ---- The tiny run-time library (user/ntdll/rtl.c) ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
/* Decimal or 0x-hex to a number; *End (if not NULL) past the last digit used. */
ULONG64 RtlStringToUlong64(PCSTR s, PCSTR *End);
/* snprintf over %s %c %d %i %u %x %llx %lld %llu %p %% (with widths and 0/- flags):
 * always terminated, returns the length written. */
int RtlFormatString(char *Buffer, size_t Size, PCSTR Format, ...) __attribute__((format(printf, 3, 4)));
int RtlFormatStringV(char *Buffer, size_t Size, PCSTR Format, __builtin_va_list Args);
