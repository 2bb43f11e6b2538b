/* wow64_support.c - lab 09's test support: the arena below 2 GiB, its poison, and the
 * seeded cases of the thunk checkpoint. grader/models/lab09.py builds the same cases from
 * the seed (same draws, same formulas): change both together. */
#include "mm.h"
#include "wow64_support.h"

PCSTR const KtwServiceNames[KTW_SVC_COUNT] = {
    "NtAllocateVirtualMemory", "NtFreeVirtualMemory", "NtProtectVirtualMemory", "NtQueryVirtualMemory",
    "NtCreateFile", "NtOpenFile", "NtReadFile", "NtWriteFile", "NtClose", "NtDeviceIoControlFile",
    "NtWaitForSingleObject", "NtCreateEvent", "NtDuplicateObject", "NtQueryInformationProcess",
};
PCSTR const KtwThunkNames[KTW_SVC_COUNT] = {
    "whNtAllocateVirtualMemory", "whNtFreeVirtualMemory", "whNtProtectVirtualMemory", "whNtQueryVirtualMemory",
    "whNtCreateFile", "whNtOpenFile", "whNtReadFile", "whNtWriteFile", "whNtClose", "whNtDeviceIoControlFile",
    "whNtWaitForSingleObject", "whNtCreateEvent", "whNtDuplicateObject", "whNtQueryInformationProcess",
};

ULONG_PTR KtwArenaBase;
static PFN_NUMBER KtwArenaPfn[KTW_ARENA_PAGES];
static ULONG KtwArenaMapped;
static ULONG64 KtwPoison;

/* (service, variant) of each case, in order. */
static const UCHAR KtwCaseTable[KTW_CASE_COUNT][2] = {
    {KTW_SVC_ALLOCATE, 0}, {KTW_SVC_ALLOCATE, 1}, {KTW_SVC_ALLOCATE, 2}, {KTW_SVC_ALLOCATE, 3},
    {KTW_SVC_ALLOCATE, 4}, {KTW_SVC_ALLOCATE, 5}, {KTW_SVC_ALLOCATE, 6},
    {KTW_SVC_FREE, 0}, {KTW_SVC_FREE, 1}, {KTW_SVC_PROTECT, 0}, {KTW_SVC_PROTECT, 1},
    {KTW_SVC_QUERYVM, 0}, {KTW_SVC_QUERYVM, 1}, {KTW_SVC_QUERYVM, 2}, {KTW_SVC_QUERYVM, 3},
    {KTW_SVC_CREATEFILE, 0}, {KTW_SVC_CREATEFILE, 1}, {KTW_SVC_CREATEFILE, 2},
    {KTW_SVC_OPENFILE, 0}, {KTW_SVC_OPENFILE, 1}, {KTW_SVC_READ, 0}, {KTW_SVC_READ, 1},
    {KTW_SVC_WRITE, 0}, {KTW_SVC_WRITE, 1}, {KTW_SVC_CLOSE, 0}, {KTW_SVC_CLOSE, 1},
    {KTW_SVC_IOCTL, 0}, {KTW_SVC_IOCTL, 1}, {KTW_SVC_WAIT, 0}, {KTW_SVC_WAIT, 1},
    {KTW_SVC_CREATEEVENT, 0}, {KTW_SVC_CREATEEVENT, 1}, {KTW_SVC_DUPLICATE, 0}, {KTW_SVC_DUPLICATE, 1},
    {KTW_SVC_QUERYPROCESS, 0}, {KTW_SVC_QUERYPROCESS, 1}, {KTW_SVC_QUERYPROCESS, 2},
};

static PCSTR const KtwFiles[4] = {"ntdll.dll", "kernel32.dll", "wowtest.exe", "config\\system"};

UCHAR KtwPoisonByte(ULONG Offset)
{
    return (UCHAR)(((KtwPoison >> ((Offset & 7) * 8)) & 0xFF) ^ ((Offset >> 3) & 0xFF));
}

BOOLEAN KtwPoisonIntact(ULONG Offset, ULONG Size)
{
    for (ULONG i = 0; i < Size; i++)
        if (((PUCHAR)KtwArenaBase)[Offset + i] != KtwPoisonByte(Offset + i))
            return FALSE;
    return TRUE;
}

BOOLEAN KtwInArena(ULONG_PTR Address, SIZE_T Size)
{
    return KtwArenaMapped == KTW_ARENA_PAGES && Address >= KtwArenaBase && Size <= KTW_ARENA_BYTES &&
           Address - KtwArenaBase <= KTW_ARENA_BYTES - Size;
}

BOOLEAN KtwEnter(PKTEST_CONTEXT Context)
{
    KtSetBudget(Context, 5000);
    KtwArenaBase = KtRandomRange(Context, 0x100, 0x6FFF) << 16;
    KtwPoison = KtRandom(Context) | 0x0101010101010101ULL;
    KtwArenaMapped = 0;
    PMMPTE pml4 = MiCurrentPml4();
    for (ULONG i = 0; i < KTW_ARENA_PAGES; i++) {
        NTSTATUS status = MmAllocatePhysicalPage(0, &KtwArenaPfn[i]);
        if (!KtRequireImplemented(Context, status, "MmAllocatePhysicalPage", "lab 01") ||
            !KtCheck(Context, NT_SUCCESS(status), "arena", "a frame for the arena: status 0x%08X", (ULONG)status))
            return FALSE;
        status = MmMapPage(pml4, KtwArenaBase + i * 4096ULL, KtwArenaPfn[i], MM_PROTECT_WRITE, 0);
        if (!KtRequireImplemented(Context, status, "MmMapPage", "lab 02") ||
            !KtCheck(Context, NT_SUCCESS(status), "arena", "mapping the arena at 0x%llx: status 0x%08X",
                     (ULONG64)(KtwArenaBase + i * 4096ULL), (ULONG)status)) {
            MmFreePhysicalPage(KtwArenaPfn[i]);
            return FALSE;
        }
        KtwArenaMapped++;
    }
    KtValue(Context, "arena", "0x%llx", (ULONG64)KtwArenaBase);
    return TRUE;
}

VOID KtwLeave(PKTEST_CONTEXT Context)
{
    UNREFERENCED_PARAMETER(Context);
    PMMPTE pml4 = MiCurrentPml4();
    for (ULONG i = 0; i < KtwArenaMapped; i++) {
        PFN_NUMBER pfn;
        if (NT_SUCCESS(MmUnmapPage(pml4, KtwArenaBase + i * 4096ULL, &pfn)))
            MmFreePhysicalPage(pfn);
    }
    KtwArenaMapped = 0;
    KtwCurrentThread = 0;
    KtwThreadData[0].FsRedirectionDisabled = WOW64_FSREDIR_ENABLED;
    KtwThreadData[1].FsRedirectionDisabled = WOW64_FSREDIR_ENABLED;
    KtwLimit = MM_HIGHEST_USER_ADDRESS_WOW64;
}

/* ---- Building a case (grader/models/lab09.py: build_case) ---- */
static ULONG KtwHandle(ULONG Kind, ULONG64 R)
{
    switch (Kind) {
    case 0: return 0xFFFFFFFF;                              /* NtCurrentProcess() */
    case 1: return 0xFFFFFFFE;                              /* NtCurrentThread() */
    case 2: return 4 * (1 + (ULONG)(R % 0x3FFF));
    default: return 0x80000000 | (4 * (1 + (ULONG)(R % 0x3FFF)));
    }
}

static ULONG KtwPtr(BOOLEAN High, ULONG64 R)
{
    return (High ? 0x80000000 : 0x00010000) + ((ULONG)(R % 0x7FFE) << 16) + (ULONG)((R >> 20) & 0xFFF);
}

typedef struct _KTW_BUILD {
    KTW_CASE *Case;
    ULONG N;
    PULONG Args;
} KTW_BUILD;

static ULONG KtwStruct(KTW_BUILD *B, ULONG K, ULONG Size, PCSTR Name)
{
    ULONG off = 0x100 + 0x100 * K + 4 * ((B->N + K) & 1);
    KTW_CASE *c = B->Case;
    c->Struct[c->StructCount].Offset = off;
    c->Struct[c->StructCount].Size = Size;
    c->Struct[c->StructCount].Name = Name;
    c->StructCount++;
    return off;
}

#define KTW_AT(off) ((PVOID)(KtwArenaBase + (off)))
#define KTW_VA(off) ((ULONG)(KtwArenaBase + (off)))

static VOID KtwPut32(ULONG Offset, ULONG Value)
{
    RtlCopyMemory(KTW_AT(Offset), &Value, 4);
}

/* An OBJECT_ATTRIBUTES32 in struct 1, its STRING32 in struct 3, the name's bytes in struct 4. */
static VOID KtwNameAttributes(KTW_BUILD *B, ULONG Root, PCSTR Prefix, PCSTR File)
{
    CHAR name[80];
    ULONG len = RtlFormatString(name, sizeof(name), "%s%s", Prefix, File);
    ULONG oa = KtwStruct(B, 1, sizeof(OBJECT_ATTRIBUTES32), "OBJECT_ATTRIBUTES32");
    ULONG str = KtwStruct(B, 3, sizeof(STRING32), "STRING32");
    ULONG text = KtwStruct(B, 4, len, "name");
    RtlCopyMemory(KTW_AT(text), name, len);
    KtwPut32(str, len | ((len + 2) << 16));
    KtwPut32(str + 4, KTW_VA(text));
    KtwPut32(oa, Root);
    KtwPut32(oa + 4, KTW_VA(str));
    KtwPut32(oa + 8, 0x40);
}

VOID KtwBuildCase(PKTEST_CONTEXT Context, ULONG n, KTW_CASE *Case)
{
    ULONG64 r[12];
    for (ULONG i = 0; i < 12; i++)
        r[i] = KtRandom(Context);
    for (ULONG i = 0; i < KTW_POISON_BYTES; i++)
        ((PUCHAR)KtwArenaBase)[i] = KtwPoisonByte(i);
    RtlZeroMemory(Case, sizeof(*Case));
    RtlZeroMemory(&KtwPlan, sizeof(KtwPlan));
    Case->Service = KtwCaseTable[n % KTW_CASE_COUNT][0];
    ULONG v = Case->Variant = KtwCaseTable[n % KTW_CASE_COUNT][1];
    KtwThreadData[0].FsRedirectionDisabled = WOW64_FSREDIR_ENABLED;
    KtwThreadData[1].FsRedirectionDisabled = WOW64_FSREDIR_ENABLED;
    KtwCurrentThread = 0;
    KtwLimit = MM_HIGHEST_USER_ADDRESS_WOW64;
    KTW_BUILD b = {Case, n, (PULONG)KTW_AT(KTW_OFF_ARGS)};
    PULONG a = b.Args;
    for (ULONG i = 0; i < 11; i++)
        a[i] = 0;
    ULONG size = (ULONG)((r[1] % 64) + 1) << 12;
    ULONG s0, s1, s2;
    PCSTR system32 = (r[8] & 1) ? "\\SYSTEMROOT\\system32\\" : "\\SystemRoot\\System32\\";
    PCSTR file = KtwFiles[r[7] % 4];
    switch (Case->Service) {
    case KTW_SVC_ALLOCATE: {
        static const UCHAR kinds[7] = {0, 3, 1, 2, 0, 3, 1};
        s0 = KtwStruct(&b, 0, 4, "BaseAddress");
        ULONG base = 0, zb = 0;
        KtwPlan.Status = STATUS_SUCCESS;
        KtwPlan.Out[3] = (size + 0xFFFF) & ~0xFFFFU;
        if (v == 0) {
            KtwPlan.Out[0] = 0x00010000 + ((r[2] % 0x7FF0) << 16);
        } else if (v == 1) {
            KtwLimit = MM_HIGHEST_USER_ADDRESS_WOW64_LAA;
            base = 0x80000000 + ((ULONG)(r[2] % 0x7000) << 16);
            KtwPlan.Out[0] = base;
        } else if (v == 2) {
            base = 0x7FFE0000 - ((ULONG)(r[2] % 4) << 16);
            size = ((ULONG)(r[2] % 4) + 2) << 16;
        } else if (v == 3) {
            base = 0x80000000 | ((ULONG)(r[2] % 0x7FFF) << 16);
        } else if (v == 4) {
            KtwPlan.Status = (r[4] & 1) ? STATUS_CONFLICTING_ADDRESSES : STATUS_NO_MEMORY;
        } else if (v == 5) {
            KtwPlan.Out[0] = 0x80000000 + ((r[2] % 0x7000) << 16);
        }
        KtwPut32(s0, base);
        a[0] = KtwHandle(kinds[v], r[0]);
        a[1] = KTW_VA(s0);
        if (v == 6)
            zb = 2 + (ULONG)(r[3] % 19);
        a[2] = zb;
        if (v == 6) {
            a[3] = 0;
        } else {
            s1 = KtwStruct(&b, 1, 4, "RegionSize");
            KtwPut32(s1, size);
            a[3] = KTW_VA(s1);
        }
        a[4] = v == 0 ? 0x103000 : 0x3000;
        a[5] = v == 1 ? 0x40 : 0x04;
        break;
    }
    case KTW_SVC_FREE:
    case KTW_SVC_PROTECT: {
        ULONG base = KtwPtr(TRUE, r[2]);
        s0 = KtwStruct(&b, 0, 4, "BaseAddress");
        s1 = KtwStruct(&b, 1, 4, "RegionSize");
        KtwPut32(s0, base);
        KtwPut32(s1, size);
        KtwPlan.Out[0] = base & ~0xFFFU;
        KtwPlan.Out[3] = (size + (base & 0xFFF) + 0xFFF) & ~0xFFFU;
        a[1] = KTW_VA(s0);
        a[2] = KTW_VA(s1);
        if (Case->Service == KTW_SVC_FREE) {
            a[0] = KtwHandle(v == 0 ? 0 : 3, r[0]);
            a[3] = v == 0 ? MEM_DECOMMIT : MEM_RELEASE;
            KtwPlan.Status = v == 0 ? STATUS_SUCCESS : (NTSTATUS)0xC000009F;   /* STATUS_FREE_VM_NOT_AT_BASE */
        } else {
            s2 = KtwStruct(&b, 2, 4, "OldProtect");
            a[0] = KtwHandle(v == 0 ? 1 : 2, r[0]);
            a[3] = 0x02;
            a[4] = KTW_VA(s2);
            KtwPlan.Out[4] = 0x04;
            KtwPlan.Status = v == 0 ? STATUS_SUCCESS : (NTSTATUS)0xC0000045;  /* STATUS_INVALID_PAGE_PROTECTION */
        }
        break;
    }
    case KTW_SVC_QUERYVM: {
        s0 = KtwStruct(&b, 0, sizeof(MEMORY_BASIC_INFORMATION32), "MEMORY_BASIC_INFORMATION32");
        a[0] = KtwHandle(v == 3 ? 3 : 0, r[0]);
        a[1] = KtwPtr(v != 3, r[2]);
        a[2] = v == 2 ? 1 + (ULONG)(r[3] % 5) : 0;
        a[3] = KTW_VA(s0);
        a[4] = v == 1 ? 27 - (ULONG)(r[3] % 8) : 28 + (ULONG)(r[3] % 8);
        if (v == 3) {
            a[5] = 0;
        } else {
            s1 = KtwStruct(&b, 1, 4, "ReturnLength");
            a[5] = KTW_VA(s1);
        }
        KtwPlan.Status = v == 3 ? STATUS_INVALID_PARAMETER : STATUS_SUCCESS;
        KtwPlan.Out[0] = a[1] & ~0xFFFU;
        KtwPlan.Out[3] = ((r[5] % 32) + 1) << 12;
        KtwPlan.Out[4] = 0x04;
        KtwPlan.Out[5] = r[4] % 16;
        KtwPlan.Out[6] = 0x02;
        break;
    }
    case KTW_SVC_CREATEFILE:
    case KTW_SVC_OPENFILE: {
        s0 = KtwStruct(&b, 0, 4, "FileHandle");
        s2 = KtwStruct(&b, 2, sizeof(IO_STATUS_BLOCK32), "IO_STATUS_BLOCK32");
        ULONG root = 0;
        PCSTR prefix = system32;
        KtwPlan.Status = STATUS_SUCCESS;
        KtwPlan.Out[2] = 1 + (r[9] & 1);
        if (Case->Service == KTW_SVC_CREATEFILE) {
            if (v == 1) {
                root = KtwHandle(3, r[5]);
                KtwPlan.Status = STATUS_OBJECT_NAME_EXISTS;
                KtwPlan.Out[2] |= 0x100000000ULL;
            } else if (v == 2) {
                prefix = "\\Device\\";
                file = "WowSample";
                KtwPlan.Status = STATUS_OBJECT_NAME_NOT_FOUND;
            }
        } else {
            if (v == 0)
                KtwThreadData[0].FsRedirectionDisabled = WOW64_FSREDIR_DISABLED;
            else {
                prefix = "\\SystemRoot\\Sysnative\\";
                KtwPlan.Status = STATUS_PENDING;
            }
        }
        KtwNameAttributes(&b, root, prefix, file);
        KtwPlan.Out[0] = 4 * (1 + (r[6] % 0x3FFF));
        KtwPlan.Out[1] = (ULONG64)(ULONG)KtwPlan.Status;
        a[0] = KTW_VA(s0);
        a[1] = 0x00120089 | ((ULONG)(r[10] & 1) << 1);
        a[2] = KTW_VA(b.Case->Struct[2].Offset);     /* the OBJECT_ATTRIBUTES32 */
        a[3] = KTW_VA(s2);
        if (Case->Service == KTW_SVC_OPENFILE) {
            a[4] = (ULONG)(r[11] & 7);
            a[5] = 0x20 | (ULONG)((r[11] >> 3) & 0x40);
        }
        break;
    }
    case KTW_SVC_READ:
    case KTW_SVC_WRITE: {
        s0 = KtwStruct(&b, 0, sizeof(IO_STATUS_BLOCK32), "IO_STATUS_BLOCK32");
        ULONG length = 1 + (ULONG)(r[3] % 0x10000);
        a[0] = KtwHandle(2, r[0]);
        a[2] = KTW_VA(s0);
        a[3] = KtwPtr(v == 0, r[2]);
        a[4] = length;
        if (v == 0) {
            s1 = KtwStruct(&b, 1, sizeof(LARGE_INTEGER32), "LARGE_INTEGER32");
            ULONG64 offset = r[5] & 0x7FFFFFFFFFFFULL;
            KtwPut32(s1, (ULONG)offset);
            KtwPut32(s1 + 4, (ULONG)(offset >> 32));
            a[5] = KTW_VA(s1);
        }
        KtwPlan.Out[2] = length;
        if (Case->Service == KTW_SVC_READ) {
            a[1] = KtwHandle(v == 0 ? 0 : 3, r[1]);
            KtwPlan.Status = v == 0 ? STATUS_SUCCESS : STATUS_PENDING;
        } else {
            a[1] = v == 0 ? KtwHandle(2, r[1]) : 0;
            KtwPlan.Status = v == 0 ? STATUS_SUCCESS : (NTSTATUS)0xC000007F;  /* STATUS_DISK_FULL */
            KtwPlan.Out[2] |= 0x100000000ULL;
        }
        KtwPlan.Out[1] = (ULONG64)(ULONG)KtwPlan.Status;
        break;
    }
    case KTW_SVC_CLOSE:
        a[0] = KtwHandle(v == 0 ? 3 : 1, r[0]);
        KtwPlan.Status = v == 0 ? STATUS_SUCCESS : STATUS_INVALID_HANDLE;
        break;
    case KTW_SVC_IOCTL:
        s0 = KtwStruct(&b, 0, sizeof(IO_STATUS_BLOCK32), "IO_STATUS_BLOCK32");
        a[0] = KtwHandle(3, r[0]);
        a[1] = KtwHandle(v == 0 ? 2 : 0, r[1]);
        a[2] = KTW_VA(s0);
        a[3] = IOCTL_WOWSAMPLE_ECHO;
        a[4] = KtwPtr(TRUE, r[2]);
        a[5] = sizeof(WOWSAMPLE_REQUEST32);
        a[6] = KtwPtr(FALSE, r[3]);
        a[7] = sizeof(WOWSAMPLE_REPLY32) + (ULONG)(r[4] % 8);
        KtwPlan.Status = v == 0 ? STATUS_SUCCESS : STATUS_BUFFER_OVERFLOW;
        KtwPlan.Out[1] = (ULONG64)(ULONG)KtwPlan.Status;
        KtwPlan.Out[2] = sizeof(WOWSAMPLE_REPLY32);
        break;
    case KTW_SVC_WAIT:
        a[0] = KtwHandle(v == 0 ? 1 : 2, r[0]);
        a[1] = v == 0 ? (((ULONG)r[1] & 0xFF00) | 1) : 0x0100;
        if (v == 0) {
            s0 = KtwStruct(&b, 0, sizeof(LARGE_INTEGER32), "LARGE_INTEGER32");
            LONG64 timeout = -(LONG64)(r[2] % 10000000 + 1);
            KtwPut32(s0, (ULONG)timeout);
            KtwPut32(s0 + 4, (ULONG)((ULONG64)timeout >> 32));
            a[2] = KTW_VA(s0);
            KtwPlan.Status = (NTSTATUS)0x00000102;   /* STATUS_TIMEOUT */
        } else {
            KtwPlan.Status = STATUS_SUCCESS;
        }
        break;
    case KTW_SVC_CREATEEVENT:
        s0 = KtwStruct(&b, 0, 4, "EventHandle");
        a[0] = KTW_VA(s0);
        a[1] = 0x001F0003;
        if (v == 0) {
            KtwNameAttributes(&b, 0, system32, file);
            a[2] = KTW_VA(b.Case->Struct[1].Offset);
            a[3] = 0;
            a[4] = 0x0201;
            KtwPlan.Status = STATUS_SUCCESS;
        } else {
            a[2] = 0;
            a[3] = 1;
            a[4] = 0x0100;
            KtwPlan.Status = STATUS_INSUFFICIENT_RESOURCES;
        }
        KtwPlan.Out[0] = 4 * (1 + (r[6] % 0x3FFF));
        break;
    case KTW_SVC_DUPLICATE:
        if (v == 0) {
            s0 = KtwStruct(&b, 0, 4, "TargetHandle");
            a[0] = 0xFFFFFFFF;
            a[1] = 0xFFFFFFFE;
            a[2] = 0xFFFFFFFF;
            a[3] = KTW_VA(s0);
            a[6] = DUPLICATE_SAME_ACCESS;
            KtwPlan.Status = STATUS_SUCCESS;
        } else {
            a[0] = KtwHandle(3, r[0]);
            a[1] = KtwHandle(2, r[1]);
            a[2] = KtwHandle(0, r[2]);
            a[3] = 0;
            a[4] = 0x001F0003;
            KtwPlan.Status = STATUS_INVALID_HANDLE;
        }
        KtwPlan.Out[0] = 4 * (1 + (r[6] % 0x3FFF));
        break;
    case KTW_SVC_QUERYPROCESS:
        s0 = KtwStruct(&b, 0, sizeof(PROCESS_BASIC_INFORMATION32), "PROCESS_BASIC_INFORMATION32");
        s1 = KtwStruct(&b, 1, 4, "ReturnLength");
        a[0] = KtwHandle(0, r[0]);
        a[1] = v == 2 ? 26 : ProcessBasicInformation;
        a[2] = KTW_VA(s0);
        a[3] = v == 1 ? sizeof(PROCESS_BASIC_INFORMATION64) : sizeof(PROCESS_BASIC_INFORMATION32);
        a[4] = KTW_VA(s1);
        KtwPlan.Status = STATUS_SUCCESS;
        KtwPlan.Out[0] = 0x7F000000 - ((r[2] % 256) << 12);
        KtwPlan.Out[1] = STATUS_PENDING;
        KtwPlan.Out[3] = 1;
        KtwPlan.Out[4] = 4 * (r[3] % 1000 + 1);
        KtwPlan.Out[5] = 4 * (r[4] % 1000 + 1);
        break;
    }
}
