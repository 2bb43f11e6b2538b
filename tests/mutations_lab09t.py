"""Lab 09 mutation cases, threads (w16t): the threads checkpoint (ktest wow64.threads,
user/programs/wowthreads.c, grader/models/lab09t.py) against a student's plausible bugs in
the wait thunk and the redirection state, and against the framework's context switch (paths
starting with ../ name framework files: the case breaks the framework, not a solution).
Same form as tests/test_mutations.py: (id, lab, file under solutions/, old text, new text,
{checkpoint: words})."""

T = "09-wow64/thunk.c"
R = "09-wow64/redirect.c"

CASES = [
    # ---- the student's thunks, seen from a multi-threaded 32-bit program ----
    ("wowt-wait-timeout-low-half", 9, T,
     "    return NtWaitForSingleObject(Wow64Handle(Args[0]), (BOOLEAN)Args[1], Wow64ConvertLargeInteger(Args[2], "
     "&timeout));",
     "    if (Args[2])\n        timeout.QuadPart = (LONG)((PLARGE_INTEGER32)Wow64Ptr(Args[2]))->LowPart;\n"
     "    return NtWaitForSingleObject(Wow64Handle(Args[0]), (BOOLEAN)Args[1], Args[2] ? &timeout : NULL);",
     {"threads": "low half alone"}),
    ("wowt-wait-handle-zero-extended", 9, T,
     "    return NtWaitForSingleObject(Wow64Handle(Args[0]), (BOOLEAN)Args[1],",
     "    return NtWaitForSingleObject(Wow64Ptr(Args[0]), (BOOLEAN)Args[1],",
     {"threads": "sign-extended"}),
    # ---- redirection state kept per process (one flag) instead of per thread ----
    ("wowt-redirection-state-shared", 9, R,
     '#include "wow64t.h"\n',
     '#include "wow64t.h"\nstatic WOW64_THREAD_DATA Wow64SharedState;\n'
     '#define Wow64CurrentThreadData() (&Wow64SharedState)\n',
     {"threads": "per thread"}),
    # ---- the framework's context switch ----
    ("wowt-ctxswap-teb32-base-not-set", 9, "../kernel/ke/thread.c",
     "        KiSetTeb32Base(New->Teb32);\n", "",
     {"threads": "0x53"}),
    ("wowt-ctxswap-fs-not-reloaded", 9, "../kernel/ke/thread.c",
     '        __asm__ volatile("movl %0, %%fs" : : "r"((ULONG)KGDT64_R3_CMTEB) : "memory");\n', "",
     {"threads": "0x53"}),
]
