/* ntdef.h - basic NT types, status codes and list helpers shared by the whole kernel. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef void VOID, *PVOID;
typedef uint8_t UCHAR, *PUCHAR, BOOLEAN, *PBOOLEAN;
typedef uint16_t USHORT, *PUSHORT, WCHAR;
typedef uint32_t ULONG, *PULONG;
typedef int32_t LONG, *PLONG;
typedef unsigned long long ULONG64, *PULONG64, ULONGLONG;
typedef long long LONG64, LONGLONG;
typedef unsigned long long ULONG_PTR, *PULONG_PTR;
typedef size_t SIZE_T, *PSIZE_T;
typedef long long LONG_PTR;
typedef char CHAR, *PCHAR;
typedef const char *PCSTR;
typedef LONG NTSTATUS;

#define TRUE 1
#define FALSE 0
#ifndef NULL
#define NULL ((void *)0)
#endif

#define NT_SUCCESS(s) ((NTSTATUS)(s) >= 0)

/* Documented NTSTATUS values used by the kernel. */
#define STATUS_SUCCESS               ((NTSTATUS)0x00000000L)
#define STATUS_UNSUCCESSFUL          ((NTSTATUS)0xC0000001L)
#define STATUS_NOT_IMPLEMENTED       ((NTSTATUS)0xC0000002L)
#define STATUS_ACCESS_VIOLATION      ((NTSTATUS)0xC0000005L)
#define STATUS_INVALID_PARAMETER     ((NTSTATUS)0xC000000DL)
#define STATUS_NO_MEMORY             ((NTSTATUS)0xC0000017L)
#define STATUS_CONFLICTING_ADDRESSES ((NTSTATUS)0xC0000018L)
#define STATUS_ILLEGAL_INSTRUCTION   ((NTSTATUS)0xC000001DL)
#define STATUS_INTEGER_DIVIDE_BY_ZERO ((NTSTATUS)0xC0000094L)
#define STATUS_INSUFFICIENT_RESOURCES ((NTSTATUS)0xC000009AL)
#define STATUS_NOT_FOUND             ((NTSTATUS)0xC0000225L)
/* Lab 05 (dispatcher objects). */
#define STATUS_MUTANT_NOT_OWNED      ((NTSTATUS)0xC0000046L)
#define STATUS_SEMAPHORE_LIMIT_EXCEEDED ((NTSTATUS)0xC0000047L)
#define STATUS_MUTANT_LIMIT_EXCEEDED ((NTSTATUS)0xC0000191L)
#define STATUS_BREAKPOINT            ((NTSTATUS)0x80000003L)
/* Lab 06 (the object manager). */
#define STATUS_REPARSE               ((NTSTATUS)0x00000104L)
#define STATUS_OBJECT_NAME_EXISTS    ((NTSTATUS)0x40000000L)
#define STATUS_INVALID_HANDLE        ((NTSTATUS)0xC0000008L)
#define STATUS_ACCESS_DENIED         ((NTSTATUS)0xC0000022L)
#define STATUS_OBJECT_TYPE_MISMATCH  ((NTSTATUS)0xC0000024L)
#define STATUS_OBJECT_NAME_INVALID   ((NTSTATUS)0xC0000033L)
#define STATUS_OBJECT_NAME_NOT_FOUND ((NTSTATUS)0xC0000034L)
#define STATUS_OBJECT_NAME_COLLISION ((NTSTATUS)0xC0000035L)
#define STATUS_OBJECT_PATH_NOT_FOUND ((NTSTATUS)0xC000003AL)
#define STATUS_OBJECT_PATH_SYNTAX_BAD ((NTSTATUS)0xC000003BL)
#define STATUS_HANDLE_NOT_CLOSABLE   ((NTSTATUS)0xC0000235L)
#define STATUS_REPARSE_POINT_NOT_RESOLVED ((NTSTATUS)0xC0000280L)
/* Lab 07: the I/O manager. */
#define STATUS_PENDING               ((NTSTATUS)0x00000103L)
#define STATUS_CONTINUE_COMPLETION   STATUS_SUCCESS
#define STATUS_BUFFER_OVERFLOW       ((NTSTATUS)0x80000005L)
#define STATUS_INVALID_DEVICE_REQUEST ((NTSTATUS)0xC0000010L)
#define STATUS_END_OF_FILE           ((NTSTATUS)0xC0000011L)
#define STATUS_MORE_PROCESSING_REQUIRED ((NTSTATUS)0xC0000016L)
#define STATUS_BUFFER_TOO_SMALL      ((NTSTATUS)0xC0000023L)
#define STATUS_DEVICE_DATA_ERROR     ((NTSTATUS)0xC000009CL)
#define STATUS_CANCELLED             ((NTSTATUS)0xC0000120L)
/* img (lab 08: user images, the boot file system, the checkpoint harness's record service) */
#define STATUS_NOT_SUPPORTED         ((NTSTATUS)0xC00000BBL)
#define STATUS_INVALID_IMAGE_FORMAT  ((NTSTATUS)0xC000007BL)
#define STATUS_INVALID_IMAGE_NOT_MZ  ((NTSTATUS)0xC000012FL)
#define STATUS_INVALID_IMAGE_WIN_32   ((NTSTATUS)0xC0000359L)
#define STATUS_INVALID_IMAGE_WIN_64   ((NTSTATUS)0xC0000269L)
#define STATUS_DLL_NOT_FOUND         ((NTSTATUS)0xC0000135L)
#define STATUS_ENTRYPOINT_NOT_FOUND  ((NTSTATUS)0xC0000139L)
#define STATUS_IMAGE_TOO_LARGE       ((NTSTATUS)0xC0000040L) /* NT: STATUS_SECTION_TOO_BIG */

#define ARRAYSIZE(a) (sizeof(a) / sizeof((a)[0]))
#define UNREFERENCED_PARAMETER(p) ((void)(p))
#define DECLSPEC_NORETURN __attribute__((noreturn))
#define DECLSPEC_NOINLINE __attribute__((noinline))
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((ULONG64)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((ULONG64)(a) - 1))

/* Doubly linked list, NT style. */
typedef struct _LIST_ENTRY {
    struct _LIST_ENTRY *Flink;
    struct _LIST_ENTRY *Blink;
} LIST_ENTRY, *PLIST_ENTRY;

#define CONTAINING_RECORD(address, type, field) \
    ((type *)((PUCHAR)(address) - offsetof(type, field)))

static inline VOID InitializeListHead(PLIST_ENTRY Head) { Head->Flink = Head->Blink = Head; }
static inline BOOLEAN IsListEmpty(const LIST_ENTRY *Head) { return Head->Flink == Head; }
static inline VOID InsertTailList(PLIST_ENTRY Head, PLIST_ENTRY Entry)
{
    Entry->Flink = Head;
    Entry->Blink = Head->Blink;
    Head->Blink->Flink = Entry;
    Head->Blink = Entry;
}
static inline VOID InsertHeadList(PLIST_ENTRY Head, PLIST_ENTRY Entry)
{
    Entry->Flink = Head->Flink;
    Entry->Blink = Head;
    Head->Flink->Blink = Entry;
    Head->Flink = Entry;
}
static inline VOID RemoveEntryList(PLIST_ENTRY Entry)
{
    Entry->Blink->Flink = Entry->Flink;
    Entry->Flink->Blink = Entry->Blink;
}
