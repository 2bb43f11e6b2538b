/* wowfile.c - lab 09's file, ioctl and handle program (w16f), built 64-bit (System32) and
 * 32-bit (SysWOW64) from this one source. Given a seed it opens \SystemRoot\System32\
 * wowdata.bin (a 32-bit process gets SysWOW64's copy: the first 8 bytes name the copy),
 * turns redirection off and back on, nested (32-bit build; the 64-bit one has nothing to
 * turn off and opens System32's copy every time), reads with seeded offsets and lengths,
 * writes to \Device\Null, is refused a write to the read-only file, sends seeded ioctls to
 * \Device\WowSample (which sees a 32-bit caller's request in the 32-bit layout), duplicates
 * a handle with -1 as the process handle, and passes bad pointers. Every written-back
 * structure (handle, IO_STATUS_BLOCK, reply, data read) is followed by canary bytes that
 * must stay. Records print raw values; the grader (grader/models/lab09f.py) judges each
 * from the seed and compares the two builds where they must agree. */
#include "ktuser.h"

#define FILE_READ_DATA 0x0001
#define FILE_WRITE_DATA 0x0002
#define SYNCHRONIZE 0x00100000
#define DUPLICATE_SAME_ACCESS 0x00000002
#define OBJ_CASE_INSENSITIVE 0x00000040
#define IOCTL_WOWSAMPLE_ECHO ((0x8009u << 16) | (0x900u << 2))   /* CTL_CODE(0x8009, 0x900, BUFFERED, ANY) */
#define WOWDATA_SIZE 5000
#define CANARY 0xA5

typedef struct _STRING {
    USHORT Length;
    USHORT MaximumLength;
    PCHAR Buffer;
} STRING;
typedef struct _OBJECT_ATTRIBUTES {
    HANDLE RootDirectory;
    STRING *ObjectName;
    ULONG Attributes;
} OBJECT_ATTRIBUTES;
typedef struct _IO_STATUS_BLOCK {
    NTSTATUS Status;
    ULONG_PTR Information;
} IO_STATUS_BLOCK;
typedef struct _WOWSAMPLE_REQUEST {   /* the 32-bit build's is WOWSAMPLE_REQUEST32 (20 bytes) */
    HANDLE Event;
    PVOID Buffer;
    ULONG Length;
    ULONG Flags;
    ULONG_PTR Cookie;
} WOWSAMPLE_REQUEST;
typedef struct _WOWSAMPLE_REPLY {     /* the 32-bit build's is WOWSAMPLE_REPLY32 (16 bytes) */
    ULONG_PTR Cookie;
    PVOID Buffer;
    ULONG Length;
    ULONG Is32Bit;
} WOWSAMPLE_REPLY;

NTSTATUS NtCreateFile(PHANDLE FileHandle, ULONG DesiredAccess, OBJECT_ATTRIBUTES *ObjectAttributes,
                      IO_STATUS_BLOCK *IoStatusBlock);
NTSTATUS NtOpenFile(PHANDLE FileHandle, ULONG DesiredAccess, OBJECT_ATTRIBUTES *ObjectAttributes,
                    IO_STATUS_BLOCK *IoStatusBlock, ULONG ShareAccess, ULONG OpenOptions);
NTSTATUS NtReadFile(HANDLE FileHandle, HANDLE Event, IO_STATUS_BLOCK *IoStatusBlock, PVOID Buffer, ULONG Length,
                    LONG64 *ByteOffset);
NTSTATUS NtWriteFile(HANDLE FileHandle, HANDLE Event, IO_STATUS_BLOCK *IoStatusBlock, PVOID Buffer, ULONG Length,
                     LONG64 *ByteOffset);
NTSTATUS NtDeviceIoControlFile(HANDLE FileHandle, HANDLE Event, IO_STATUS_BLOCK *IoStatusBlock, ULONG IoControlCode,
                               PVOID InputBuffer, ULONG InputBufferLength, PVOID OutputBuffer,
                               ULONG OutputBufferLength);
NTSTATUS NtDuplicateObject(HANDLE SourceProcessHandle, HANDLE SourceHandle, HANDLE TargetProcessHandle,
                           PHANDLE TargetHandle, ULONG DesiredAccess, ULONG HandleAttributes, ULONG Options);
NTSTATUS NtClose(HANDLE Handle);
#ifdef __i386__
/* ntdll32's entries into the wow64 layer's per-thread redirection state (the wow64 layer serves them: WOW64_CALL_BASE). */
NTSTATUS Wow64DisableWow64FsRedirection(PVOID *OldValue);
NTSTATUS Wow64RevertWow64FsRedirection(PVOID OldValue);
#endif

static ULONG64 Next(ULONG64 *x)
{
    ULONG64 z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static ULONG Range(ULONG64 *x, ULONG Low, ULONG High)   /* Low..High inclusive */
{
    return Low + (ULONG)(Next(x) % (High - Low + 1));
}

static ULONG Fnv(const UCHAR *p, ULONG n)
{
    ULONG h = 0x811C9DC5u;
    for (ULONG i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x01000193u;
    return h;
}

static int Intact(const UCHAR *p, ULONG n)
{
    for (ULONG i = 0; i < n; i++)
        if (p[i] != CANARY)
            return 0;
    return 1;
}

/* An output slot and the canary bytes after it. */
typedef struct {
    HANDLE Handle;
    UCHAR Canary[8];
} HANDLE_SLOT;
typedef struct {
    IO_STATUS_BLOCK Iosb;
    UCHAR Canary[8];
} IOSB_SLOT;

static void Fill(PVOID p, ULONG n)
{
    memset(p, CANARY, n);
}

/* Opens Path (NtOpenFile, or NtCreateFile when Create): "<status> <handle set> <canaries>". */
static NTSTATUS Open(PCSTR Key, PCSTR Path, ULONG Access, int Create, HANDLE *Out)
{
    STRING name = {(USHORT)strlen(Path), (USHORT)strlen(Path), (PCHAR)Path};
    OBJECT_ATTRIBUTES oa = {NULL, &name, OBJ_CASE_INSENSITIVE};
    HANDLE_SLOT h;
    IOSB_SLOT io;
    Fill(&h, sizeof(h));
    Fill(&io, sizeof(io));
    NTSTATUS st = Create ? NtCreateFile(&h.Handle, Access, &oa, &io.Iosb)
                         : NtOpenFile(&h.Handle, Access, &oa, &io.Iosb, 1, 0);
    int untouched = Intact((const UCHAR *)&h.Handle, sizeof(h.Handle)) && Intact((const UCHAR *)&io.Iosb, sizeof(io.Iosb));
    KtuValue(Key, "0x%x %d %d %d %d", st, NT_SUCCESS(st) ? h.Handle != NULL && !untouched : untouched,
             Intact(h.Canary, 8), Intact(io.Canary, 8), NT_SUCCESS(st) ? (int)io.Iosb.Status : 0);
    *Out = NT_SUCCESS(st) ? h.Handle : NULL;
    return st;
}

/* Reads Length bytes at Offset (at the file's position when Offset < 0):
 * "<status> <information> <fnv of the bytes read> <bytes past them untouched> <iosb canary>". */
static UCHAR Data[WOWDATA_SIZE + 64];
static void Read(PCSTR Key, HANDLE File, LONG64 Offset, ULONG Length)
{
    IOSB_SLOT io;
    Fill(&io, sizeof(io));
    Fill(Data, sizeof(Data));
    LONG64 offset = Offset;
    NTSTATUS st = NtReadFile(File, NULL, &io.Iosb, Data, Length, Offset < 0 ? NULL : &offset);
    ULONG got = NT_SUCCESS(st) ? (ULONG)io.Iosb.Information : 0;
    if (got > Length)
        got = 0;
    KtuValue(Key, "0x%x %u 0x%08x %d %d %d", st, got, Fnv(Data, got), Intact(Data + got, sizeof(Data) - got),
             Intact(io.Canary, 8), NT_SUCCESS(st) ? io.Iosb.Status == st : Intact((const UCHAR *)&io.Iosb, sizeof(io.Iosb)));
}

/* The copy a handle names: its first 8 bytes ("System32" or "SysWOW64"). */
static void Which(PCSTR Key, HANDLE File)
{
    IOSB_SLOT io;
    LONG64 zero = 0;
    char marker[9] = {0};
    Fill(&io, sizeof(io));
    NTSTATUS st = File ? NtReadFile(File, NULL, &io.Iosb, marker, 8, &zero) : (NTSTATUS)0xC0000008;
    for (int i = 0; i < 8; i++)
        if (marker[i] < '0' || marker[i] > 'z')
            marker[i] = '?';
    KtuValue(Key, "0x%x %s %d", st, NT_SUCCESS(st) ? marker : "-", Intact(io.Canary, 8));
}

static void Ioctl(PCSTR Key, HANDLE Device, ULONG Code, ULONG64 *x, int ShortIn, int ShortOut)
{
    struct {
        WOWSAMPLE_REQUEST Request;
        UCHAR Canary[8];
    } in;
    struct {
        WOWSAMPLE_REPLY Reply;
        UCHAR Canary[8];
    } out;
    IOSB_SLOT io;
    Fill(&in, sizeof(in));
    Fill(&out, sizeof(out));
    Fill(&io, sizeof(io));
    ULONG64 cookie = Next(x);
    in.Request.Event = (HANDLE)(ULONG_PTR)Range(x, 1, 0x7FFF);
    in.Request.Buffer = (PVOID)(ULONG_PTR)(Range(x, 0x10000, 0x3FFFFFFF) & ~0xFu);
    in.Request.Length = Range(x, 1, 0x10000);
    in.Request.Flags = (ULONG)Next(x);
    in.Request.Cookie = (ULONG_PTR)cookie;
    /* The output length leaves room past the reply: the driver must write exactly its size. */
    NTSTATUS st = NtDeviceIoControlFile(Device, NULL, &io.Iosb, Code, &in.Request,
                                        sizeof(in.Request) - (ShortIn ? 1 : 0), &out.Reply,
                                        ShortOut ? sizeof(out.Reply) - 1 : sizeof(out));
    KtuValue(Key, "0x%x %u 0x%llx 0x%llx %u %u %d %d %d", st, NT_SUCCESS(st) ? (ULONG)io.Iosb.Information : 0,
             (ULONG64)out.Reply.Cookie, (ULONG64)(ULONG_PTR)out.Reply.Buffer, out.Reply.Length, out.Reply.Is32Bit,
             Intact(out.Canary, 8), Intact(io.Canary, 8),
             NT_SUCCESS(st) ? io.Iosb.Status == st : Intact((const UCHAR *)&io.Iosb, sizeof(io.Iosb)));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        KtuPrint("usage: wowfile SEED");
        return 2;
    }
    ULONG64 x = RtlStringToUlong64(argv[1], NULL);
    static const char path[] = "\\SystemRoot\\System32\\wowdata.bin";
    HANDLE f = NULL, g = NULL;
    KtuValue("bits", "%u", (ULONG)sizeof(PVOID) * 8);

    /* Redirection: System32 -> SysWOW64 for the 32-bit build, then off, nested, and back. */
    Open("open.a", path, FILE_READ_DATA | SYNCHRONIZE, 0, &f);
    Which("which.a", f);
#ifdef __i386__
    PVOID old1 = (PVOID)0x55, old2 = (PVOID)0x55;
    NTSTATUS s1 = Wow64DisableWow64FsRedirection(&old1);
    Open("open.b", path, FILE_READ_DATA, 1, &g);      /* NtCreateFile, redirection off */
    Which("which.b", g);
    NtClose(g);
    NTSTATUS s2 = Wow64DisableWow64FsRedirection(&old2);
    Open("open.c", path, FILE_READ_DATA, 0, &g);
    Which("which.c", g);
    NtClose(g);
    NTSTATUS s3 = Wow64RevertWow64FsRedirection(old2);
    Open("open.d", path, FILE_READ_DATA, 0, &g);      /* the inner revert leaves it off */
    Which("which.d", g);
    NtClose(g);
    NTSTATUS s4 = Wow64RevertWow64FsRedirection(old1);
    KtuValue("redir", "0x%x %u 0x%x %u 0x%x 0x%x", s1, (ULONG)(ULONG_PTR)old1, s2, (ULONG)(ULONG_PTR)old2, s3, s4);
#else
    Open("open.b", path, FILE_READ_DATA, 1, &g);
    Which("which.b", g);
    NtClose(g);
    Open("open.c", path, FILE_READ_DATA, 0, &g);
    Which("which.c", g);
    NtClose(g);
    Open("open.d", path, FILE_READ_DATA, 0, &g);
    Which("which.d", g);
    NtClose(g);
    KtuValue("redir", "native");
#endif
    Open("open.e", path, FILE_READ_DATA, 0, &g);      /* on again: SysWOW64 for the 32-bit build */
    Which("which.e", g);
    NtClose(g);
    Open("open.f", "\\SystemRoot\\Sysnative\\wowdata.bin", FILE_READ_DATA, 0, &g);
    Which("which.f", g);
    NtClose(g);

    /* Reads: seeded offsets and lengths, each case on every seed. */
    ULONG len = Range(&x, 1, 64);
    Read("read.start", f, 0, len);
    ULONG at = Range(&x, 100, 3000);
    len = Range(&x, 100, 1500);
    Read("read.middle", f, at, len);
    Read("read.tail", f, WOWDATA_SIZE - Range(&x, 1, 50), 100);   /* short: stops at the end */
    Read("read.end", f, WOWDATA_SIZE, Range(&x, 1, 16));          /* at the end: STATUS_END_OF_FILE */
    Read("read.past", f, WOWDATA_SIZE + Range(&x, 1, 1000), 8);
    Read("read.pos1", f, -1, Range(&x, 1, 700));                  /* the file's position (0, then on) */
    Read("read.pos2", f, -1, Range(&x, 1, 700));
    Read("read.zero", f, Range(&x, 0, 4000), 0);

    /* Writes: the file is read-only; \Device\Null takes every byte. */
    IOSB_SLOT io;
    Fill(&io, sizeof(io));
    NTSTATUS st = NtWriteFile(f, NULL, &io.Iosb, Data, 16, NULL);
    KtuValue("write.readonly", "0x%x %d", st, Intact((const UCHAR *)&io, sizeof(io)));
    Open("open.w", path, FILE_WRITE_DATA, 0, &g);                  /* refused: nothing written */
    HANDLE n = NULL;
    Open("open.null", "\\Device\\Null", FILE_WRITE_DATA, 1, &n);
    ULONG wl = Range(&x, 1, 4096);
    Fill(&io, sizeof(io));
    st = NtWriteFile(n, NULL, &io.Iosb, Data, wl, NULL);
    KtuValue("write.null", "0x%x %u %u %d %d", st, wl, (ULONG)io.Iosb.Information, io.Iosb.Status == st,
             Intact(io.Canary, 8));

    /* Ioctls to \Device\WowSample: two good ones, a short input, a short output, a bad code. */
    HANDLE d = NULL;
    Open("open.sample", "\\Device\\WowSample", FILE_READ_DATA | FILE_WRITE_DATA, 0, &d);
    Ioctl("ioctl.a", d, IOCTL_WOWSAMPLE_ECHO, &x, 0, 0);
    Ioctl("ioctl.b", d, IOCTL_WOWSAMPLE_ECHO, &x, 0, 0);
    Ioctl("ioctl.shortin", d, IOCTL_WOWSAMPLE_ECHO, &x, 1, 0);
    Ioctl("ioctl.shortout", d, IOCTL_WOWSAMPLE_ECHO, &x, 0, 1);
    Ioctl("ioctl.badcode", d, IOCTL_WOWSAMPLE_ECHO + 4, &x, 0, 0);

    /* A duplicate through -1 reads the same file; closing it twice fails the second time. */
    HANDLE_SLOT dup;
    Fill(&dup, sizeof(dup));
    st = NtDuplicateObject(NtCurrentProcess(), f, NtCurrentProcess(), &dup.Handle, 0, 0, DUPLICATE_SAME_ACCESS);
    KtuValue("dup", "0x%x %d %d", st, dup.Handle != f && dup.Handle != NULL, Intact(dup.Canary, 8));
    Which("which.dup", NT_SUCCESS(st) ? dup.Handle : NULL);
    NTSTATUS c1 = NtClose(dup.Handle);
    NTSTATUS c2 = NtClose(dup.Handle);
    KtuValue("close.dup", "0x%x 0x%x", c1, c2);

    /* Bad pointers the kernel is given (the 32-bit build's thunks pass a data buffer through
     * widened): STATUS_ACCESS_VIOLATION, nothing written. A bad IO_STATUS_BLOCK, offset or
     * OBJECT_ATTRIBUTES of the 32-bit build would fault in the wow64 layer, which reads and
     * writes them in user mode: not asked here. */
    LONG64 zero = 0;
    Fill(&io, sizeof(io));
    st = NtReadFile(f, NULL, &io.Iosb, (PVOID)0x10, 8, &zero);
    KtuValue("bad.buffer", "0x%x %d", st, Intact((const UCHAR *)&io, sizeof(io)));
    Fill(&io, sizeof(io));
    st = NtWriteFile(n, NULL, &io.Iosb, (PVOID)0x7FFE0000, 64, NULL);
    KtuValue("bad.data", "0x%x %d", st, Intact((const UCHAR *)&io, sizeof(io)));
    Fill(&io, sizeof(io));
    st = NtReadFile((HANDLE)(ULONG_PTR)0x7FF0, NULL, &io.Iosb, Data, 8, &zero);
    KtuValue("bad.handle", "0x%x %d", st, Intact((const UCHAR *)&io, sizeof(io)));

    NTSTATUS cf = NtClose(f), cn = NtClose(n), cd = NtClose(d);
    KtuValue("close", "0x%x 0x%x 0x%x", cf, cn, cd);
    return 0;
}
