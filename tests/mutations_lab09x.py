"""Lab 09 exception mutation cases (w16x): each breaks labs/09-wow64/exception.c's reference the
way a student plausibly would, one contract clause at a time (handouts/09-wow64.md, "Exceptions
in 32-bit code"), and names the checkpoint that must fail and words its output must contain.
Same form as tests/test_mutations.py: (id, lab, file under solutions/, old text, new text,
{checkpoint: words})."""

X = "09-wow64/exception.c"

CASES = [
    # ---- Wow64ExceptionRecordTo32 ----
    ("seh-record-parameters-not-capped", 9, X,
     "r.NumberParameters = Record->NumberParameters < EXCEPTION_MAXIMUM_PARAMETERS ? Record->NumberParameters\n"
     "                                                                                : EXCEPTION_MAXIMUM_PARAMETERS;\n"
     "    for (ULONG i = 0; i < r.NumberParameters; i++)",
     "r.NumberParameters = Record->NumberParameters;\n"
     "    for (ULONG i = 0; i < r.NumberParameters && i < EXCEPTION_MAXIMUM_PARAMETERS; i++)",
     {"exception_conversions": "capped at 15"}),
    ("seh-record-last-parameter-dropped", 9, X,
     "    for (ULONG i = 0; i < r.NumberParameters; i++)\n        r.ExceptionInformation[i] = (ULONG)Record->",
     "    for (ULONG i = 0; i + 1 < r.NumberParameters; i++)\n        r.ExceptionInformation[i] = (ULONG)Record->",
     {"exceptions": "ExceptionInformation[1]", "exception_conversions": "truncated to 32 bits for i <"}),
    ("seh-record-nested-pointer-dropped", 9, X,
     "    r.ExceptionRecord = (ULONG)Record->ExceptionRecord;\n", "",
     {"exception_conversions": "nested ExceptionRecord truncated"}),
    # ---- Wow64ContextTo32 ----
    ("seh-context-esp-from-rbp", 9, X,
     "Context32->Esp = (ULONG)Context->Rsp;", "Context32->Esp = (ULONG)Context->Rbp;",
     {"exceptions": "Esp = the low 32 bits of Rsp", "exception_conversions": "Esp = the low 32 bits of Rsp"}),
    ("seh-context-fs-flat", 9, X,
     "Context32->SegFs = KGDT64_R3_CMTEB_SEL;", "Context32->SegFs = KGDT64_R3_DATA_SEL;",
     {"exceptions": "SegFs 0x53", "exception_conversions": "SegFs 0x53"}),
    ("seh-context-cs-copied", 9, X,
     "Context32->SegCs = KGDT64_R3_CMCODE_SEL;", "Context32->SegCs = Context->SegCs;",
     {"exception_conversions": "SegCs 0x23"}),
    ("seh-context-flags-native", 9, X,
     "Context32->ContextFlags = CONTEXT_i386_FULL;", "Context32->ContextFlags = Context->ContextFlags;",
     {"exceptions": "CONTEXT_i386_FULL", "exception_conversions": "CONTEXT_i386_FULL"}),
    ("seh-context-not-cleared", 9, X,
     "    *Context32 = (CONTEXT32){0};\n", "",
     {"exception_conversions": "not captured"}),
    # ---- Wow64ContextFrom32 ----
    ("seh-from32-sign-extends", 9, X,
     "Context->Rax = Context32->Eax;", "Context->Rax = (ULONG64)(LONG64)(LONG)Context32->Eax;",
     {"exception_conversions": "never a copy of bit 31"}),
    ("seh-from32-cs-copied", 9, X,
     "Context->SegCs = KGDT64_R3_CMCODE_SEL;", "Context->SegCs = (USHORT)Context32->SegCs;",
     {"exception_conversions": "never 64-bit code"}),
    ("seh-from32-eflags-dropped", 9, X,
     "    Context->EFlags = Context32->EFlags;\n", "",
     {"exceptions": "EFlags copied both ways", "exception_conversions": "EFlags copied"}),
    ("seh-from32-ebp-dropped", 9, X,
     "    Context->Rbp = Context32->Ebp;\n", "",
     {"exceptions": "Rbp = Ebp zero-extended", "exception_conversions": "Rbp = Ebp zero-extended"}),
    # ---- Wow64ExceptionRecordFrom32 ----
    ("seh-from32-record-capped", 9, X,
     "if (Record32 == NULL || Record == NULL || Record32->NumberParameters > EXCEPTION_MAXIMUM_PARAMETERS)\n"
     "        return STATUS_INVALID_PARAMETER;\n"
     "    EXCEPTION_RECORD64 r = {0};\n"
     "    r.ExceptionCode = Record32->ExceptionCode;\n"
     "    r.ExceptionFlags = Record32->ExceptionFlags;\n"
     "    r.ExceptionRecord = Record32->ExceptionRecord;\n"
     "    r.ExceptionAddress = Record32->ExceptionAddress;\n"
     "    r.NumberParameters = Record32->NumberParameters;",
     "if (Record32 == NULL || Record == NULL)\n"
     "        return STATUS_INVALID_PARAMETER;\n"
     "    EXCEPTION_RECORD64 r = {0};\n"
     "    r.ExceptionCode = Record32->ExceptionCode;\n"
     "    r.ExceptionFlags = Record32->ExceptionFlags;\n"
     "    r.ExceptionRecord = Record32->ExceptionRecord;\n"
     "    r.ExceptionAddress = Record32->ExceptionAddress;\n"
     "    r.NumberParameters = Record32->NumberParameters > EXCEPTION_MAXIMUM_PARAMETERS ? EXCEPTION_MAXIMUM_PARAMETERS\n"
     "                                                                                  : Record32->NumberParameters;",
     {"exceptions": "never capped", "exception_conversions": "never capped"}),
    ("seh-from32-address-sign-extended", 9, X,
     "r.ExceptionAddress = Record32->ExceptionAddress;",
     "r.ExceptionAddress = (ULONG64)(LONG64)(LONG)Record32->ExceptionAddress;",
     {"exception_conversions": "ExceptionAddress zero-extended"}),
    ("seh-null-not-refused", 9, X,
     "    if (Context == NULL || Context32 == NULL)\n        return STATUS_INVALID_PARAMETER;\n"
     "    *Context32",
     "    if (Context32 == NULL)\n        return STATUS_INVALID_PARAMETER;\n    if (Context == NULL)\n"
     "        return STATUS_SUCCESS;\n    *Context32",
     {"exception_conversions": "NULL"}),
]
