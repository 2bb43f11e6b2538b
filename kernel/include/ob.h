/* ob.h - the object manager (lab 06): object headers and types, handle tables, the
 * namespace (directories and symbolic links), and the Ob/Ex/Nt routines that use them.
 *
 * An object is [OBJECT_HEADER_NAME_INFO, if named][OBJECT_HEADER][body], one pool block.
 * The header counts pointer references (PointerCount) and handles (HandleCount); every
 * handle also holds one pointer reference, so PointerCount >= HandleCount always. A named
 * object in a directory holds one more reference for its directory entry, dropped when a
 * temporary object's last handle closes (its name leaves the namespace) or, for a
 * permanent object, when it is made temporary with no handle left.
 *
 * Names are counted 8-bit strings (STRING): the kernel has no wide-character formatter. */
#pragma once

#include "ex.h"
#include "ke.h"
#include "kewait.h"
#include "mm.h"

typedef ULONG ACCESS_MASK, *PACCESS_MASK;
typedef PVOID HANDLE, *PHANDLE;

/* Access rights (NT's values). */
#define DELETE                  0x00010000
#define READ_CONTROL            0x00020000
#define SYNCHRONIZE             0x00100000
#define STANDARD_RIGHTS_REQUIRED 0x000F0000
#define MAXIMUM_ALLOWED         0x02000000
#define DIRECTORY_QUERY         0x0001
#define DIRECTORY_TRAVERSE      0x0002
#define DIRECTORY_CREATE_OBJECT 0x0004
#define DIRECTORY_ALL_ACCESS    (STANDARD_RIGHTS_REQUIRED | 0xF)
#define SYMBOLIC_LINK_QUERY     0x0001
#define SYMBOLIC_LINK_ALL_ACCESS (STANDARD_RIGHTS_REQUIRED | 0x1)
#define EVENT_QUERY_STATE       0x0001
#define EVENT_MODIFY_STATE      0x0002
#define EVENT_ALL_ACCESS        (STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x3)
#define SEMAPHORE_QUERY_STATE   0x0001
#define SEMAPHORE_MODIFY_STATE  0x0002
#define SEMAPHORE_ALL_ACCESS    (STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x3)
#define MUTANT_QUERY_STATE      0x0001
#define MUTANT_ALL_ACCESS       (STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x1)
#define TIMER_QUERY_STATE       0x0001
#define TIMER_MODIFY_STATE      0x0002
#define TIMER_ALL_ACCESS        (STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x3)
#define PROCESS_DUP_HANDLE      0x0040
#define PROCESS_ALL_ACCESS      (STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0xFFFF)
#define THREAD_ALL_ACCESS       (STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0xFFFF)

/* OBJECT_ATTRIBUTES.Attributes (NT's values). */
#define OBJ_INHERIT          0x00000002
#define OBJ_PERMANENT        0x00000010
#define OBJ_CASE_INSENSITIVE 0x00000040
#define OBJ_OPENIF           0x00000080
#define OBJ_OPENLINK         0x00000100
#define OBJ_KERNEL_HANDLE    0x00000200
#define OBJ_VALID_ATTRIBUTES 0x000003F2

/* NtDuplicateObject options. */
#define DUPLICATE_CLOSE_SOURCE    0x00000001
#define DUPLICATE_SAME_ACCESS     0x00000002
#define DUPLICATE_SAME_ATTRIBUTES 0x00000004

/* The pseudo-handles: the current process and the current thread. */
#define NtCurrentProcess() ((HANDLE)(LONG_PTR)-1)
#define NtCurrentThread()  ((HANDLE)(LONG_PTR)-2)
/* A kernel handle (OBJ_KERNEL_HANDLE) is an index into the system process's table with
 * the sign bit set, as on NT x64: 0xFFFFFFFF80000000 | value. */
#define KERNEL_HANDLE_MASK 0xFFFFFFFF80000000ULL
#define ObpIsKernelHandle(h) \
    (((ULONG_PTR)(h) & KERNEL_HANDLE_MASK) == KERNEL_HANDLE_MASK && (h) != NtCurrentProcess() && (h) != NtCurrentThread())
#define ObMarkHandleAsKernelHandle(h) ((HANDLE)((ULONG_PTR)(h) | KERNEL_HANDLE_MASK))
#define ObKernelHandleToHandle(h) ((HANDLE)((ULONG_PTR)(h) & ~KERNEL_HANDLE_MASK))

typedef struct _STRING {
    USHORT Length;          /* bytes, no terminator */
    USHORT MaximumLength;
    PCHAR Buffer;
} STRING, *PSTRING, ANSI_STRING, *PANSI_STRING;
VOID RtlInitString(PSTRING String, PCSTR Source);

typedef struct _OBJECT_ATTRIBUTES {
    HANDLE RootDirectory;   /* a directory handle the name is relative to, or NULL */
    PSTRING ObjectName;     /* NULL: an unnamed object */
    ULONG Attributes;       /* OBJ_* */
} OBJECT_ATTRIBUTES, *POBJECT_ATTRIBUTES;
#define InitializeObjectAttributes(p, n, a, r) \
    do { (p)->RootDirectory = (r); (p)->ObjectName = (n); (p)->Attributes = (a); } while (0)

struct _EPROCESS;
struct _OBJECT_TYPE;

/* ---- Type methods (the documented call counts are part of the contract) ----
 * Open: once for every handle created (ObInsertObject, ObOpenObjectByName, a duplicate),
 *   after the counts were raised, with the object's new HandleCount.
 * Close: once for every handle closed, before the counts drop, with the HandleCount the
 *   object had (1: the last handle is closing).
 * Delete: exactly once, when PointerCount reaches 0, before the memory is freed.
 * Parse: when a lookup reaches an object of this type with name left over: gets the rest
 *   of the path (RemainingName, without its leading '\'); returns STATUS_SUCCESS with a
 *   referenced *Object, or STATUS_REPARSE with *CompleteName replaced by a new full path. */
typedef enum _OB_OPEN_REASON { ObCreateHandle = 0, ObOpenHandle = 1, ObDuplicateHandle = 2 } OB_OPEN_REASON;
typedef NTSTATUS (*OB_OPEN_METHOD)(OB_OPEN_REASON Reason, struct _EPROCESS *Process, PVOID Object,
                                   ACCESS_MASK GrantedAccess, ULONG HandleCount);
typedef VOID (*OB_CLOSE_METHOD)(struct _EPROCESS *Process, PVOID Object, ACCESS_MASK GrantedAccess,
                                ULONG HandleCount);
typedef VOID (*OB_DELETE_METHOD)(PVOID Object);
typedef NTSTATUS (*OB_PARSE_METHOD)(PVOID ParseObject, struct _OBJECT_TYPE *ObjectType, ACCESS_MASK DesiredAccess,
                                    ULONG Attributes, PSTRING CompleteName, PSTRING RemainingName, PVOID *Object);

typedef struct _OBJECT_TYPE_INITIALIZER {
    ACCESS_MASK ValidAccessMask;
    POOL_TYPE PoolType;
    ULONG PoolTag;
    OB_OPEN_METHOD OpenProcedure;
    OB_CLOSE_METHOD CloseProcedure;
    OB_DELETE_METHOD DeleteProcedure;
    OB_PARSE_METHOD ParseProcedure;
} OBJECT_TYPE_INITIALIZER, *POBJECT_TYPE_INITIALIZER;

typedef struct _OBJECT_TYPE {
    CHAR Name[24];
    ULONG Index;                    /* in ObpObjectTypes */
    volatile LONG TotalNumberOfObjects;
    volatile LONG TotalNumberOfHandles;
    OBJECT_TYPE_INITIALIZER TypeInfo;
} OBJECT_TYPE, *POBJECT_TYPE;

/* ---- The header ---- */
#define OB_MAX_NAME 64
typedef struct _OBJECT_HEADER_NAME_INFO {
    struct _OBJECT_DIRECTORY *Directory; /* the directory holding the name, NULL if none */
    STRING Name;                         /* Buffer = NameBuffer */
    CHAR NameBuffer[OB_MAX_NAME];
} OBJECT_HEADER_NAME_INFO, *POBJECT_HEADER_NAME_INFO;

#define OB_FLAG_PERMANENT   0x10         /* keeps its name after the last handle closes */
#define OB_FLAG_KERNEL_ONLY 0x02         /* created with OBJ_KERNEL_HANDLE */
#define OB_HEADER_SIGNATURE 0x6A624F     /* "Obj" */
typedef struct _OBJECT_HEADER {
    volatile LONG_PTR PointerCount;
    volatile LONG_PTR HandleCount;
    POBJECT_TYPE Type;
    UCHAR NameInfoOffset;                /* bytes from the name info to the header; 0: none */
    UCHAR Flags;                         /* OB_FLAG_* */
    USHORT Reserved;
    ULONG Signature;                     /* OB_HEADER_SIGNATURE while the object lives */
    ULONG64 Body;                        /* the object itself starts here */
} OBJECT_HEADER, *POBJECT_HEADER;
#define OBJECT_TO_OBJECT_HEADER(o) CONTAINING_RECORD((o), OBJECT_HEADER, Body)
#define OBJECT_HEADER_TO_NAME_INFO(h) \
    ((h)->NameInfoOffset ? (POBJECT_HEADER_NAME_INFO)((PUCHAR)(h) - (h)->NameInfoOffset) : NULL)

/* ---- Directories and symbolic links ---- */
#define NUMBER_HASH_BUCKETS 37
typedef struct _OBJECT_DIRECTORY_ENTRY {
    struct _OBJECT_DIRECTORY_ENTRY *ChainLink;
    PVOID Object;
    ULONG HashValue;
} OBJECT_DIRECTORY_ENTRY, *POBJECT_DIRECTORY_ENTRY;
typedef struct _OBJECT_DIRECTORY {
    POBJECT_DIRECTORY_ENTRY HashBuckets[NUMBER_HASH_BUCKETS];
    ULONG EntryCount;
} OBJECT_DIRECTORY, *POBJECT_DIRECTORY;
#define OB_DIRECTORY_ENTRY_TAG POOL_TAG('O', 'b', 'D', 'i')

typedef struct _OBJECT_SYMBOLIC_LINK {
    STRING LinkTarget;                   /* Buffer = TargetBuffer */
    CHAR TargetBuffer[OB_MAX_NAME * 2];
} OBJECT_SYMBOLIC_LINK, *POBJECT_SYMBOLIC_LINK;

/* A lookup follows at most this many symbolic links and STATUS_REPARSE returns. */
#define OBJ_MAX_REPARSE_ATTEMPTS 32

/* ---- Handle tables (NT's three levels) ----
 * A handle is (index << 2); its two low bits are tag bits, ignored. The low-level table is
 * one page of LOWLEVEL_COUNT entries; a mid-level table is a page of MIDLEVEL_COUNT pointers
 * to low-level tables; the top-level table a page of pointers to mid-level tables. The low
 * two bits of TableCode are the level (0: TableCode is a low-level table, 1: a mid-level
 * table, 2: a top-level table). Index 0 of every low-level table is never handed out. */
#define LOWLEVEL_COUNT (PAGE_SIZE / sizeof(HANDLE_TABLE_ENTRY))   /* 256 */
#define MIDLEVEL_COUNT (PAGE_SIZE / sizeof(PVOID))                 /* 512 */
#define HIGHLEVEL_COUNT (PAGE_SIZE / sizeof(PVOID))                /* 512 */
#define LEVEL_CODE_MASK 3
#define HANDLE_VALUE_INC 4
#define MAX_HANDLE_INDEX (LOWLEVEL_COUNT * MIDLEVEL_COUNT * HIGHLEVEL_COUNT)

/* Attribute bits in the low bits of HANDLE_TABLE_ENTRY.Object (headers are 16-byte aligned). */
#define OBJ_PROTECT_CLOSE       0x1
#define OBJ_HANDLE_INHERIT      0x2
#define OBJ_HANDLE_ATTRIBUTES   0x7
typedef struct _HANDLE_TABLE_ENTRY {
    union {
        ULONG_PTR ObAttributes;          /* in use: the POBJECT_HEADER | OBJ_PROTECT_CLOSE | OBJ_HANDLE_INHERIT */
        PVOID Object;                    /* 0 when free */
    };
    union {
        ACCESS_MASK GrantedAccess;       /* in use */
        ULONG NextFreeTableEntry;        /* free: the next free handle value, 0 ends the list */
    };
    ULONG Spare;
} HANDLE_TABLE_ENTRY, *PHANDLE_TABLE_ENTRY;
#define ObpEntryHeader(e) ((POBJECT_HEADER)((e)->ObAttributes & ~(ULONG_PTR)OBJ_HANDLE_ATTRIBUTES))

#define HANDLE_TABLE_TAG POOL_TAG('O', 'b', 't', 't')
typedef struct _HANDLE_TABLE {
    ULONG_PTR TableCode;                 /* the top table | level */
    struct _EPROCESS *QuotaProcess;      /* the owner */
    LONG HandleCount;                    /* entries in use */
    ULONG NextHandleNeedingPool;         /* handle value of the first entry not yet allocated */
    ULONG FirstFree;                     /* head of the free list (a handle value), 0: empty */
    ULONG Spare;
    KSPIN_LOCK Lock;                     /* reserved (one processor, callers at PASSIVE_LEVEL) */
} HANDLE_TABLE, *PHANDLE_TABLE;

typedef struct _OBJECT_HANDLE_INFORMATION {
    ULONG HandleAttributes;              /* OBJ_PROTECT_CLOSE, OBJ_INHERIT */
    ACCESS_MASK GrantedAccess;
} OBJECT_HANDLE_INFORMATION, *POBJECT_HANDLE_INFORMATION;
typedef struct _OBJECT_HANDLE_FLAG_INFORMATION {
    BOOLEAN Inherit;
    BOOLEAN ProtectFromClose;
} OBJECT_HANDLE_FLAG_INFORMATION, *POBJECT_HANDLE_FLAG_INFORMATION;

/* ---- The framework's types (kernel/ob/obtypes.c) ---- */
extern POBJECT_TYPE ObpTypeObjectType, ObpDirectoryObjectType, ObpSymbolicLinkObjectType;
extern POBJECT_TYPE PsProcessType, PsThreadType;
extern POBJECT_TYPE ExEventObjectType, ExSemaphoreObjectType, ExMutantObjectType, ExTimerObjectType;
#define OB_MAX_TYPES 24
extern POBJECT_TYPE ObpObjectTypes[OB_MAX_TYPES];
extern ULONG ObpObjectTypeCount;
/* Creates a type (framework: a stubbed lab 06 still has types). Name is copied. */
NTSTATUS ObCreateObjectType(PCSTR Name, POBJECT_TYPE_INITIALIZER Initializer, POBJECT_TYPE *ObjectType);
VOID ObInitSystem(VOID);
/* The namespace (\, \ObjectTypes, \??, \DosDevices -> \??, \Device, \BaseNamedObjects),
 * built on first use with the student's routines: STATUS_NOT_IMPLEMENTED while they are
 * stubs. ObpRootDirectoryObject is NULL until then. */
NTSTATUS ObpInitializeNamespace(VOID);
extern POBJECT_DIRECTORY ObpRootDirectoryObject;
/* Framework, for tests: frees the namespace, the system process and the initial thread's
 * object by the framework's own hands (no methods run); the next use builds them again. */
VOID ObpResetObjectManager(VOID);
/* Creates a directory or a symbolic link named Name (permanent) - framework helpers over
 * ObCreateObject/ObInsertObject/ObCloseHandle. */
NTSTATUS ObpCreateDirectory(PCSTR Name, ULONG Attributes, POBJECT_DIRECTORY *Directory);
NTSTATUS ObpCreateSymbolicLink(PCSTR Name, PCSTR Target, ULONG Attributes, POBJECT_SYMBOLIC_LINK *Link);
/* The case-insensitive hash of a name component (framework; directories use it). */
ULONG ObpHashName(PCSTR Name, ULONG Length);
/* Names compare equal: byte for byte, or ignoring ASCII case when CaseInsensitive. */
BOOLEAN ObpEqualNames(PCSTR A, ULONG ALength, PCSTR B, ULONG BLength, BOOLEAN CaseInsensitive);
/* Framework wrappers: the handle table lock around the student's routines. */
NTSTATUS NtClose(HANDLE Handle);
NTSTATUS NtDuplicateObject(HANDLE SourceProcessHandle, HANDLE SourceHandle, HANDLE TargetProcessHandle,
                           PHANDLE TargetHandle, ACCESS_MASK DesiredAccess, ULONG HandleAttributes, ULONG Options);
NTSTATUS NtMakeTemporaryObject(HANDLE Handle);
NTSTATUS NtSetInformationObjectHandleFlags(HANDLE Handle, POBJECT_HANDLE_FLAG_INFORMATION Flags);
/* The dispatcher objects as objects (kernel/ob/obsync.c): lab 05's KEVENT, KSEMAPHORE and
 * KMUTANT as the bodies of the Event, Semaphore and Mutant types, used through handles
 * (UserMode checks: EVENT_MODIFY_STATE, SEMAPHORE_MODIFY_STATE, SYNCHRONIZE to wait). */
NTSTATUS NtCreateEvent(PHANDLE EventHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                       EVENT_TYPE EventType, BOOLEAN InitialState);
NTSTATUS NtSetEvent(HANDLE EventHandle, PLONG PreviousState);
NTSTATUS NtResetEvent(HANDLE EventHandle, PLONG PreviousState);
NTSTATUS NtCreateSemaphore(PHANDLE SemaphoreHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                           LONG InitialCount, LONG MaximumCount);
NTSTATUS NtReleaseSemaphore(HANDLE SemaphoreHandle, LONG ReleaseCount, PLONG PreviousCount);
NTSTATUS NtCreateMutant(PHANDLE MutantHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                        BOOLEAN InitialOwner);
NTSTATUS NtReleaseMutant(HANDLE MutantHandle, PLONG PreviousCount);
/* Lab 09 (w16t): a user caller's OBJECT_ATTRIBUTES and its name captured into Captured
 * (probed, copied through the fixups; OBJ_KERNEL_HANDLE dropped, a name of at most 128 bytes);
 * *Attributes = the captured copy, NULL for a NULL UserAttributes. */
typedef struct _OBP_CAPTURED_ATTRIBUTES {
    OBJECT_ATTRIBUTES Attributes;
    STRING Name;
    CHAR Buffer[128];
} OBP_CAPTURED_ATTRIBUTES, *POBP_CAPTURED_ATTRIBUTES;
NTSTATUS ObpCaptureObjectAttributes(POBJECT_ATTRIBUTES UserAttributes, POBP_CAPTURED_ATTRIBUTES Captured,
                                    POBJECT_ATTRIBUTES *Attributes);
/* Waits on the dispatcher object of the object Handle names (a thread: its KTHREAD). */
NTSTATUS NtWaitForSingleObject(HANDLE Handle, BOOLEAN Alertable, PLARGE_INTEGER Timeout);

/* ---- Lab 06 (student code: labs/06-objects/) ---- */
/* object.c */
NTSTATUS ObCreateObject(KPROCESSOR_MODE ProbeMode, POBJECT_TYPE ObjectType, POBJECT_ATTRIBUTES ObjectAttributes,
                        ULONG ObjectBodySize, PVOID *Object);
LONG_PTR ObReferenceObject(PVOID Object);
LONG_PTR ObDereferenceObject(PVOID Object);
VOID ObMakeTemporaryObject(PVOID Object);
VOID ObpDeleteNameCheck(PVOID Object);
/* handle.c */
PHANDLE_TABLE ExCreateHandleTable(struct _EPROCESS *Process);
VOID ExDestroyHandleTable(PHANDLE_TABLE HandleTable);
HANDLE ExCreateHandle(PHANDLE_TABLE HandleTable, PHANDLE_TABLE_ENTRY HandleTableEntry);
PHANDLE_TABLE_ENTRY ExMapHandleToPointer(PHANDLE_TABLE HandleTable, HANDLE Handle);
BOOLEAN ExDestroyHandle(PHANDLE_TABLE HandleTable, HANDLE Handle, PHANDLE_TABLE_ENTRY HandleTableEntry);
/* obhandle.c */
/* Creates a handle in Process's table (the system process's for OBJ_KERNEL_HANDLE, returned
 * with KERNEL_HANDLE_MASK) to Object, taking over one pointer reference the caller holds. */
NTSTATUS ObpCreateHandle(OB_OPEN_REASON Reason, struct _EPROCESS *Process, PVOID Object, ACCESS_MASK DesiredAccess,
                         ULONG HandleAttributes, PHANDLE Handle);
NTSTATUS ObInsertObject(PVOID Object, ACCESS_MASK DesiredAccess, ULONG HandleAttributes, PHANDLE Handle);
NTSTATUS ObReferenceObjectByHandle(HANDLE Handle, ACCESS_MASK DesiredAccess, POBJECT_TYPE ObjectType,
                                   KPROCESSOR_MODE AccessMode, PVOID *Object,
                                   POBJECT_HANDLE_INFORMATION HandleInformation);
NTSTATUS ObCloseHandle(HANDLE Handle, KPROCESSOR_MODE PreviousMode);
NTSTATUS ObSetHandleAttributes(HANDLE Handle, POBJECT_HANDLE_FLAG_INFORMATION HandleFlags,
                               KPROCESSOR_MODE PreviousMode);
NTSTATUS ObDuplicateObject(struct _EPROCESS *SourceProcess, HANDLE SourceHandle, struct _EPROCESS *TargetProcess,
                           PHANDLE TargetHandle, ACCESS_MASK DesiredAccess, ULONG HandleAttributes, ULONG Options,
                           KPROCESSOR_MODE PreviousMode);
/* namei.c */
PVOID ObpLookupDirectoryEntry(POBJECT_DIRECTORY Directory, PSTRING Name, BOOLEAN CaseInsensitive);
NTSTATUS ObpInsertDirectoryEntry(POBJECT_DIRECTORY Directory, PVOID Object);
NTSTATUS ObpDeleteDirectoryEntry(POBJECT_DIRECTORY Directory, PVOID Object);
NTSTATUS ObpLookupObjectName(HANDLE RootDirectoryHandle, PSTRING ObjectName, ULONG Attributes,
                             POBJECT_TYPE ObjectType, PVOID InsertObject, PVOID *FoundObject);
NTSTATUS ObReferenceObjectByName(PSTRING ObjectName, ULONG Attributes, ACCESS_MASK DesiredAccess,
                                 POBJECT_TYPE ObjectType, KPROCESSOR_MODE AccessMode, PVOID *Object);
NTSTATUS ObOpenObjectByName(POBJECT_ATTRIBUTES ObjectAttributes, POBJECT_TYPE ObjectType,
                            KPROCESSOR_MODE AccessMode, ACCESS_MASK DesiredAccess, PHANDLE Handle);
