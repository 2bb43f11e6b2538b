/* wowseh.c - lab 09's exception program (w16x), built 32-bit (SysWOW64; the 64-bit build only
 * says so): given a seed, it loads seeded values into every register and EFlags, then faults -
 * an access violation reading and writing a seeded address, int 3, ud2, a divide by zero -
 * with a handler on the FS:[0] chain, once behind a handler that continues the search; it
 * raises a seeded exception with seeded parameters (RtlRaiseException -> NtRaiseException),
 * and one with too many; and it ends with a fault nothing handles - the chain's next record
 * lies outside the stack, where the walk stops - (the process's exit status is its code). The handler reports the EXCEPTION_RECORD32 and every CONTEXT32 register it
 * sees, moves Eip past the instruction, changes one register and CF, and continues; the
 * program reports the registers it resumed with. The grader (grader/models/lab09x.py) judges
 * every value from the seed; what depends on where the image is loaded (the faulting
 * instruction's address, ESP) is reported as an offset from the value the program knows. */
#include "ktuser.h"
#include "ntexcept.h"

#ifdef __i386__

typedef struct _SEH_REGS {
    ULONG Eax, Ebx, Ecx, Edx, Esi, Edi, Ebp, EFlags;
} SEH_REGS;

/* Shared with the assembly below (i386 PE names carry a '_'). */
SEH_REGS SehIn, SehOut;
ULONG SehOp, SehEsp;
void SehRun(void);
extern const char SehOpRead[], SehOpReadEnd[], SehOpWrite[], SehOpWriteEnd[], SehOpInt3[], SehOpInt3End[],
    SehOpUd2[], SehOpUd2End[], SehOpDiv[], SehOpDivEnd[];

/* SehRun: SehIn into every register and EFlags, the op called (ESP at the op: SehEsp - 4),
 * then every register and EFlags into SehOut. */
__asm__(".text\n"
        "\t.globl _SehRun\n"
        "_SehRun:\n"
        "\tpushl %ebp\n\tpushl %ebx\n\tpushl %esi\n\tpushl %edi\n"
        "\tpushl _SehIn+28\n\tpopfl\n"
        "\tmovl _SehIn+0, %eax\n\tmovl _SehIn+4, %ebx\n\tmovl _SehIn+8, %ecx\n\tmovl _SehIn+12, %edx\n"
        "\tmovl _SehIn+16, %esi\n\tmovl _SehIn+20, %edi\n\tmovl _SehIn+24, %ebp\n"
        "\tmovl %esp, _SehEsp\n"
        "\tcall *_SehOp\n"
        "\tpushfl\n"
        "\tmovl %eax, _SehOut+0\n\tmovl %ebx, _SehOut+4\n\tmovl %ecx, _SehOut+8\n\tmovl %edx, _SehOut+12\n"
        "\tmovl %esi, _SehOut+16\n\tmovl %edi, _SehOut+20\n\tmovl %ebp, _SehOut+24\n"
        "\tpopl _SehOut+28\n"
        "\tpopl %edi\n\tpopl %esi\n\tpopl %ebx\n\tpopl %ebp\n"
        "\tcld\n"
        "\tret\n"
        "\t.globl _SehOpRead, _SehOpReadEnd, _SehOpWrite, _SehOpWriteEnd, _SehOpInt3, _SehOpInt3End\n"
        "\t.globl _SehOpUd2, _SehOpUd2End, _SehOpDiv, _SehOpDivEnd\n"
        "_SehOpRead:\n\tmovl (%edi), %eax\n_SehOpReadEnd:\n\tret\n"
        "_SehOpWrite:\n\tmovl %esi, (%edi)\n_SehOpWriteEnd:\n\tret\n"
        "_SehOpInt3:\n\tint3\n_SehOpInt3End:\n\tret\n"
        "_SehOpUd2:\n\tud2\n_SehOpUd2End:\n\tret\n"
        "_SehOpDiv:\n\tdivl %ecx\n_SehOpDivEnd:\n\tret\n");

#define ARITH_FLAGS 0x8D5u   /* CF PF AF ZF SF OF */
#define IF_FLAG 0x200u

typedef struct _SEH_CASE {
    PCSTR Name;
    ULONG Op, OpEnd;       /* the faulting instruction and the one after it; 0 for a raise */
    int FixReg;            /* the register the handler changes: 0 Eax .. 6 Ebp */
    ULONG FixValue;
    PVOID Frame;           /* the handler's registration record */
} SEH_CASE;

static SEH_CASE Case;
static ULONG HandlerCalls, PassCalls;
static ULONG64 State;

static ULONG64 Next(void)
{
    State += 0x9E3779B97F4A7C15ULL;
    ULONG64 z = State;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static PCSTR Key(PCSTR What)
{
    static char key[32];
    RtlFormatString(key, sizeof(key), "%s.%s", Case.Name, What);
    return key;
}

static PULONG Reg(PCONTEXT C, int Which)
{
    switch (Which) {
    case 0: return &C->Eax;
    case 1: return &C->Ebx;
    case 2: return &C->Ecx;
    case 3: return &C->Edx;
    case 4: return &C->Esi;
    case 5: return &C->Edi;
    default: return &C->Ebp;
    }
}

static ULONG __attribute__((cdecl)) SehHandler(PEXCEPTION_RECORD R, PVOID Frame, PCONTEXT C, PVOID Dispatcher)
{
    (void)Dispatcher;
    HandlerCalls++;
    KtuValue(Key("rec"), "0x%x 0x%x 0x%x %u 0x%x 0x%x %d", R->ExceptionCode, R->ExceptionFlags, R->ExceptionRecord,
             R->NumberParameters, R->ExceptionInformation[0], R->ExceptionInformation[1],
             Case.Op ? (int)(R->ExceptionAddress - Case.Op) : (int)(R->ExceptionAddress - C->Eip));
    if (Case.Op) {
        KtuValue(Key("ctx"), "0x%x 0x%x 0x%x 0x%x 0x%x 0x%x 0x%x 0x%x %u %d %d", C->Eax, C->Ebx, C->Ecx, C->Edx,
                 C->Esi, C->Edi, C->Ebp, C->EFlags & ARITH_FLAGS, (C->EFlags & IF_FLAG) != 0,
                 (int)(C->Eip - Case.Op), (int)(C->Esp - (SehEsp - 4)));
        C->Eip = Case.OpEnd;
    } else {
        char params[16 * 11 + 1];
        int n = 0;
        for (ULONG i = 0; i < R->NumberParameters && i < EXCEPTION_MAXIMUM_PARAMETERS; i++)
            n += RtlFormatString(params + n, sizeof(params) - n, "%s0x%x", i ? " " : "", R->ExceptionInformation[i]);
        params[n] = 0;
        KtuValue(Key("params"), "%s", params);
    }
    KtuValue(Key("seg"), "0x%x 0x%x 0x%x 0x%x 0x%x 0x%x 0x%x %u", C->SegCs, C->SegSs, C->SegDs, C->SegEs, C->SegFs,
             C->SegGs, C->ContextFlags, Frame == Case.Frame);
    *Reg(C, Case.FixReg) = Case.FixValue;
    C->EFlags ^= 1; /* CF */
    return ExceptionContinueExecution;
}

static ULONG __attribute__((cdecl)) SehPass(PEXCEPTION_RECORD R, PVOID Frame, PCONTEXT C, PVOID Dispatcher)
{
    (void)Frame, (void)C, (void)Dispatcher;
    PassCalls++;
    KtuValue(Key("pass"), "0x%x", R->ExceptionCode);
    return ExceptionContinueSearch;
}

static ULONG ReadFs0(void)
{
    ULONG v;
    __asm__ volatile("movl %%fs:0, %0" : "=r"(v)::"memory");
    return v;
}

static void WriteFs0(ULONG v)
{
    __asm__ volatile("movl %0, %%fs:0" ::"r"(v) : "memory");
}

static void Seed(void)
{
    SehIn.Eax = (ULONG)Next(), SehIn.Ebx = (ULONG)Next(), SehIn.Ecx = (ULONG)Next(), SehIn.Edx = (ULONG)Next();
    SehIn.Esi = (ULONG)Next(), SehIn.Edi = (ULONG)Next(), SehIn.Ebp = (ULONG)Next();
    SehIn.EFlags = ((ULONG)Next() & ARITH_FLAGS) | 0x202;
}

/* One fault with SehHandler on the chain (behind SehPass when Nested). */
static void Fault(PCSTR Name, const char *Op, const char *OpEnd, int FixReg, BOOLEAN Nested)
{
    volatile EXCEPTION_REGISTRATION_RECORD32 outer, inner;
    Seed();
    ULONG address = 0x100 + (ULONG)(Next() % 0xEF00);
    if (Op == SehOpRead || Op == SehOpWrite)
        SehIn.Edi = address;
    if (Op == SehOpDiv)
        SehIn.Ecx = 0;
    Case.Name = Name;
    Case.Op = (ULONG)Op;
    Case.OpEnd = (ULONG)OpEnd;
    Case.FixReg = FixReg;
    Case.FixValue = (ULONG)Next();
    Case.Frame = (PVOID)&outer;
    HandlerCalls = PassCalls = 0;
    ULONG saved = ReadFs0();
    outer.Next = saved;
    outer.Handler = (ULONG)SehHandler;
    WriteFs0((ULONG)&outer);
    if (Nested) {
        inner.Next = (ULONG)&outer;
        inner.Handler = (ULONG)SehPass;
        WriteFs0((ULONG)&inner);
    }
    SehOp = (ULONG)Op;
    SehRun();
    WriteFs0(saved);
    KtuValue(Key("after"), "0x%x 0x%x 0x%x 0x%x 0x%x 0x%x 0x%x 0x%x", SehOut.Eax, SehOut.Ebx, SehOut.Ecx, SehOut.Edx,
             SehOut.Esi, SehOut.Edi, SehOut.Ebp, SehOut.EFlags & ARITH_FLAGS);
    KtuValue(Key("calls"), "%u %u", HandlerCalls, PassCalls);
}

/* RtlRaiseException with NumberParameters parameters (seeded). */
static void Raise(PCSTR Name, ULONG NumberParameters)
{
    volatile EXCEPTION_REGISTRATION_RECORD32 reg;
    static EXCEPTION_RECORD record;
    record = (EXCEPTION_RECORD){0};
    record.ExceptionCode = 0xE0000000u | ((ULONG)Next() & 0x0FFFFFFF);
    record.NumberParameters = NumberParameters;
    for (ULONG i = 0; i < EXCEPTION_MAXIMUM_PARAMETERS; i++)
        record.ExceptionInformation[i] = i < NumberParameters ? (ULONG)Next() : 0;
    Case.Name = Name;
    Case.Op = Case.OpEnd = 0;
    Case.FixReg = 0;
    Case.FixValue = (ULONG)Next();
    Case.Frame = (PVOID)&reg;
    HandlerCalls = PassCalls = 0;
    ULONG saved = ReadFs0();
    reg.Next = saved;
    reg.Handler = (ULONG)SehHandler;
    WriteFs0((ULONG)&reg);
    NTSTATUS status = RtlRaiseException(&record);
    WriteFs0(saved);
    KtuValue(Key("ret"), "0x%x", (ULONG)status);
    KtuValue(Key("calls"), "%u %u", HandlerCalls, PassCalls);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        KtuPrint("usage: wowseh SEED");
        return 2;
    }
    State = RtlStringToUlong64(argv[1], NULL);
    KtuValue("chain", "0x%x", ReadFs0());
    Fault("read", SehOpRead, SehOpReadEnd, 0, FALSE);
    Fault("write", SehOpWrite, SehOpWriteEnd, 1, FALSE);
    Fault("int3", SehOpInt3, SehOpInt3End, 2, FALSE);
    Fault("ud2", SehOpUd2, SehOpUd2End, 3, FALSE);
    Fault("div", SehOpDiv, SehOpDivEnd, 4, FALSE);
    Fault("nested", SehOpWrite, SehOpWriteEnd, 5, TRUE);
    Fault("ebp", SehOpRead, SehOpReadEnd, 6, FALSE);
    Raise("raise", 1 + (ULONG)(Next() % EXCEPTION_MAXIMUM_PARAMETERS));
    Raise("raise16", EXCEPTION_MAXIMUM_PARAMETERS + 1 + (ULONG)(Next() % 8));
    /* The end: a write nothing handles. SehPass continues the search; the next record lies
     * outside the stack (.bss), where the dispatcher stops: its handler never runs. */
    volatile EXCEPTION_REGISTRATION_RECORD32 last;
    static EXCEPTION_REGISTRATION_RECORD32 outside;
    Seed();
    SehIn.Edi = 0x100 + (ULONG)(Next() % 0xEF00);
    Case.Name = "final";
    Case.Op = (ULONG)SehOpWrite;      /* (if the walk wrongly reached SehHandler, it would go on) */
    Case.OpEnd = (ULONG)SehOpWriteEnd;
    Case.FixReg = 0;
    Case.FixValue = 0;
    Case.Frame = &outside;
    outside.Next = ReadFs0();
    outside.Handler = (ULONG)SehHandler;
    last.Next = (ULONG)&outside;
    last.Handler = (ULONG)SehPass;
    WriteFs0((ULONG)&last);
    KtuValue("final.op", "0x%x", (ULONG)SehOpWrite);
    SehOp = (ULONG)SehOpWrite;
    SehRun();
    KtuPrint("the final fault came back");
    return 1;
}

#else

int main(int argc, char **argv)
{
    (void)argc, (void)argv;
    KtuPrint("wowseh is a 32-bit program");
    return 2;
}

#endif
