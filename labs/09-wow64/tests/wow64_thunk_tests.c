/* wow64_thunk_tests.c - lab 09's thunk checkpoint, in the kernel: the student's thunks
 * (labs/09-wow64/thunk.c, linked into this kernel with their native calls renamed to the
 * doubles below: tests/natives.syms) run on 32-bit argument slots and structures that the
 * test lays out in an arena mapped below 2 GiB, poisoned, with canary bytes around every
 * structure. Each double records what the native call received (the widened arguments, the
 * converted structures) and answers as the case plans (its outputs, its status).
 *
 * The kernel only reports: for each seeded case, `KTEST VALUE wow64.thunks case <n> <thunk>
 * ret=<status> calls=<k> c<j>=<native>:<args>;<inputs> mem=<bytes>` where mem is every
 * 32-bit structure of the case with 4 bytes before and 8 after. The grader's model
 * (grader/models/lab09.py) rebuilds every case from the seed, runs the reference thunk on
 * it and judges each field, naming the clause. */
#include "ktest.h"
#include "mm.h"
#include "wow64t.h"
#include "wow64_support.h"

/* ---- The doubles: what the native service "received" and what it answers ---- */
typedef struct _KTW_CALL {
    ULONG Service;            /* KTW_SVC_* */
    ULONG ArgCount;
    ULONG64 Args[11];         /* value arguments as passed; a pointer to a thunk local as 0/1 */
    ULONG InCount;
    ULONG64 In[8];            /* what the call read through its pointers */
    CHAR Name[80];            /* an OBJECT_ATTRIBUTES' name, as the call saw it */
} KTW_CALL;

static KTW_CALL KtwCalls[3];
static ULONG KtwCallCount;
KTW_PLAN KtwPlan;
WOW64_THREAD_DATA KtwThreadData[2];
ULONG KtwCurrentThread;
ULONG KtwLimit = MM_HIGHEST_USER_ADDRESS_WOW64;

PWOW64_THREAD_DATA Wow64CurrentThreadData(VOID)
{
    return &KtwThreadData[KtwCurrentThread & 1];
}

ULONG Wow64HighestUserAddress(VOID)
{
    return KtwLimit;
}

static KTW_CALL *KtwBegin(ULONG Service)
{
    ULONG i = KtwCallCount++;
    KTW_CALL *call = &KtwCalls[i < 3 ? i : 2];
    RtlZeroMemory(call, sizeof(*call));
    call->Service = Service;
    return call;
}

static VOID KtwArg(KTW_CALL *Call, ULONG64 Value)
{
    if (Call->ArgCount < 11)
        Call->Args[Call->ArgCount++] = Value;
}

static VOID KtwIn(KTW_CALL *Call, ULONG64 Value)
{
    if (Call->InCount < 8)
        Call->In[Call->InCount++] = Value;
}

/* A native service writes its IO_STATUS_BLOCK unless it failed (an error status) or pended. */
#define KTW_WRITES_IOSB(s) ((ULONG)(s) < 0xC0000000 && (s) != STATUS_PENDING)
#define KTW_NZ(p) ((ULONG64)((p) != NULL))
/* A service that fails may have written its outputs anyway (NT leaves them undefined): the
 * doubles write garbage, which a thunk must not copy back to the 32-bit caller. */
#define KTW_SCRIBBLE 0xBAD0BAD0BAD0BAD0ULL

static VOID KtwObjectAttributes(KTW_CALL *Call, POBJECT_ATTRIBUTES Oa)
{
    if (Oa == NULL)
        return;
    KtwIn(Call, (ULONG64)Oa->RootDirectory);
    KtwIn(Call, Oa->Attributes);
    KtwIn(Call, KTW_NZ(Oa->ObjectName));
    if (Oa->ObjectName == NULL)
        return;
    ULONG_PTR b = (ULONG_PTR)Oa->ObjectName->Buffer;
    ULONG n = Oa->ObjectName->Length < sizeof(Call->Name) - 1 ? Oa->ObjectName->Length : sizeof(Call->Name) - 1;
    BOOLEAN arena = KtwInArena(b, n ? n : 1);
    KtwIn(Call, Oa->ObjectName->Length);
    /* A name in the caller's buffer: its MaximumLength and Buffer are judged; a name the thunk
     * built (redirected) lives in the thunk's own memory: only its bytes are. */
    KtwIn(Call, arena ? Oa->ObjectName->MaximumLength : 0xFFFFFFFF);
    KtwIn(Call, arena ? b : (b != 0));
    /* Only the arena or kernel memory is read (a garbage pointer is a finding, not a fault). */
    if (b && (arena || b >= MM_SYSTEM_SPACE_START)) {
        for (ULONG i = 0; i < n; i++) {
            CHAR c = Oa->ObjectName->Buffer[i];
            Call->Name[i] = (c > ' ' && c < 0x7F) ? c : '?';
        }
        Call->Name[n] = 0;
        if (n == 0)
            RtlCopyMemory(Call->Name, "<empty>", 8);
    } else {
        RtlCopyMemory(Call->Name, "<unreadable>", 13);
    }
}

static VOID KtwWriteIosb(PIO_STATUS_BLOCK Iosb)
{
    if (Iosb) {
        Iosb->Status = (NTSTATUS)KtwPlan.Out[1];
        Iosb->Information = KtwPlan.Out[2];
    }
}

NTSTATUS Wow64KtNtAllocateVirtualMemory(HANDLE ProcessHandle, PVOID *BaseAddress, ULONG_PTR ZeroBits,
                                        PSIZE_T RegionSize, ULONG AllocationType, ULONG Protect)
{
    KTW_CALL *c = KtwBegin(KTW_SVC_ALLOCATE);
    KtwArg(c, (ULONG64)ProcessHandle); KtwArg(c, KTW_NZ(BaseAddress)); KtwArg(c, ZeroBits);
    KtwArg(c, KTW_NZ(RegionSize)); KtwArg(c, AllocationType); KtwArg(c, Protect);
    KtwIn(c, BaseAddress ? (ULONG64)*BaseAddress : 0); KtwIn(c, RegionSize ? *RegionSize : 0);
    if (!BaseAddress || !RegionSize)
        return STATUS_ACCESS_VIOLATION;
    if (NT_SUCCESS(KtwPlan.Status)) {
        *BaseAddress = (PVOID)KtwPlan.Out[0];
        *RegionSize = KtwPlan.Out[3];
    } else {
        *BaseAddress = (PVOID)KTW_SCRIBBLE;
        *RegionSize = KTW_SCRIBBLE;
    }
    return KtwPlan.Status;
}

NTSTATUS Wow64KtNtFreeVirtualMemory(HANDLE ProcessHandle, PVOID *BaseAddress, PSIZE_T RegionSize, ULONG FreeType)
{
    KTW_CALL *c = KtwBegin(KTW_SVC_FREE);
    KtwArg(c, (ULONG64)ProcessHandle); KtwArg(c, KTW_NZ(BaseAddress)); KtwArg(c, KTW_NZ(RegionSize));
    KtwArg(c, FreeType);
    KtwIn(c, BaseAddress ? (ULONG64)*BaseAddress : 0); KtwIn(c, RegionSize ? *RegionSize : 0);
    if (!BaseAddress || !RegionSize)
        return STATUS_ACCESS_VIOLATION;
    NTSTATUS status = KtwCallCount > 1 ? STATUS_SUCCESS : KtwPlan.Status;   /* a thunk's own release */
    if (NT_SUCCESS(status) && KtwCallCount == 1) {
        *BaseAddress = (PVOID)KtwPlan.Out[0];
        *RegionSize = KtwPlan.Out[3];
    } else if (!NT_SUCCESS(status)) {
        *BaseAddress = (PVOID)KTW_SCRIBBLE;
        *RegionSize = KTW_SCRIBBLE;
    }
    return status;
}

NTSTATUS Wow64KtNtProtectVirtualMemory(HANDLE ProcessHandle, PVOID *BaseAddress, PSIZE_T RegionSize, ULONG NewProtect,
                                       PULONG OldProtect)
{
    KTW_CALL *c = KtwBegin(KTW_SVC_PROTECT);
    KtwArg(c, (ULONG64)ProcessHandle); KtwArg(c, KTW_NZ(BaseAddress)); KtwArg(c, KTW_NZ(RegionSize));
    KtwArg(c, NewProtect); KtwArg(c, (ULONG64)OldProtect);
    KtwIn(c, BaseAddress ? (ULONG64)*BaseAddress : 0); KtwIn(c, RegionSize ? *RegionSize : 0);
    if (!BaseAddress || !RegionSize)
        return STATUS_ACCESS_VIOLATION;
    if (NT_SUCCESS(KtwPlan.Status)) {
        *BaseAddress = (PVOID)KtwPlan.Out[0];
        *RegionSize = KtwPlan.Out[3];
        if (KtwInArena((ULONG_PTR)OldProtect, sizeof(ULONG)))
            *OldProtect = (ULONG)KtwPlan.Out[4];
    } else {
        *BaseAddress = (PVOID)KTW_SCRIBBLE;
        *RegionSize = KTW_SCRIBBLE;
    }
    return KtwPlan.Status;
}

NTSTATUS Wow64KtNtQueryVirtualMemory(HANDLE ProcessHandle, PVOID BaseAddress, ULONG MemoryInformationClass,
                                     PVOID MemoryInformation, SIZE_T MemoryInformationLength, PSIZE_T ReturnLength)
{
    KTW_CALL *c = KtwBegin(KTW_SVC_QUERYVM);
    KtwArg(c, (ULONG64)ProcessHandle); KtwArg(c, (ULONG64)BaseAddress); KtwArg(c, MemoryInformationClass);
    KtwArg(c, KTW_NZ(MemoryInformation)); KtwArg(c, MemoryInformationLength); KtwArg(c, KTW_NZ(ReturnLength));
    if (!MemoryInformation)
        return STATUS_ACCESS_VIOLATION;
    if (MemoryInformationLength < sizeof(MEMORY_BASIC_INFORMATION64))
        return STATUS_INFO_LENGTH_MISMATCH;
    if (NT_SUCCESS(KtwPlan.Status)) {
        PMEMORY_BASIC_INFORMATION64 m = MemoryInformation;
        m->BaseAddress = KtwPlan.Out[0];
        m->AllocationBase = KtwPlan.Out[0] - (KtwPlan.Out[5] << 12);
        m->AllocationProtect = (ULONG)KtwPlan.Out[4];
        m->Alignment1 = 0xA1A1A1A1;
        m->RegionSize = KtwPlan.Out[3];
        m->State = MEM_COMMIT;
        m->Protect = (ULONG)KtwPlan.Out[6];
        m->Type = 0x20000;
        m->Alignment2 = 0xA2A2A2A2;
        if (ReturnLength)
            *ReturnLength = sizeof(MEMORY_BASIC_INFORMATION64);
    }
    return KtwPlan.Status;
}

static NTSTATUS KtwFile(KTW_CALL *c, PHANDLE FileHandle, PIO_STATUS_BLOCK IoStatusBlock)
{
    if (!FileHandle)
        return STATUS_ACCESS_VIOLATION;
    if (NT_SUCCESS(KtwPlan.Status))
        *FileHandle = (HANDLE)KtwPlan.Out[0];
    if (KTW_WRITES_IOSB(KtwPlan.Status))
        KtwWriteIosb(IoStatusBlock);
    UNREFERENCED_PARAMETER(c);
    return KtwPlan.Status;
}

NTSTATUS Wow64KtNtCreateFile(PHANDLE FileHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                             PIO_STATUS_BLOCK IoStatusBlock)
{
    KTW_CALL *c = KtwBegin(KTW_SVC_CREATEFILE);
    KtwArg(c, KTW_NZ(FileHandle)); KtwArg(c, DesiredAccess); KtwArg(c, KTW_NZ(ObjectAttributes));
    KtwArg(c, KTW_NZ(IoStatusBlock));
    KtwObjectAttributes(c, ObjectAttributes);
    return KtwFile(c, FileHandle, IoStatusBlock);
}

NTSTATUS Wow64KtNtOpenFile(PHANDLE FileHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                           PIO_STATUS_BLOCK IoStatusBlock, ULONG ShareAccess, ULONG OpenOptions)
{
    KTW_CALL *c = KtwBegin(KTW_SVC_OPENFILE);
    KtwArg(c, KTW_NZ(FileHandle)); KtwArg(c, DesiredAccess); KtwArg(c, KTW_NZ(ObjectAttributes));
    KtwArg(c, KTW_NZ(IoStatusBlock)); KtwArg(c, ShareAccess); KtwArg(c, OpenOptions);
    KtwObjectAttributes(c, ObjectAttributes);
    return KtwFile(c, FileHandle, IoStatusBlock);
}

static NTSTATUS KtwReadWrite(ULONG Service, HANDLE FileHandle, HANDLE Event, PIO_STATUS_BLOCK IoStatusBlock,
                             PVOID Buffer, ULONG Length, PLARGE_INTEGER ByteOffset)
{
    KTW_CALL *c = KtwBegin(Service);
    KtwArg(c, (ULONG64)FileHandle); KtwArg(c, (ULONG64)Event); KtwArg(c, KTW_NZ(IoStatusBlock));
    KtwArg(c, (ULONG64)Buffer); KtwArg(c, Length); KtwArg(c, KTW_NZ(ByteOffset));
    if (ByteOffset) {
        KtwIn(c, (ULONG64)ByteOffset->QuadPart);
        KtwIn(c, ((ULONG_PTR)ByteOffset & 7) == 0);
    }
    if (KTW_WRITES_IOSB(KtwPlan.Status))
        KtwWriteIosb(IoStatusBlock);
    return KtwPlan.Status;
}

NTSTATUS Wow64KtNtReadFile(HANDLE FileHandle, HANDLE Event, PIO_STATUS_BLOCK IoStatusBlock, PVOID Buffer, ULONG Length,
                           PLARGE_INTEGER ByteOffset)
{
    return KtwReadWrite(KTW_SVC_READ, FileHandle, Event, IoStatusBlock, Buffer, Length, ByteOffset);
}

NTSTATUS Wow64KtNtWriteFile(HANDLE FileHandle, HANDLE Event, PIO_STATUS_BLOCK IoStatusBlock, PVOID Buffer, ULONG Length,
                            PLARGE_INTEGER ByteOffset)
{
    return KtwReadWrite(KTW_SVC_WRITE, FileHandle, Event, IoStatusBlock, Buffer, Length, ByteOffset);
}

NTSTATUS Wow64KtNtClose(HANDLE Handle)
{
    KTW_CALL *c = KtwBegin(KTW_SVC_CLOSE);
    KtwArg(c, (ULONG64)Handle);
    return KtwPlan.Status;
}

NTSTATUS Wow64KtNtDeviceIoControlFile(HANDLE FileHandle, HANDLE Event, PIO_STATUS_BLOCK IoStatusBlock,
                                      ULONG IoControlCode, PVOID InputBuffer, ULONG InputBufferLength,
                                      PVOID OutputBuffer, ULONG OutputBufferLength)
{
    KTW_CALL *c = KtwBegin(KTW_SVC_IOCTL);
    KtwArg(c, (ULONG64)FileHandle); KtwArg(c, (ULONG64)Event); KtwArg(c, KTW_NZ(IoStatusBlock));
    KtwArg(c, IoControlCode); KtwArg(c, (ULONG64)InputBuffer); KtwArg(c, InputBufferLength);
    KtwArg(c, (ULONG64)OutputBuffer); KtwArg(c, OutputBufferLength);
    if (KTW_WRITES_IOSB(KtwPlan.Status))
        KtwWriteIosb(IoStatusBlock);
    return KtwPlan.Status;
}

NTSTATUS Wow64KtNtWaitForSingleObject(HANDLE Handle, BOOLEAN Alertable, PLARGE_INTEGER Timeout)
{
    KTW_CALL *c = KtwBegin(KTW_SVC_WAIT);
    KtwArg(c, (ULONG64)Handle); KtwArg(c, Alertable); KtwArg(c, KTW_NZ(Timeout));
    if (Timeout) {
        KtwIn(c, (ULONG64)Timeout->QuadPart);
        KtwIn(c, ((ULONG_PTR)Timeout & 7) == 0);
    }
    return KtwPlan.Status;
}

NTSTATUS Wow64KtNtCreateEvent(PHANDLE EventHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                              EVENT_TYPE EventType, BOOLEAN InitialState)
{
    KTW_CALL *c = KtwBegin(KTW_SVC_CREATEEVENT);
    KtwArg(c, KTW_NZ(EventHandle)); KtwArg(c, DesiredAccess); KtwArg(c, KTW_NZ(ObjectAttributes));
    KtwArg(c, (ULONG64)EventType); KtwArg(c, InitialState);
    KtwObjectAttributes(c, ObjectAttributes);
    if (!EventHandle)
        return STATUS_ACCESS_VIOLATION;
    if (NT_SUCCESS(KtwPlan.Status))
        *EventHandle = (HANDLE)KtwPlan.Out[0];
    return KtwPlan.Status;
}

NTSTATUS Wow64KtNtDuplicateObject(HANDLE SourceProcessHandle, HANDLE SourceHandle, HANDLE TargetProcessHandle,
                                  PHANDLE TargetHandle, ACCESS_MASK DesiredAccess, ULONG HandleAttributes, ULONG Options)
{
    KTW_CALL *c = KtwBegin(KTW_SVC_DUPLICATE);
    KtwArg(c, (ULONG64)SourceProcessHandle); KtwArg(c, (ULONG64)SourceHandle); KtwArg(c, (ULONG64)TargetProcessHandle);
    KtwArg(c, KTW_NZ(TargetHandle)); KtwArg(c, DesiredAccess); KtwArg(c, HandleAttributes); KtwArg(c, Options);
    if (NT_SUCCESS(KtwPlan.Status) && TargetHandle)
        *TargetHandle = (HANDLE)KtwPlan.Out[0];
    return KtwPlan.Status;
}

NTSTATUS Wow64KtNtQueryInformationProcess(HANDLE ProcessHandle, ULONG ProcessInformationClass, PVOID ProcessInformation,
                                          ULONG ProcessInformationLength, PULONG ReturnLength)
{
    KTW_CALL *c = KtwBegin(KTW_SVC_QUERYPROCESS);
    KtwArg(c, (ULONG64)ProcessHandle); KtwArg(c, ProcessInformationClass); KtwArg(c, KTW_NZ(ProcessInformation));
    KtwArg(c, ProcessInformationLength); KtwArg(c, KTW_NZ(ReturnLength));
    if (!ProcessInformation)
        return STATUS_ACCESS_VIOLATION;
    if (ProcessInformationLength != sizeof(PROCESS_BASIC_INFORMATION64))
        return STATUS_INFO_LENGTH_MISMATCH;
    if (NT_SUCCESS(KtwPlan.Status)) {
        PPROCESS_BASIC_INFORMATION64 p = ProcessInformation;
        p->ExitStatus = (NTSTATUS)KtwPlan.Out[1];
        p->Reserved0 = 0xB0B0B0B0;
        p->PebBaseAddress = KtwPlan.Out[0];
        p->AffinityMask = KtwPlan.Out[3];
        p->BasePriority = 8;
        p->Reserved1 = 0xB1B1B1B1;
        p->UniqueProcessId = KtwPlan.Out[4];
        p->InheritedFromUniqueProcessId = KtwPlan.Out[5];
        if (ReturnLength)
            *ReturnLength = sizeof(PROCESS_BASIC_INFORMATION64);
    }
    return KtwPlan.Status;
}

/* ---- The checkpoint ---- */
static const PWOW64_THUNK KtwThunks[KTW_SVC_COUNT] = {
    whNtAllocateVirtualMemory, whNtFreeVirtualMemory, whNtProtectVirtualMemory, whNtQueryVirtualMemory,
    whNtCreateFile, whNtOpenFile, whNtReadFile, whNtWriteFile, whNtClose, whNtDeviceIoControlFile,
    whNtWaitForSingleObject, whNtCreateEvent, whNtDuplicateObject, whNtQueryInformationProcess,
};

static VOID KtwAppend(PCHAR Out, SIZE_T Size, SIZE_T *Used, PCSTR Format, ...)
{
    if (*Used + 1 >= Size)
        return;
    va_list args;
    va_start(args, Format);
    ULONG n = RtlFormatStringV(Out + *Used, Size - *Used, Format, args);
    va_end(args);
    *Used += n;
    if (*Used >= Size)
        *Used = Size - 1;
}

VOID KtwRunThunkCases(PKTEST_CONTEXT Context, ULONG Rounds)
{
    /* A stubbed thunk file reports itself first (whNtClose reads only its slot). */
    ULONG slot = 0;
    RtlZeroMemory(&KtwPlan, sizeof(KtwPlan));
    KtwCallCount = 0;
    if (!KtRequireImplemented(Context, whNtClose(&slot), "whNtClose", "lab 09"))
        return;
    if (!KtwEnter(Context))
        return;
    ULONG stubbed = 0;
    for (ULONG n = 0; n < KTW_CASE_COUNT * Rounds; n++) {
        KTW_CASE kase;
        KtwBuildCase(Context, n, &kase);
        KtwCallCount = 0;
        NTSTATUS status = KtwThunks[kase.Service]((PULONG)(KtwArenaBase + KTW_OFF_ARGS));
        if (status == STATUS_NOT_IMPLEMENTED && KtwCallCount == 0) {
            stubbed++;
            KtFail(Context, "implemented", "%s returned STATUS_NOT_IMPLEMENTED without a native call "
                   "(labs/09-wow64/thunk.c, lab 09)", KtwServiceNames[kase.Service]);
            continue;
        }
        KtValue(Context, "case", "%u %s %08x %u", n, KtwThunkNames[kase.Service], (ULONG)status, KtwCallCount);
        for (ULONG j = 0; j < KtwCallCount && j < 3; j++) {
            KTW_CALL *c = &KtwCalls[j];
            static CHAR line[280];
            SIZE_T used = 0;
            KtwAppend(line, sizeof(line), &used, "%u %u %s ", n, j, KtwServiceNames[c->Service]);
            for (ULONG a = 0; a < c->ArgCount; a++)
                KtwAppend(line, sizeof(line), &used, a ? ",%llx" : "%llx", c->Args[a]);
            KtwAppend(line, sizeof(line), &used, c->InCount ? " " : " -");
            for (ULONG a = 0; a < c->InCount; a++)
                KtwAppend(line, sizeof(line), &used, a ? ",%llx" : "%llx", c->In[a]);
            KtValue(Context, "call", "%s", line);
            if (c->Name[0])
                KtValue(Context, "callname", "%u %u %s", n, j, c->Name);
        }
        for (ULONG s = 0; s < kase.StructCount; s++) {
            static CHAR hex[2 * 80 + 1];
            PUCHAR p = (PUCHAR)(KtwArenaBase + kase.Struct[s].Offset - 4);
            ULONG count = kase.Struct[s].Size + 12 <= 80 ? kase.Struct[s].Size + 12 : 80;
            for (ULONG b = 0; b < count; b++)
                RtlFormatString(hex + 2 * b, 3, "%02x", p[b]);
            hex[2 * count] = 0;
            KtValue(Context, "mem", "%u %u %s %s", n, s, kase.Struct[s].Name, hex);
        }
        /* The canaries, judged here too so that the failure names the structure at once. */
        for (ULONG s = 0; s < kase.StructCount; s++) {
            ULONG off = kase.Struct[s].Offset;
            BOOLEAN before = KtwPoisonIntact(off - 4, 4), after = KtwPoisonIntact(off + kase.Struct[s].Size, 8);
            KtCheck(Context, before && after, "not_past_the_structure",
                    "case %u %s: the %s (%u bytes at 0x%08x) was written %s it", n, KtwThunkNames[kase.Service],
                    kase.Struct[s].Name, kase.Struct[s].Size, (ULONG)(KtwArenaBase + off),
                    after ? "before" : "past the end of");
        }
    }
    if (stubbed == 0)
        KtValue(Context, "cases", "%u", KTW_CASE_COUNT * Rounds);
    KtwLeave(Context);
}

KTEST("wow64.thunks", KtWow64Thunks)
{
    KtwRunThunkCases(Context, 1);
}
