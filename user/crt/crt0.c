/* crt0.c - the C run-time start of a native user program: NtProcessStartup (the image's
 * entry point, called by the kernel's first entry to user mode with the PEB in rcx, as NT's
 * native programs start) splits the command line of the process parameters into argv,
 * calls main, and ends the process with main's return value as its exit status (if that
 * service fails, with an illegal-instruction exception). */
#include "ktuser.h"

#define MAX_ARGS 32
#define MAX_LINE 512

static char CrtLine[MAX_LINE];
static char *CrtArgv[MAX_ARGS + 1];

/* The command line (UTF-16) as ASCII, split at spaces; characters past 0x7f become '?'. */
static int CrtSplitCommandLine(PPEB Peb)
{
    int argc = 0;
    PRTL_USER_PROCESS_PARAMETERS pp = Peb ? Peb->ProcessParameters : NULL;
    if (!pp || !pp->CommandLine.Buffer)
        return 0;
    ULONG n = pp->CommandLine.Length / sizeof(WCHAR);
    if (n > MAX_LINE - 1)
        n = MAX_LINE - 1;
    for (ULONG i = 0; i < n; i++) {
        WCHAR c = pp->CommandLine.Buffer[i];
        CrtLine[i] = c < 0x80 ? (char)c : '?';
    }
    CrtLine[n] = 0;
    char *p = CrtLine;
    while (*p && argc < MAX_ARGS) {
        while (*p == ' ')
            *p++ = 0;
        if (!*p)
            break;
        CrtArgv[argc++] = p;
        while (*p && *p != ' ')
            p++;
    }
    CrtArgv[argc] = NULL;
    return argc;
}

__attribute__((noreturn)) void NtProcessStartup(PPEB Peb)
{
    int argc = CrtSplitCommandLine(Peb);
    int status = main(argc, CrtArgv);
    NtTerminateProcess(NtCurrentProcess(), status);
    /* Still here: the service failed (a stubbed dispatcher). An invalid instruction ends the
     * process through its exception instead of spinning. */
    for (;;)
        __builtin_trap();
}
