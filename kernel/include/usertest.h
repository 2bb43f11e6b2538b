/* usertest.h - the checkpoint harness for user programs (framework, img/lab 08-09;
 * kernel/ps/usertest.c). How to write a checkpoint that judges a user program:
 *
 *   1. The program: user/programs/<name>.c with main(argc, argv) (user/include/ktuser.h). It
 *      reports with KtuValue("key", "fmt", ...) / KtuCheck(cond, "check", ...) / KtuPrint, and
 *      its exit status is main's return value. The build makes <name>.exe and carries it.
 *   2. The ktest (in your lab's tests/): derive the arguments from the seed with KtRandom /
 *      KtRandomRange, build the command line, and call
 *          KT_USER_RUN run;
 *          if (!KtRunUserProgram(Context, "<name>.exe", cmdline, &run)) return;
 *      It creates a process (PsCreateUserProcessObject), maps the image and ntdll.dll
 *      (LdrLoadProcessImages), writes the command line into the process parameters (the
 *      PEB's ProcessParameters, NT x64's layout), starts the initial thread at the entry
 *      point with the PEB in RCX, waits for the process to end and reports:
 *          KTEST VALUE <test> user<k>.start <name> <command line>
 *          KTEST VALUE <test> u<k>.<key> <value>      (each KtuValue of the program)
 *          KTEST VALUE <test> u<k>.<check> ok <detail>  (each KtuCheck that holds)
 *          KTEST CHECK <test> user_check FAIL u<k>.<check>: <detail>   (each that fails)
 *          KTEST VALUE <test> u<k>.print <text>       (each KtuPrint)
 *          KTEST VALUE <test> user<k>.exit 0x<exit status>
 *          KTEST VALUE <test> user<k>.exception 0x<code> 0x<rip>   (if one ended it)
 *      (<k> counts the runs of the test from 1, so one test may run several programs.)
 *   3. The checkpoint (lab.toml) names the ktest and a model (grader/models/<model>.py) that
 *      recomputes the arguments from the seed (grader/models/rng.py's KtRng is KtRandom) and
 *      judges every u<k>.* and user<k>.exit record: the grader judges, the kernel reports.
 *      grader/models/usertest.py (the seedcalc example, ktest user.seedcalc) is the model to copy.
 *
 * A run that cannot start (no image, a stub of lab 06/08 on the path) is a failed check
 * "user_start" naming the status (STATUS_NOT_IMPLEMENTED: "not implemented", the lab named).
 * Records from a program are refused outside a run, and past KT_USER_MAX_RECORDS.
 */
#pragma once

#include "ktest.h"

#define KT_USER_MAX_RECORDS 512
/* NtKtestRecord's kinds (the same numbers as user/include/ntuser.h). */
#define KTEST_RECORD_PRINT 0
#define KTEST_RECORD_VALUE 1
#define KTEST_RECORD_CHECK_OK 2
#define KTEST_RECORD_CHECK_FAIL 3
#define KTEST_RECORD_MAX_LENGTH 200
#define KT_USER_STACK_PAGES 8
/* A program still running this long (guest time) is ended with STATUS_TIMEOUT: a failed
 * check "user_time", never a hang of the whole run. */
#define KT_USER_TIME_LIMIT_MS 3000
/* Where the harness puts the process parameters and their strings. */
#define KT_USER_PARAMETERS_ADDRESS 0x0000000000030000ULL

typedef struct _KT_USER_RUN {
    NTSTATUS Status;            /* of starting it (STATUS_SUCCESS: it ran and ended) */
    NTSTATUS ExitStatus;        /* the process's exit status */
    NTSTATUS ExceptionCode;     /* the unhandled exception that ended it; 0 if none */
    ULONG64 ExceptionAddress;
    ULONG Records;              /* NtKtestRecord calls written */
    ULONG Refused;              /* NtKtestRecord calls refused (bad kind, length, pointer, too many) */
    ULONG ChecksFailed;         /* KtuCheck FAILs */
    ULONG Index;                /* <k>: this run's number in the test, from 1 */
    ULONG_PTR ImageBase;
    ULONG_PTR EntryPoint;
} KT_USER_RUN, *PKT_USER_RUN;

/* Runs Program (a name under \SystemRoot\System32) with CommandLine (argv[0] first; at most
 * 400 characters) to its end, as described above. IRQL PASSIVE_LEVEL, on the test's thread.
 * TRUE if it started and ended (whatever its exit status); FALSE with a failed check
 * "user_start" otherwise. */
BOOLEAN KtRunUserProgram(PKTEST_CONTEXT Context, PCSTR Program, PCSTR CommandLine, PKT_USER_RUN Run);

/* The record service (user/services.def; the user side is ktuser.h): Kind 0 print, 1 value
 * "key value", 2 check ok "check detail", 3 check failed; Text Length bytes (1..200), a key
 * of letters, digits, '_', '-' and '.'. STATUS_NOT_SUPPORTED outside a harness run (or from
 * another process), STATUS_INVALID_PARAMETER for a bad kind, length or key, the probe's
 * status for a bad pointer (STATUS_ACCESS_VIOLATION ...), STATUS_QUOTA_EXCEEDED past
 * KT_USER_MAX_RECORDS. */
NTSTATUS NtKtestRecord(ULONG Kind, PCSTR Text, ULONG Length);

/* Lab 09: the same for a 32-bit program (\SystemRoot\SysWOW64\<Program> and its 32-bit ntdll),
 * started through the wow64 layer (kernel/ps/wow64run.c) in a WOW64 process; the records and
 * verdicts are the same as KtRunUserProgram's. */
BOOLEAN KtRunWow64Program(PKTEST_CONTEXT Context, PCSTR Program, PCSTR CommandLine, PKT_USER_RUN Run);
/* w16f: the process of the run in progress (started by another thread of the test), referenced,
 * or NULL; the caller dereferences it. */
struct _EPROCESS *KtReferenceRunningUserProcess(VOID);
