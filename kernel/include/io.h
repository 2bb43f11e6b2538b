/* io.h - the I/O manager (lab 07): driver objects, device objects and device stacks, IRPs
 * with their stack locations, completion routines, cancellation, MDLs and the buffering
 * methods of device I/O control. NT's names, layouts reduced to what the course uses.
 *
 * An IRP is one pool block: the IRP, then StackCount IO_STACK_LOCATIONs. Locations are
 * numbered 1..StackCount from the bottom of the stack (array index Number - 1); the
 * driver at depth k of a device stack (1 = the bottom device) owns location k.
 * CurrentLocation is the location of the driver that holds the IRP now; StackCount + 1
 * means no driver holds it (a fresh IRP, or one whose completion walk has run off the
 * top). IoCallDriver moves one location down, IoCompleteRequest walks back up. */
#pragma once

#include "ex.h"
#include "ke.h"
#include "kethread.h"
#include "kespin.h"
#include "ketimer.h"
#include "kewait.h"
#include "ob.h"

struct _DEVICE_OBJECT;
struct _DRIVER_OBJECT;
struct _IRP;
struct _FILE_OBJECT;
struct _KEVENT;

typedef int16_t SHORT, CSHORT;
typedef CHAR CCHAR;

/* ---- Object types of the I/O manager (the Type field of each) ---- */
#define IO_TYPE_DRIVER 4
#define IO_TYPE_DEVICE 3
#define IO_TYPE_IRP 6
#define IO_TYPE_FILE 5

/* ---- Major functions ---- */
#define IRP_MJ_CREATE 0x00
#define IRP_MJ_CLOSE 0x02
#define IRP_MJ_READ 0x03
#define IRP_MJ_WRITE 0x04
#define IRP_MJ_FLUSH_BUFFERS 0x09
#define IRP_MJ_DEVICE_CONTROL 0x0e
#define IRP_MJ_INTERNAL_DEVICE_CONTROL 0x0f
#define IRP_MJ_CLEANUP 0x12
#define IRP_MJ_MAXIMUM_FUNCTION 0x1b

/* ---- Device types, device flags ---- */
#define FILE_DEVICE_DISK 0x00000007
#define FILE_DEVICE_NULL 0x00000015
#define FILE_DEVICE_UNKNOWN 0x00000022
#define DO_BUFFERED_IO 0x00000004
#define DO_EXCLUSIVE 0x00000008
#define DO_DIRECT_IO 0x00000010
#define DO_DEVICE_INITIALIZING 0x00000080

/* ---- I/O control codes: CTL_CODE(DeviceType, Function, Method, Access) ---- */
#define METHOD_BUFFERED 0
#define METHOD_IN_DIRECT 1
#define METHOD_OUT_DIRECT 2
#define METHOD_NEITHER 3
#define FILE_ANY_ACCESS 0
#define CTL_CODE(DeviceType, Function, Method, Access) \
    (((ULONG)(DeviceType) << 16) | ((ULONG)(Access) << 14) | ((ULONG)(Function) << 2) | (ULONG)(Method))
#define METHOD_FROM_CTL_CODE(Code) ((ULONG)(Code) & 3)

/* ---- IRP flags ---- */
#define IRP_NOCACHE 0x00000001
#define IRP_BUFFERED_IO 0x00000010          /* AssociatedIrp.SystemBuffer is the I/O manager's */
#define IRP_DEALLOCATE_BUFFER 0x00000020    /* free SystemBuffer when the IRP completes */
#define IRP_INPUT_OPERATION 0x00000040      /* data flows to the caller: copy SystemBuffer back */
#define IRP_SYNCHRONOUS_API 0x00000004

/* ---- Stack location Control bits ---- */
#define SL_PENDING_RETURNED 0x01
#define SL_INVOKE_ON_CANCEL 0x20
#define SL_INVOKE_ON_SUCCESS 0x40
#define SL_INVOKE_ON_ERROR 0x80


typedef struct _IO_STATUS_BLOCK {
    union {
        NTSTATUS Status;
        PVOID Pointer;
    };
    ULONG_PTR Information;
} IO_STATUS_BLOCK, *PIO_STATUS_BLOCK;

/* ---- Memory descriptor lists: the physical pages behind a buffer ----
 * An MDL describes ByteCount bytes starting ByteOffset into the page at StartVa; the
 * PFN of each page it spans follows the structure (MmGetMdlPfnArray). */
#define MDL_MAPPED_TO_SYSTEM_VA 0x0001
#define MDL_PAGES_LOCKED 0x0002
#define MDL_SOURCE_IS_NONPAGED_POOL 0x0004
#define MDL_ALLOCATED_FIXED_SIZE 0x0008
typedef struct _MDL {
    struct _MDL *Next;
    SHORT Size;           /* the MDL and its PFN array, in bytes */
    SHORT MdlFlags;
    PVOID MappedSystemVa; /* the system address of the first byte, when mapped */
    PVOID StartVa;        /* page-aligned start of the buffer */
    ULONG ByteCount;
    ULONG ByteOffset;     /* of the first byte in its page */
} MDL, *PMDL;
#define MmGetMdlPfnArray(Mdl) ((PULONG64)((PMDL)(Mdl) + 1))
#define MmGetMdlVirtualAddress(Mdl) ((PVOID)((PUCHAR)(Mdl)->StartVa + (Mdl)->ByteOffset))
#define MmGetMdlByteCount(Mdl) ((Mdl)->ByteCount)
#define ADDRESS_AND_SIZE_TO_SPAN_PAGES(Va, Size) \
    ((ULONG)((((ULONG_PTR)(Va) & 0xFFF) + (Size) + 0xFFF) >> 12))

/* ---- Routines drivers provide ---- */
typedef NTSTATUS (*PDRIVER_INITIALIZE)(struct _DRIVER_OBJECT *DriverObject, PVOID RegistryPath);
typedef NTSTATUS (*PDRIVER_DISPATCH)(struct _DEVICE_OBJECT *DeviceObject, struct _IRP *Irp);
typedef VOID (*PDRIVER_UNLOAD)(struct _DRIVER_OBJECT *DriverObject);
typedef NTSTATUS (*PIO_COMPLETION_ROUTINE)(struct _DEVICE_OBJECT *DeviceObject, struct _IRP *Irp, PVOID Context);
typedef VOID (*PDRIVER_CANCEL)(struct _DEVICE_OBJECT *DeviceObject, struct _IRP *Irp);

#define DRIVER_NAME_LENGTH 32
typedef struct _DRIVER_OBJECT {
    CSHORT Type;                       /* IO_TYPE_DRIVER */
    CSHORT Size;
    struct _DEVICE_OBJECT *DeviceObject; /* the driver's devices, newest first, through NextDevice */
    ULONG Flags;
    PDRIVER_INITIALIZE DriverInit;     /* DriverEntry */
    PDRIVER_UNLOAD DriverUnload;
    CHAR DriverName[DRIVER_NAME_LENGTH];
    PDRIVER_DISPATCH MajorFunction[IRP_MJ_MAXIMUM_FUNCTION + 1];
} DRIVER_OBJECT, *PDRIVER_OBJECT;

#define DEVICE_NAME_LENGTH 32
typedef struct _DEVICE_OBJECT {
    CSHORT Type;                       /* IO_TYPE_DEVICE */
    USHORT Size;                       /* the device object and its extension, in bytes */
    LONG ReferenceCount;
    PDRIVER_OBJECT DriverObject;
    struct _DEVICE_OBJECT *NextDevice; /* the next device of the same driver */
    struct _DEVICE_OBJECT *AttachedDevice; /* the device attached on top of this one, NULL at the top */
    struct _DEVICE_OBJECT *AttachedTo; /* the device this one is attached to (DEVOBJ_EXTENSION.AttachedTo) */
    struct _IRP *CurrentIrp;
    ULONG Flags;                       /* DO_* */
    ULONG Characteristics;
    PVOID DeviceExtension;             /* DeviceExtensionSize bytes right after the object, zeroed */
    ULONG DeviceType;
    CCHAR StackSize;                   /* stack locations an IRP sent to this device needs */
    ULONG AlignmentRequirement;
    CHAR DeviceName[DEVICE_NAME_LENGTH]; /* empty when unnamed */
    LIST_ENTRY DeviceListEntry;        /* on the I/O manager's list of named devices */
} DEVICE_OBJECT, *PDEVICE_OBJECT;

/* A file object: one open of a device, an object of lab 06's object manager (type
 * IoFileObjectType). I/O on it goes to the top of the device's stack. */
#define FO_SYNCHRONOUS_IO 0x00000002
typedef struct _FILE_OBJECT {
    CSHORT Type;                       /* IO_TYPE_FILE */
    CSHORT Size;
    PDEVICE_OBJECT DeviceObject;       /* the device opened (as named; requests go to its stack's top) */
    PVOID FsContext;
    ULONG Flags;                       /* FO_* */
    LONGLONG CurrentByteOffset;        /* where a read or write with no ByteOffset starts */
    NTSTATUS FinalStatus;              /* the status of the last request completed on it */
    KEVENT Event;                      /* signalled when a request on it completes: waiting on the file */
} FILE_OBJECT, *PFILE_OBJECT;

typedef struct _IO_STACK_LOCATION {
    UCHAR MajorFunction;
    UCHAR MinorFunction;
    UCHAR Flags;
    UCHAR Control;                     /* SL_* */
    union {
        struct {
            ULONG Length;
            ULONG Key;
            LONGLONG ByteOffset;
        } Read;
        struct {
            ULONG Length;
            ULONG Key;
            LONGLONG ByteOffset;
        } Write;
        struct {
            ULONG OutputBufferLength;
            ULONG InputBufferLength;
            ULONG IoControlCode;
            PVOID Type3InputBuffer;    /* METHOD_NEITHER: the caller's input buffer */
        } DeviceIoControl;
        struct {
            PVOID Argument1;
            PVOID Argument2;
            PVOID Argument3;
            PVOID Argument4;
        } Others;
    } Parameters;
    PDEVICE_OBJECT DeviceObject;       /* set by IoCallDriver: the device this location was sent to */
    PFILE_OBJECT FileObject;
    PIO_COMPLETION_ROUTINE CompletionRoutine; /* set by the driver above, called on the way up */
    PVOID Context;
} IO_STACK_LOCATION, *PIO_STACK_LOCATION;

typedef struct _IRP {
    CSHORT Type;                       /* IO_TYPE_IRP */
    USHORT Size;                       /* the IRP and its stack locations, in bytes */
    PMDL MdlAddress;                   /* direct I/O: the caller's buffer */
    ULONG Flags;                       /* IRP_* */
    union {
        struct _IRP *MasterIrp;
        PVOID SystemBuffer;            /* buffered I/O: the I/O manager's copy */
    } AssociatedIrp;
    LIST_ENTRY ThreadListEntry;
    IO_STATUS_BLOCK IoStatus;
    KPROCESSOR_MODE RequestorMode;
    BOOLEAN PendingReturned;           /* during the completion walk: the level below returned STATUS_PENDING */
    CCHAR StackCount;
    CCHAR CurrentLocation;
    BOOLEAN Cancel;                    /* IoCancelIrp was called */
    KIRQL CancelIrql;                  /* the IRQL the cancel spin lock was taken from */
    PIO_STATUS_BLOCK UserIosb;         /* where the final status is written back */
    struct _KEVENT *UserEvent;         /* signalled when the IRP is done */
    PDRIVER_CANCEL CancelRoutine;
    PVOID UserBuffer;                  /* the caller's buffer (buffered I/O: copied back to it) */
    struct {
        struct {
            PVOID DriverContext[4];
            PKTHREAD Thread;
            PIO_STACK_LOCATION CurrentStackLocation;
            PFILE_OBJECT OriginalFileObject;
            LIST_ENTRY ListEntry;      /* for the driver holding the IRP (a queue) */
        } Overlay;
    } Tail;
} IRP, *PIRP;

/* The stack locations of an IRP: location Number (1..StackCount) is this entry. */
#define IopIrpStackLocation(Irp, Number) (((PIO_STACK_LOCATION)((PIRP)(Irp) + 1)) + ((Number) - 1))

/* ---- Lab 07: IRPs (labs/07-io/irp.c) ---- */
PIRP IoAllocateIrp(CCHAR StackSize, BOOLEAN ChargeQuota);
VOID IoFreeIrp(PIRP Irp);
VOID IoInitializeIrp(PIRP Irp, USHORT PacketSize, CCHAR StackSize);
PIO_STACK_LOCATION IoGetCurrentIrpStackLocation(PIRP Irp);
PIO_STACK_LOCATION IoGetNextIrpStackLocation(PIRP Irp);
VOID IoCopyCurrentIrpStackLocationToNext(PIRP Irp);
VOID IoSkipCurrentIrpStackLocation(PIRP Irp);
VOID IoSetNextIrpStackLocation(PIRP Irp);
VOID IoSetCompletionRoutine(PIRP Irp, PIO_COMPLETION_ROUTINE CompletionRoutine, PVOID Context,
                            BOOLEAN InvokeOnSuccess, BOOLEAN InvokeOnError, BOOLEAN InvokeOnCancel);
NTSTATUS IoSetCompletionRoutineEx(PDEVICE_OBJECT DeviceObject, PIRP Irp, PIO_COMPLETION_ROUTINE CompletionRoutine,
                                  PVOID Context, BOOLEAN InvokeOnSuccess, BOOLEAN InvokeOnError,
                                  BOOLEAN InvokeOnCancel);
VOID IoMarkIrpPending(PIRP Irp);
NTSTATUS IoCallDriver(PDEVICE_OBJECT DeviceObject, PIRP Irp);
VOID IoCompleteRequest(PIRP Irp, CCHAR PriorityBoost);

/* ---- Lab 07: devices and stacks (labs/07-io/device.c) ---- */
NTSTATUS IoCreateDevice(PDRIVER_OBJECT DriverObject, ULONG DeviceExtensionSize, PCSTR DeviceName,
                        ULONG DeviceType, ULONG DeviceCharacteristics, BOOLEAN Exclusive,
                        PDEVICE_OBJECT *DeviceObject);
VOID IoDeleteDevice(PDEVICE_OBJECT DeviceObject);
PDEVICE_OBJECT IoAttachDeviceToDeviceStack(PDEVICE_OBJECT SourceDevice, PDEVICE_OBJECT TargetDevice);
VOID IoDetachDevice(PDEVICE_OBJECT TargetDevice);
PDEVICE_OBJECT IoGetAttachedDevice(PDEVICE_OBJECT DeviceObject);

/* ---- Lab 07: cancellation (labs/07-io/cancel.c) ---- */
PDRIVER_CANCEL IoSetCancelRoutine(PIRP Irp, PDRIVER_CANCEL CancelRoutine);
BOOLEAN IoCancelIrp(PIRP Irp);

/* ---- Lab 07: building requests and finishing them (labs/07-io/buffers.c) ---- */
PIRP IoBuildDeviceIoControlRequest(ULONG IoControlCode, PDEVICE_OBJECT DeviceObject, PVOID InputBuffer,
                                   ULONG InputBufferLength, PVOID OutputBuffer, ULONG OutputBufferLength,
                                   BOOLEAN InternalDeviceIoControl, struct _KEVENT *Event,
                                   PIO_STATUS_BLOCK IoStatusBlock);
PIRP IoBuildSynchronousFsdRequest(ULONG MajorFunction, PDEVICE_OBJECT DeviceObject, PVOID Buffer, ULONG Length,
                                  LONGLONG StartingOffset, struct _KEVENT *Event, PIO_STATUS_BLOCK IoStatusBlock);
VOID IopCompleteRequest(PIRP Irp);

/* ---- Framework (kernel/io/) ---- */
/* The cancel spin lock: held around a cancel routine's start and IoSetCancelRoutine races. */
VOID IoAcquireCancelSpinLock(PKIRQL Irql);
VOID IoReleaseCancelSpinLock(KIRQL Irql);
/* Creates a driver object named Name, every MajorFunction set to the I/O manager's
 * "invalid device request" routine, and calls DriverEntry on it. */
NTSTATUS IopCreateDriver(PCSTR Name, PDRIVER_INITIALIZE DriverEntry, PDRIVER_OBJECT *DriverObject);
/* Deletes what IopCreateDriver made (its devices must be deleted first). */
VOID IopDeleteDriver(PDRIVER_OBJECT DriverObject);
/* Every MajorFunction no driver fills in: completes with STATUS_INVALID_DEVICE_REQUEST. */
NTSTATUS IopInvalidDeviceRequest(PDEVICE_OBJECT DeviceObject, PIRP Irp);
/* The named device (NULL if none); the list IoCreateDevice puts named devices on. */
PDEVICE_OBJECT IopFindDevice(PCSTR Name);
extern LIST_ENTRY IopDeviceList;
extern KSPIN_LOCK IopDatabaseLock;
/* MDLs over nonpaged memory. */
PMDL IoAllocateMdl(PVOID VirtualAddress, ULONG Length, BOOLEAN SecondaryBuffer, BOOLEAN ChargeQuota, PIRP Irp);
VOID IoFreeMdl(PMDL Mdl);
VOID MmBuildMdlForNonPagedPool(PMDL Mdl);
PVOID MmGetSystemAddressForMdlSafe(PMDL Mdl, ULONG Priority);
#define NormalPagePriority 16
/* Signals an IRP's UserEvent (KeSetEvent). */
VOID IopSignalUserEvent(struct _KEVENT *Event);

/* ---- Files: the path from a handle to a driver ---- */
#define FILE_READ_DATA 0x0001
#define FILE_WRITE_DATA 0x0002
#define FILE_ALL_ACCESS (STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x1FF)
extern POBJECT_TYPE IoFileObjectType;
/* Creates the File object type (and lab 06's object manager) once; the type's delete
 * method sends IRP_MJ_CLOSE to the file's stack when the last reference goes. */
NTSTATUS IopInitializeFileType(VOID);
/* Lab 07 (labs/07-io/file.c). */
NTSTATUS NtCreateFile(PHANDLE FileHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                      PIO_STATUS_BLOCK IoStatusBlock);
NTSTATUS NtReadFile(HANDLE FileHandle, HANDLE Event, PIO_STATUS_BLOCK IoStatusBlock, PVOID Buffer, ULONG Length,
                    PLARGE_INTEGER ByteOffset);
NTSTATUS NtWriteFile(HANDLE FileHandle, HANDLE Event, PIO_STATUS_BLOCK IoStatusBlock, PVOID Buffer, ULONG Length,
                     PLARGE_INTEGER ByteOffset);
NTSTATUS NtDeviceIoControlFile(HANDLE FileHandle, HANDLE Event, PIO_STATUS_BLOCK IoStatusBlock, ULONG IoControlCode,
                               PVOID InputBuffer, ULONG InputBufferLength, PVOID OutputBuffer,
                               ULONG OutputBufferLength);

/* ---- The framework's drivers (kernel/io/) ---- */
/* \Device\Null: create/close succeed, a read returns STATUS_END_OF_FILE with 0 bytes, a write
 * takes every byte (Information = Length); nothing else is supported. */
NTSTATUS IopNullDriverEntry(PDRIVER_OBJECT DriverObject, PVOID RegistryPath);
/* \Device\RamDisk: direct I/O on sectors of RAMDISK_SECTOR bytes; every read and write is
 * pended (STATUS_PENDING), queued, and completed later from a DPC, in arrival order; a
 * queued request can be cancelled. IOCTL_RAMDISK_GET_LENGTH returns the size (buffered). */
#define RAMDISK_SECTOR 512
#define IOCTL_RAMDISK_GET_LENGTH CTL_CODE(FILE_DEVICE_DISK, 0x801, METHOD_BUFFERED, FILE_ANY_ACCESS)
NTSTATUS IopRamDiskDriverEntry(PDRIVER_OBJECT DriverObject, PVOID RegistryPath);
/* Completes the disk's requests DelayMs milliseconds later (a timer queues its DPC);
 * 0: at once (the DPC is queued when a request arrives). */
VOID IopSetRamDiskDelay(PDEVICE_OBJECT Device, ULONG DelayMs);
/* Creates a RAM disk device of Bytes bytes (a multiple of RAMDISK_SECTOR) under the driver. */
NTSTATUS IopCreateRamDisk(PDRIVER_OBJECT DriverObject, PCSTR Name, ULONG Bytes, PDEVICE_OBJECT *Device);
/* How many requests the RAM disk holds queued (waiting for its DPC). */
ULONG IopRamDiskQueued(PDEVICE_OBJECT Device);
/* The disk's bytes (tests look at what a write left there). */
PUCHAR IopRamDiskData(PDEVICE_OBJECT Device);

/* The sample filter driver (kernel/io/filter.c). Each filter device it attaches carries a
 * FILTER_EXTENSION whose Action the tests set; every completion routine it runs appends
 * one record to IopFilterLog. */
#define FILTER_PASS 0     /* IoSkipCurrentIrpStackLocation: no completion routine */
#define FILTER_CONTINUE 1 /* copy the location down; the routine marks pending if PendingReturned, continues */
#define FILTER_MORE 2     /* mark pending, copy down; the routine returns STATUS_MORE_PROCESSING_REQUIRED and
                           * the filter's DPC completes the IRP again later */
#define FILTER_PEND 3     /* mark pending, copy down, return STATUS_PENDING; the routine continues */
typedef struct _FILTER_EXTENSION {
    PDEVICE_OBJECT Lower;  /* the device IoAttachDeviceToDeviceStack attached it to */
    ULONG Level;           /* its depth in the stack (the base device is 1) */
    ULONG Action;          /* FILTER_* */
    BOOLEAN OnSuccess, OnError; /* the completion routine's Invoke flags */
    LONGLONG OffsetShift;  /* added to a read's or write's ByteOffset on the way down */
    BOOLEAN Mark;          /* its completion routine adds 1 << (16 + Level) to IoStatus.Information */
    ULONG Seen;            /* IRPs its dispatch routine saw */
    UCHAR SeenMajor[16];   /* the major function of the first 16 */
    KDPC Dpc;              /* FILTER_MORE: completes Held later */
    PIRP Held;
} FILTER_EXTENSION, *PFILTER_EXTENSION;
typedef struct _IOP_FILTER_RECORD {
    ULONG Level;           /* the filter whose routine ran; 0 for a test's own routine */
    BOOLEAN PendingReturned;
    NTSTATUS Status;
    ULONG_PTR Information;
    CCHAR CurrentLocation;
    PDEVICE_OBJECT Device; /* the DeviceObject the routine was called with */
} IOP_FILTER_RECORD;
#define IOP_FILTER_LOG 64
extern IOP_FILTER_RECORD IopFilterLog[IOP_FILTER_LOG];
extern volatile ULONG IopFilterLogCount;
VOID IopFilterLogAppend(ULONG Level, PDEVICE_OBJECT Device, PIRP Irp);
NTSTATUS IopFilterDriverEntry(PDRIVER_OBJECT DriverObject, PVOID RegistryPath);
/* Creates a filter device of the filter driver, attaches it on top of Target's stack. */
NTSTATUS IopAddFilter(PDRIVER_OBJECT FilterDriver, PDEVICE_OBJECT Target, ULONG Level, ULONG Action,
                      BOOLEAN OnSuccess, BOOLEAN OnError, PDEVICE_OBJECT *Filter);
/* Detaches and deletes a filter device made by IopAddFilter. */
VOID IopRemoveFilter(PDEVICE_OBJECT Filter);

/* The interrupting device (kernel/io/intdev.c): IOCTL_INTDEV_FIRE pends the IRP and raises
 * the device's interrupt (vector INTDEV_VECTOR, through a lab 04 interrupt object); the
 * service routine queues the device's DPC, which completes the IRP with Information = the
 * number of interrupts serviced so far. */
#define INTDEV_VECTOR 0x71
#define IOCTL_INTDEV_FIRE CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_NEITHER, FILE_ANY_ACCESS)
NTSTATUS IopIntDevDriverEntry(PDRIVER_OBJECT DriverObject, PVOID RegistryPath);

/* ---- The boot file system (framework, kernel/io/bootfs.c; img, lab 08) ----
 * The multiboot2 modules GRUB loaded (user/user.mk: "<set>/<file>", set System32 or
 * SysWOW64) served read-only by name: IoBootFsLookup("\SystemRoot\System32\ntdll.dll")
 * (case-insensitive; '/' and '\' alike) gives the file's bytes (in the physical map, never
 * to be written) and size; STATUS_OBJECT_NAME_NOT_FOUND for another name,
 * STATUS_OBJECT_NAME_INVALID for a path outside \SystemRoot\. IoBootFsFile enumerates
 * (index 0..; FALSE past the last). Any IRQL (the table is built once, at boot). */
typedef struct _BOOT_FILE {
    CHAR Name[64];             /* "System32/ntdll.dll", as the module's command line says */
    const UCHAR *Data;
    SIZE_T Size;
} BOOT_FILE, *PBOOT_FILE;
NTSTATUS IoBootFsLookup(PCSTR Path, const BOOT_FILE **File);
BOOLEAN IoBootFsFile(ULONG Index, const BOOT_FILE **File);

/* ---- The file services from user mode (framework, kernel/io/iosvc.c; w16f, lab 09) ----
 * \Device\BootFs serves the boot file system's files through IRPs: a file object opened on
 * it by a \SystemRoot\... name carries its BOOT_FILE in FsContext; IRP_MJ_READ copies from
 * it at the request's ByteOffset (STATUS_END_OF_FILE at or past the end), nothing else but
 * create and close is supported (buffered I/O; completes in the dispatch routine). */
NTSTATUS IopBootFsDriverEntry(PDRIVER_OBJECT DriverObject, PVOID RegistryPath);
/* The drivers a user program's file services reach (\Device\Null, \Device\BootFs,
 * \Device\WowSample): created once (a later call finds them). */
NTSTATUS IopStartUserDrivers(VOID);
VOID IopStopUserDrivers(VOID);
/* The service table's entries of NtCreateFile, NtOpenFile, NtReadFile, NtWriteFile,
 * NtDeviceIoControlFile, NtDuplicateObject (kernel/include/iosvc.h maps the names): with
 * PreviousMode UserMode every pointer is probed and what it points at captured once
 * (OBJECT_ATTRIBUTES, its STRING and the name's bytes; LARGE_INTEGER; the data of a write
 * or an ioctl's input in a pool buffer), handles are user handles, the IRP's RequestorMode
 * is UserMode, a request is complete when the service returns, and every output (handle,
 * IO_STATUS_BLOCK, data read) is written with KeCopyToUser: a bad pointer gives
 * STATUS_ACCESS_VIOLATION. See iosvc.c for each contract. */
NTSTATUS IopCreateFileService(PHANDLE FileHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                              PIO_STATUS_BLOCK IoStatusBlock);
NTSTATUS IopOpenFileService(PHANDLE FileHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                            PIO_STATUS_BLOCK IoStatusBlock, ULONG ShareAccess, ULONG OpenOptions);
NTSTATUS IopReadFileService(HANDLE FileHandle, HANDLE Event, PIO_STATUS_BLOCK IoStatusBlock, PVOID Buffer,
                            ULONG Length, PLARGE_INTEGER ByteOffset);
NTSTATUS IopWriteFileService(HANDLE FileHandle, HANDLE Event, PIO_STATUS_BLOCK IoStatusBlock, PVOID Buffer,
                             ULONG Length, PLARGE_INTEGER ByteOffset);
NTSTATUS IopDeviceIoControlFileService(HANDLE FileHandle, HANDLE Event, PIO_STATUS_BLOCK IoStatusBlock,
                                       ULONG IoControlCode, PVOID InputBuffer, ULONG InputBufferLength,
                                       PVOID OutputBuffer, ULONG OutputBufferLength);
NTSTATUS IopDuplicateObjectService(HANDLE SourceProcessHandle, HANDLE SourceHandle, HANDLE TargetProcessHandle,
                                   PHANDLE TargetHandle, ACCESS_MASK DesiredAccess, ULONG HandleAttributes,
                                   ULONG Options);
/* The most a user request moves through the pool at once (a longer one:
 * STATUS_INSUFFICIENT_RESOURCES, nothing sent), and the longest name it may give. */
#define IOP_MAX_USER_TRANSFER (256 * 1024)
#define IOP_MAX_USER_NAME 255
